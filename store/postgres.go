package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgPoolSize bounds the connections one process opens. Each callback holds
// one for a few milliseconds; several `serve` processes and the team's
// consoles share the server's max_connections (100 by default).
const pgPoolSize = 16

// Advisory lock classes (the first key of pg_advisory_lock(int, int)), so
// paydesk's locks never meet another application's on the same server.
const (
	lockClassSchema = 0x70640001 // objid 0: migrations
	lockClassIntake = 0x70640002 // objid: an intake owner (see intake.go)
)

// openPostgres opens the PostgreSQL database at dsn through jackc/pgx/v5,
// behind database/sql so the store's code is the same on both engines.
func openPostgres(dsn string) (*Store, error) {
	shown := redactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", shown, err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgPoolSize)
	db.SetMaxIdleConns(pgPoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	sp := &spelling{engine: Postgres}
	s := &Store{engine: Postgres, path: shown, sp: sp, w: pool{db, sp}, r: pool{db, sp}}
	s.closers = append(s.closers, db.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	return s, nil
}

// redactURL drops the password from a database URL, for messages and the
// console's header.
func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unreadable URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// pgCode is the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// retryable reports whether the server aborted a transaction to resolve a
// conflict (a deadlock between two transitions, a serialization failure)
// and running it again will most likely succeed.
func (s *Store) retryable(err error) bool {
	if s.engine != Postgres {
		return false
	}
	switch pgCode(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// isUniqueViolation reports a duplicate key on either engine.
func isUniqueViolation(err error) bool {
	return pgCode(err) == "23505" || isSQLiteUniqueViolation(err)
}
