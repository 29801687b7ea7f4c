-- Reconciliation needs the orders of a business day by payment time.
CREATE INDEX orders_by_paid ON orders (paid_at) WHERE paid_at IS NOT NULL;
CREATE INDEX refunds_by_refunded ON refunds (refunded_at) WHERE refunded_at IS NOT NULL;

-- Bills as received. The bill bytes stay in a file beside the database
-- (path), named by their sha256: a million-line bill is read again for an
-- export far more cheaply than it would be copied row by row into SQLite.
CREATE TABLE bills (
    id         INTEGER PRIMARY KEY,
    channel    TEXT    NOT NULL,
    day        TEXT    NOT NULL, -- YYYY-MM-DD, the business date
    source     TEXT    NOT NULL CHECK (source IN ('download', 'file')),
    file_name  TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    stated     TEXT    NOT NULL, -- JSON gateway.BillTotals as the bill states them
    computed   TEXT    NOT NULL, -- JSON gateway.BillTotals of its lines
    lines      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (channel, day, sha256)
);

CREATE TABLE recon_runs (
    id            INTEGER PRIMARY KEY,
    channel       TEXT    NOT NULL,
    day           TEXT    NOT NULL,
    bill_id       INTEGER NOT NULL REFERENCES bills (id),
    operator      TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER NOT NULL,
    orders        INTEGER NOT NULL, -- local orders considered
    lines         INTEGER NOT NULL, -- bill lines matched
    counts        TEXT    NOT NULL, -- JSON {category: {count, amount}}
    fees          INTEGER NOT NULL,
    net           INTEGER NOT NULL,
    carry         TEXT    NOT NULL, -- JSON: CROSS_DAY items handed to the next day's run
    settled       TEXT    NOT NULL, -- JSON: earlier CROSS_DAY items this run settled
    notices       TEXT    NOT NULL, -- JSON: matched items worth a look
    superseded_by INTEGER REFERENCES recon_runs (id)
);
CREATE INDEX recon_runs_by_day ON recon_runs (channel, day);

-- Findings of the current run of each (channel, day). A re-run replaces
-- them and carries each resolution over by fingerprint.
CREATE TABLE findings (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES recon_runs (id),
    channel         TEXT    NOT NULL,
    day             TEXT    NOT NULL,
    first_day       TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    side            TEXT    NOT NULL DEFAULT '',
    out_trade_no    TEXT    NOT NULL DEFAULT '',
    trade_no        TEXT    NOT NULL DEFAULT '',
    out_request_no  TEXT    NOT NULL DEFAULT '',
    local_amount    INTEGER NOT NULL DEFAULT 0,
    platform_amount INTEGER NOT NULL DEFAULT 0,
    local_status    TEXT    NOT NULL DEFAULT '',
    platform_status TEXT    NOT NULL DEFAULT '',
    notify_status   TEXT    NOT NULL DEFAULT '',
    bill_line       INTEGER NOT NULL DEFAULT 0,
    detail          TEXT    NOT NULL DEFAULT '',
    fingerprint     TEXT    NOT NULL,
    resolution      TEXT    NOT NULL DEFAULT '' CHECK (resolution IN ('', 'resolved', 'ignored')),
    note            TEXT    NOT NULL DEFAULT '',
    resolver        TEXT    NOT NULL DEFAULT '',
    resolved_at     INTEGER
);
CREATE INDEX findings_by_run ON findings (run_id, category);
CREATE INDEX findings_by_day ON findings (channel, day);
CREATE INDEX findings_by_order ON findings (out_trade_no);
