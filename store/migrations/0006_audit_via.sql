-- How the operator reached paydesk when not on the host itself: "ssh" and
-- the client's address for the SSH console; empty for the local console and
-- the command line.
ALTER TABLE audit ADD COLUMN via TEXT NOT NULL DEFAULT '';
