package store

import (
	"context"
	"database/sql"
)

// pool is a connection pool that speaks the engine's spelling: the store's
// queries go through it, never through *sql.DB directly.
type pool struct {
	db *sql.DB
	sp *spelling
}

func (p pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.sp.spell(q), p.sp.args(args)...)
}

func (p pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.sp.spell(q), p.sp.args(args)...)
}

func (p pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.sp.spell(q), p.sp.args(args)...)
}

// Tx is a write transaction in the engine's spelling.
type Tx struct {
	tx *sql.Tx
	sp *spelling
}

func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.sp.spell(q), t.sp.args(args)...)
}

func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.sp.spell(q), t.sp.args(args)...)
}

func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.sp.spell(q), t.sp.args(args)...)
}

// PrepareContext prepares a statement for repeated use inside the
// transaction.
func (t *Tx) PrepareContext(ctx context.Context, q string) (*Stmt, error) {
	st, err := t.tx.PrepareContext(ctx, t.sp.spell(q))
	if err != nil {
		return nil, err
	}
	return &Stmt{st: st, sp: t.sp}, nil
}

// Stmt is a prepared statement in the engine's spelling.
type Stmt struct {
	st *sql.Stmt
	sp *spelling
}

func (s *Stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, s.sp.args(args)...)
}

func (s *Stmt) Close() error { return s.st.Close() }

// querier is what reads run on: the reader pool or a transaction.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}
