-- A duplicate payment is refunded against its own trade, not the order's:
-- refunds name that trade, and each duplicate keeps its refunded total.
ALTER TABLE refunds ADD COLUMN trade_no TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE duplicate_payments ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount);
CREATE INDEX refunds_by_trade ON refunds (trade_no) WHERE trade_no <> '';
