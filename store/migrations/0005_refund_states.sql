-- WeChat's ABNORMAL refund (退款异常: the money left the merchant and did not
-- reach the buyer) is a status of its own, and a refund remembers when the
-- platform's answer last failed to come (unknown_at), since a refund query
-- sooner than [refund] query_after after that proves nothing. SQLite cannot
-- change a CHECK constraint in place: the table is rebuilt, rows and
-- indexes as they were.
CREATE TABLE refunds_new (
    id             INTEGER PRIMARY KEY,
    out_request_no TEXT    NOT NULL UNIQUE,
    out_trade_no   TEXT    NOT NULL REFERENCES orders (out_trade_no),
    channel        TEXT    NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    reason         TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED', 'ABNORMAL')),
    refund_id      TEXT    NOT NULL DEFAULT '',
    source         TEXT    NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'platform')),
    needs_review   INTEGER NOT NULL DEFAULT 0,
    operator       TEXT    NOT NULL DEFAULT '',
    error          TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    refunded_at    INTEGER,
    trade_no       TEXT    NOT NULL DEFAULT '',
    unknown_at     INTEGER
);
INSERT INTO refunds_new (id, out_request_no, out_trade_no, channel, amount, reason, status, refund_id, source, needs_review,
                         operator, error, created_at, updated_at, refunded_at, trade_no)
    SELECT id, out_request_no, out_trade_no, channel, amount, reason, status, refund_id, source, needs_review,
           operator, error, created_at, updated_at, refunded_at, trade_no FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_new RENAME TO refunds;
CREATE INDEX refunds_by_order ON refunds (out_trade_no);
CREATE INDEX refunds_by_status ON refunds (status, created_at);
CREATE INDEX refunds_by_created ON refunds (created_at);
CREATE INDEX refunds_by_refunded ON refunds (refunded_at) WHERE refunded_at IS NOT NULL;
CREATE INDEX refunds_by_trade ON refunds (trade_no) WHERE trade_no <> '';

-- Which key verified each callback (WeChat names it in Wechatpay-Serial: the
-- platform public key or one of the platform certificates), or the serial
-- it named when no configured key has it.
ALTER TABLE notifications ADD COLUMN verify_key TEXT NOT NULL DEFAULT '';
ALTER TABLE notification_attempts ADD COLUMN verify_key TEXT NOT NULL DEFAULT '';
