-- The PostgreSQL twin of migrations/0004_unverified_cap.sql.
-- A callback from a sender over its per-minute cap on unverified traffic
-- keeps only its first bytes; body_size is the size its body arrived with
-- (NULL: the body is whole).
ALTER TABLE notifications ADD COLUMN body_size BIGINT;

-- Beyond the cap, callbacks that fail verification are counted here, one
-- row per sender, channel and minute, instead of stored one by one.
CREATE TABLE notification_overflow (
    sender   TEXT   NOT NULL,
    channel  TEXT   NOT NULL,
    minute   BIGINT NOT NULL, -- start of the minute, Unix ms
    requests BIGINT NOT NULL,
    bytes    BIGINT NOT NULL,
    PRIMARY KEY (sender, channel, minute)
);
CREATE INDEX notification_overflow_by_minute ON notification_overflow (minute);

-- Pruning old rejected callbacks finds them by outcome and age.
CREATE INDEX notifications_by_verify ON notifications (verify_status, received_at);
