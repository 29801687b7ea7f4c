package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Each engine has its own numbered migrations, applied on open. They are
// kept parallel: the same numbers and topics in both folders (a test checks
// it), so a database copied from one engine to the other is at the same
// version.
//
//go:embed migrations/*.sql
var sqliteMigrations embed.FS

//go:embed migrations_postgres/*.sql
var postgresMigrations embed.FS

// ErrNewerSchema means the database was written by a newer paydesk; opening
// it with this one could corrupt data the newer schema relies on.
var ErrNewerSchema = errors.New("database schema is newer than this paydesk")

type migration struct {
	version int
	name    string
	sql     string
}

func migrations(e Engine) ([]migration, error) {
	files, dir := fs.FS(sqliteMigrations), "migrations"
	if e == Postgres {
		files, dir = postgresMigrations, "migrations_postgres"
	}
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must start with its number", e.Name())
		}
		b, err := fs.ReadFile(files, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{v, e.Name(), string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("%s migrations must be numbered 1..n without gaps; found %s at position %d", e, m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the newest schema this build knows.
func SchemaVersion() int {
	ms, err := migrations(SQLite)
	if err != nil {
		panic(err) // embedded files: a broken build, caught by any test
	}
	return len(ms)
}

// migrate brings the database to SchemaVersion.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.engine)
	if err != nil {
		return err
	}
	if s.engine == Postgres {
		return s.migratePostgres(ctx, ms)
	}
	return s.migrateSQLite(ctx, ms)
}

func newerSchema(current, known int) error {
	return fmt.Errorf("%w: the database is at schema version %d, this build knows up to %d; use a newer paydesk", ErrNewerSchema, current, known)
}

// migrateSQLite applies each step in a transaction of its own, recording
// the version in PRAGMA user_version.
func (s *Store) migrateSQLite(ctx context.Context, ms []migration) error {
	var current int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w (is this an SQLite database?)", err)
	}
	if current > len(ms) {
		return newerSchema(current, len(ms))
	}
	for _, m := range ms[current:] {
		err := s.txAlone(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// migratePostgres applies the missing steps in one transaction (DDL is
// transactional on PostgreSQL), under an advisory lock: several `serve`
// processes starting together migrate once, the others wait and find the
// schema current. The version is the one row of paydesk_schema.
func (s *Store) migratePostgres(ctx context.Context, ms []migration) error {
	return s.txAlone(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, 0)`, lockClassSchema); err != nil {
			return fmt.Errorf("lock the schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS paydesk_schema (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		var current int
		err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM paydesk_schema`).Scan(&current)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return newerSchema(current, len(ms))
		}
		if current == len(ms) {
			return nil
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM paydesk_schema`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO paydesk_schema (version) VALUES (?)`, len(ms))
		return err
	})
}
