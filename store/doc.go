// Package store owns paydesk's database, on SQLite (a file, the default) or
// PostgreSQL (a postgres:// URL), chosen by Open and invisible above it
// (ARCHITECTURE.md §12): the schema and each engine's numbered migrations,
// the queries, the state transitions of orders, refunds and notifications,
// the intake owners, the kept bills and reconciliation runs, and the copy of
// an SQLite workspace into PostgreSQL. Every transition runs in a
// transaction that re-checks the current state, so applying the same fact
// twice (concurrently or later) changes nothing the second time.
//
// Times are stored as integer milliseconds since the Unix epoch (UTC); money
// as integer fen.
package store
