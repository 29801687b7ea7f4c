package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Store is an open paydesk database, on SQLite or on PostgreSQL.
type Store struct {
	engine Engine
	// path is the SQLite file, or the PostgreSQL URL without its password.
	path string
	sp   *spelling
	// w carries the write transactions and r the reads. On SQLite w is one
	// connection (see openSQLite) and r a pool beside it; on PostgreSQL both
	// are the same pool.
	w, r pool

	// hot holds the callback path's statements, prepared once at open on
	// SQLite: parsing them anew for every callback was a third of the
	// intake's CPU. PostgreSQL's driver caches prepared statements per
	// connection by itself. Read-only after Open, so no lock.
	hot map[hotKey]*sql.Stmt

	// commits batches concurrent write transactions into one (group
	// commit) on SQLite; nil on PostgreSQL, where each transition is a
	// transaction of its own on the pool (see groupcommit.go).
	commits *committer
	// checkpoints folds SQLite's log back into the database in the
	// background (checkpoint_sqlite.go); nil on PostgreSQL.
	checkpoints *checkpointer

	// intake is this process's claim as a callback taker (see intake.go).
	intake *intakeClaim

	closeMu sync.RWMutex
	closed  bool
	// closers run on Close after the pools are done with, in order.
	closers []func() error
}

// Open opens the database named by dsn and migrates it to this build's
// schema: a postgres:// or postgresql:// URL selects PostgreSQL, anything
// else is an SQLite file path (created if needed). A database from a newer
// paydesk is refused on both engines.
func Open(dsn string) (*Store, error) {
	if IsURL(dsn) {
		return openPostgres(dsn)
	}
	return openSQLite(dsn)
}

// IsURL reports whether dsn names a PostgreSQL database rather than an
// SQLite file.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Engine says which database engine the store runs on.
func (s *Store) Engine() Engine { return s.engine }

// Path is the database file, or for PostgreSQL its URL without the
// password: what the console shows as the workspace.
func (s *Store) Path() string { return s.path }

// Dir is the folder of the SQLite file, where files kept with the store
// (bills) go by default; "" on PostgreSQL, which has no such folder.
func (s *Store) Dir() string {
	if s.engine == SQLite {
		return filepath.Dir(s.path)
	}
	return ""
}

// Close closes the store. Writes still queued are committed first.
func (s *Store) Close() error {
	s.closeMu.Lock()
	already := s.closed
	s.closed = true
	s.closeMu.Unlock()
	if already {
		return nil
	}
	if s.commits != nil {
		s.commits.close()
	}
	if s.checkpoints != nil {
		s.checkpoints.close()
	}
	for _, st := range s.hot {
		st.Close()
	}
	errs := []error{s.releaseIntake()}
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// txAlone runs f in a write transaction of its own. On SQLite the write
// lock is taken up front (BEGIN IMMEDIATE), so the state f reads cannot
// change before it writes; on PostgreSQL f locks the rows it re-checks (FOR
// UPDATE). For migrations and bulk work (imports, reconciliation runs) that
// should not share a transaction.
func (s *Store) txAlone(ctx context.Context, f func(*Tx) error) error {
	tx, err := s.w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(&Tx{tx: tx, sp: s.sp}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// tx runs f as one atomic unit of writing: alone in its transaction on
// PostgreSQL (retried when the server aborts it to break a deadlock or a
// serialization conflict), or as part of a group commit on SQLite. f must
// be safe to run again from the start: it sets its results, it does not
// accumulate them.
//
// f gets the context its statements must use: the caller's, or, once its
// job has started inside a shared transaction, one the caller can no
// longer cancel.
func (s *Store) tx(ctx context.Context, f func(context.Context, *Tx) error) error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return errStoreClosed
	}
	if s.commits != nil {
		// Queued under the read lock, so Close cannot close the queue
		// between the check and the send.
		j, err := s.commits.enqueue(ctx, f)
		s.closeMu.RUnlock()
		if err != nil {
			return err
		}
		// Once queued the job may run: wait for its outcome whatever
		// ctx does.
		return <-j.done
	}
	defer s.closeMu.RUnlock()
	return s.txRetrying(ctx, f)
}

var errStoreClosed = errors.New("store is closed")

// retries bounds how often a transition is run again after the server
// aborted it to resolve a conflict with another one.
const retries = 8

func (s *Store) txRetrying(ctx context.Context, f func(context.Context, *Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.txAlone(ctx, func(tx *Tx) error { return f(ctx, tx) })
		if err == nil || attempt == retries || !s.retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 3 * time.Millisecond):
		}
	}
}

// Ping checks that the database answers a read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// hotKey names a prepared statement of the callback path.
type hotKey struct {
	write bool
	query string
}

// txExec runs a statement inside a write transaction, prepared when it is
// one of the hot ones.
func (s *Store) txExec(ctx context.Context, tx *Tx, query string, args ...any) (sql.Result, error) {
	if st := s.hot[hotKey{true, query}]; st != nil {
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow runs a single-row query inside a write transaction.
func (s *Store) txQueryRow(ctx context.Context, tx *Tx, query string, args ...any) *sql.Row {
	if st := s.hot[hotKey{true, query}]; st != nil {
		return tx.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// readRow runs a single-row query on the reader pool.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.hot[hotKey{false, query}]; st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}
