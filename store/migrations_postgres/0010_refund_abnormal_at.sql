-- The PostgreSQL twin of migrations/0010_refund_abnormal_at.sql: when
-- paydesk first recorded a refund ABNORMAL, the day its money left.
ALTER TABLE refunds ADD COLUMN abnormal_at BIGINT;
CREATE INDEX refunds_by_abnormal ON refunds (abnormal_at) WHERE abnormal_at IS NOT NULL;
-- Refunds ABNORMAL before this column: the last change paydesk recorded of
-- them is the nearest it knows of when they went ABNORMAL.
UPDATE refunds SET abnormal_at = updated_at WHERE status = 'ABNORMAL';
