-- The PostgreSQL twin of migrations/0005_refund_states.sql: WeChat's
-- ABNORMAL refund is a status of its own, and a refund remembers when the
-- platform's answer last failed to come (unknown_at). PostgreSQL changes the
-- CHECK constraint in place (SQLite rebuilds the table).
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED', 'ABNORMAL'));
ALTER TABLE refunds ADD COLUMN unknown_at BIGINT;

-- Which key verified each callback, or the serial it named when no
-- configured key has it.
ALTER TABLE notifications ADD COLUMN verify_key TEXT NOT NULL DEFAULT '';
ALTER TABLE notification_attempts ADD COLUMN verify_key TEXT NOT NULL DEFAULT '';
