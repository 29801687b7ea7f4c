package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"

	_ "modernc.org/sqlite" // the pure-Go driver: no cgo, one static binary
)

// Store is an open paydesk database.
type Store struct {
	path string
	// w is the only connection that writes. One writer serializes paydesk's
	// own transactions in-process, so they queue in Go instead of failing
	// with SQLITE_BUSY; the busy timeout covers other processes (serve and
	// the CLI on the same file).
	w *sql.DB
	// r serves reads concurrently; WAL lets them run beside the writer.
	r *sql.DB
}

// busyTimeoutMS is how long a statement waits for another process's write
// lock before failing.
const busyTimeoutMS = 10000

// Open opens (creating if needed) the database at path and migrates it to
// this build's schema. A database from a newer paydesk is refused.
func Open(path string) (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	// Imports and reconciliation touch index pages all over a million-row
	// table; the default 2 MB page cache turns that into a read per insert.
	q.Add("_pragma", "cache_size(-262144)")
	// Statement journals of multi-row inserts stay in memory, not temp files.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{path: path, w: w}
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s.r = r
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// tx runs f in one write transaction (BEGIN IMMEDIATE: the write lock is
// taken up front, so the state f reads cannot change before it writes).
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Ping checks that the database answers a read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
