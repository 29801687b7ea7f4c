// Package store owns paydesk's SQLite database: the schema and its numbered
// migrations, the queries, and the state transitions of orders, refunds and
// notifications. Every transition runs in a transaction that re-checks the
// current state, so applying the same fact twice (concurrently or later)
// changes nothing the second time.
//
// Times are stored as INTEGER milliseconds since the Unix epoch (UTC); money
// as INTEGER fen.
package store
