-- The PostgreSQL twin of migrations/0006_audit_via.sql: how the operator
-- reached paydesk when not on the host itself ("ssh" and the client's
-- address); empty for the local console and the command line.
ALTER TABLE audit ADD COLUMN via TEXT NOT NULL DEFAULT '';
