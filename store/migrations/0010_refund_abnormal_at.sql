-- When paydesk first recorded a refund ABNORMAL (WeChat Pay's 退款异常): its
-- money left the merchant's account then, and a later payout (异常退款
-- handled, SUCCESS) moves nothing more. A fund-flow run expects a refund's
-- movement on the day its money left: this day if set, else its success.
ALTER TABLE refunds ADD COLUMN abnormal_at INTEGER;
CREATE INDEX refunds_by_abnormal ON refunds (abnormal_at) WHERE abnormal_at IS NOT NULL;
-- Refunds ABNORMAL before this column: the last change paydesk recorded of
-- them is the nearest it knows of when they went ABNORMAL.
UPDATE refunds SET abnormal_at = updated_at WHERE status = 'ABNORMAL';
