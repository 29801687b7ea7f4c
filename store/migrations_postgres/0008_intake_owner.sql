-- Which process took each callback in (0: none recorded). A process that
-- starts finishes the callbacks a crash left undecided, but only those of
-- a process that is gone: another `serve` may be deciding its own right now.
ALTER TABLE notifications ADD COLUMN intake_owner INTEGER NOT NULL DEFAULT 0;
