package store

import (
	"context"
	"database/sql"
)

// rowScanner is one row to read: a *sql.Row, or *sql.Rows at a row.
type rowScanner interface{ Scan(dest ...any) error }

// eachRow runs query on q and calls fn at each row: the one place that
// iterates, closes and checks rows, instead of a loop per query.
func eachRow(ctx context.Context, q querier, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// collect runs query on q and returns its rows, each read by scan.
func collect[T any](ctx context.Context, q querier, query string, scan func(rowScanner) (T, error), args ...any) ([]T, error) {
	var out []T
	err := eachRow(ctx, q, query, func(rows *sql.Rows) error {
		v, err := scan(rows)
		if err == nil {
			out = append(out, v)
		}
		return err
	}, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
