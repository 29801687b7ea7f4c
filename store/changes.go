package store

import "context"

// Changes is a stamp of what the store holds, cheap enough to read every
// second from every console: the newest id of each table that grows with
// every change. Two stamps are equal when nothing was written between
// them, whichever process wrote it (serve, the CLI from cron, another
// console). A screen compares the fields it shows and reloads only when
// one moved.
//
// No transition updates a row without also adding one, in the same
// transaction or right after it, to a table counted here: a callback that
// pays, closes or refunds adds its attempt; a live query that marks an
// order paid adds its query; an import adds orders; a refund is a new row,
// and its outcome and every other operator action (a retry, a resolution, a
// bulk replay, an export) an audit entry; a reconciliation is a new run,
// which carries its findings. So the stamp moves with every change without
// a counter to bump in each transition, and without a trigger.
//
// Reading it is seven lookups of the largest key of a primary-key index,
// which SQLite and PostgreSQL both answer from the end of the index: the
// cost does not grow with the tables (bench/README.md has the figure at a
// million orders).
type Changes struct {
	Orders        int64 `json:"orders"`        // orders imported
	Notifications int64 `json:"notifications"` // callbacks received, stored raw
	Attempts      int64 `json:"attempts"`      // callbacks verified and applied, or replayed
	Queries       int64 `json:"queries"`       // live queries
	Refunds       int64 `json:"refunds"`       // refund requests
	Runs          int64 `json:"runs"`          // reconciliation runs
	Audit         int64 `json:"audit"`         // operator actions
}

// changesSQL is plain SQL that both engines run as it is.
const changesSQL = `SELECT
	(SELECT coalesce(max(id), 0) FROM orders),
	(SELECT coalesce(max(id), 0) FROM notifications),
	(SELECT coalesce(max(id), 0) FROM notification_attempts),
	(SELECT coalesce(max(id), 0) FROM trade_queries),
	(SELECT coalesce(max(id), 0) FROM refunds),
	(SELECT coalesce(max(id), 0) FROM recon_runs),
	(SELECT coalesce(max(id), 0) FROM audit)`

// Changes reads the current stamp.
func (s *Store) Changes(ctx context.Context) (Changes, error) {
	var c Changes
	err := s.r.QueryRowContext(ctx, changesSQL).Scan(&c.Orders, &c.Notifications, &c.Attempts, &c.Queries, &c.Refunds, &c.Runs, &c.Audit)
	return c, err
}
