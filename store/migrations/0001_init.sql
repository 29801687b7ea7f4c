-- Orders: the merchant's own record of what was sold.
CREATE TABLE orders (
    id           INTEGER PRIMARY KEY,
    out_trade_no TEXT    NOT NULL UNIQUE,
    channel      TEXT    NOT NULL CHECK (channel IN ('alipay', 'wechat')),
    amount       INTEGER NOT NULL CHECK (amount > 0),
    currency     TEXT    NOT NULL DEFAULT 'CNY',
    subject      TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL CHECK (status IN ('PENDING', 'PAID', 'CLOSED', 'REFUNDED', 'PARTIALLY_REFUNDED')),
    trade_no     TEXT,
    paid_at      INTEGER,
    paid_via     TEXT CHECK (paid_via IN ('notify', 'query', 'import')),
    refunded     INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- Keyset paging walks (created_at, id); every index ends in the rowid, so
-- these serve ORDER BY created_at, id without a sort. A channel filter rides
-- on them (two channels: a page scans at most a few hundred rows), which
-- spares two indexes on the import path.
CREATE INDEX orders_by_created ON orders (created_at);
CREATE INDEX orders_by_status ON orders (status, created_at);
CREATE INDEX orders_by_trade_no ON orders (trade_no) WHERE trade_no IS NOT NULL;

-- Orders per (channel, status), so the console's totals are instant at a
-- million orders. Inserts are counted by the importer (one UPDATE per import
-- instead of one per row); status and channel changes by the trigger.
CREATE TABLE order_counts (
    channel TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (channel, status)
) WITHOUT ROWID;
INSERT INTO order_counts (channel, status, n)
    SELECT c.channel, s.status, 0
    FROM (SELECT 'alipay' AS channel UNION ALL SELECT 'wechat') AS c,
         (SELECT 'PENDING' AS status UNION ALL SELECT 'PAID' UNION ALL SELECT 'CLOSED'
          UNION ALL SELECT 'REFUNDED' UNION ALL SELECT 'PARTIALLY_REFUNDED') AS s;
CREATE TRIGGER order_counts_on_change AFTER UPDATE OF status, channel ON orders
    WHEN OLD.status <> NEW.status OR OLD.channel <> NEW.channel
BEGIN
    UPDATE order_counts SET n = n - 1 WHERE channel = OLD.channel AND status = OLD.status;
    UPDATE order_counts SET n = n + 1 WHERE channel = NEW.channel AND status = NEW.status;
END;

-- Payments of an order by a trade other than the one that paid it: each is
-- money received twice for one order and must be refunded or explained.
CREATE TABLE duplicate_payments (
    id           INTEGER PRIMARY KEY,
    out_trade_no TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    trade_no     TEXT    NOT NULL,
    amount       INTEGER NOT NULL,
    paid_at      INTEGER,
    source       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (channel, trade_no)
);
CREATE INDEX duplicate_payments_by_order ON duplicate_payments (out_trade_no);

-- Every callback exactly as it arrived, stored before anything is done with it.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    remote_addr     TEXT    NOT NULL DEFAULT '',
    headers         TEXT    NOT NULL DEFAULT '{}',
    body            BLOB    NOT NULL,
    verify_status   TEXT    NOT NULL DEFAULT 'UNVERIFIED' CHECK (verify_status IN ('UNVERIFIED', 'VERIFIED', 'REJECTED')),
    verify_error    TEXT    NOT NULL DEFAULT '',
    apply_status    TEXT    NOT NULL DEFAULT 'PENDING',
    apply_detail    TEXT    NOT NULL DEFAULT '',
    event           TEXT    NOT NULL DEFAULT '',
    notify_id       TEXT    NOT NULL DEFAULT '',
    out_trade_no    TEXT    NOT NULL DEFAULT '',
    trade_no        TEXT    NOT NULL DEFAULT '',
    out_request_no  TEXT    NOT NULL DEFAULT '',
    amount          INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER
);
CREATE INDEX notifications_by_received ON notifications (received_at);
CREATE INDEX notifications_by_order ON notifications (out_trade_no);
CREATE INDEX notifications_by_apply ON notifications (apply_status, received_at);

-- Each intake and each replay of a notification, with its outcome.
CREATE TABLE notification_attempts (
    id              INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    at              INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('intake', 'replay')),
    operator        TEXT    NOT NULL DEFAULT '',
    verify_status   TEXT    NOT NULL,
    apply_status    TEXT    NOT NULL,
    detail          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id);

-- Each live trade query and what the platform answered.
CREATE TABLE trade_queries (
    id             INTEGER PRIMARY KEY,
    channel        TEXT    NOT NULL,
    out_trade_no   TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    operator       TEXT    NOT NULL DEFAULT '',
    state          TEXT    NOT NULL DEFAULT '',
    platform_state TEXT    NOT NULL DEFAULT '',
    trade_no       TEXT    NOT NULL DEFAULT '',
    amount         INTEGER,
    latency_ms     INTEGER NOT NULL DEFAULT 0,
    error          TEXT    NOT NULL DEFAULT '',
    raw            BLOB
);
CREATE INDEX trade_queries_by_order ON trade_queries (out_trade_no, at);

-- Refund requests. out_request_no is the idempotency key sent to the platform.
CREATE TABLE refunds (
    id             INTEGER PRIMARY KEY,
    out_request_no TEXT    NOT NULL UNIQUE,
    out_trade_no   TEXT    NOT NULL REFERENCES orders (out_trade_no),
    channel        TEXT    NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    reason         TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL CHECK (status IN ('PENDING', 'SUCCESS', 'FAILED')),
    refund_id      TEXT    NOT NULL DEFAULT '',
    source         TEXT    NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'platform')),
    needs_review   INTEGER NOT NULL DEFAULT 0,
    operator       TEXT    NOT NULL DEFAULT '',
    error          TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    refunded_at    INTEGER
);
CREATE INDEX refunds_by_order ON refunds (out_trade_no);
CREATE INDEX refunds_by_status ON refunds (status, created_at);
CREATE INDEX refunds_by_created ON refunds (created_at);

-- Who did what, when, and how it ended.
CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    operator TEXT    NOT NULL,
    role     TEXT    NOT NULL DEFAULT '',
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL DEFAULT '',
    detail   TEXT    NOT NULL DEFAULT '',
    outcome  TEXT    NOT NULL CHECK (outcome IN ('ok', 'error', 'denied')),
    error    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_at ON audit (at);
CREATE INDEX audit_by_target ON audit (target);
