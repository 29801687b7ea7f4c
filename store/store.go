package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"

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

	// hot holds the callback path's statements, prepared once at open:
	// parsing them anew for every callback was a third of the intake's
	// CPU. Read-only after Open, so no lock.
	hot map[hotKey]*sql.Stmt

	// jobs feed the group committer (see tx); committed closes when it
	// has drained them after Close.
	jobs      chan *writeJob
	committed chan struct{}
	closeMu   sync.RWMutex
	closed    bool
}

type hotKey struct {
	write bool
	query string
}

// prepareHot prepares the hot statements while no transaction holds the
// writer's only connection (preparing inside one would wait for it forever).
func (s *Store) prepareHot(ctx context.Context) error {
	s.hot = map[hotKey]*sql.Stmt{}
	for _, q := range hotWrites {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.hot[hotKey{true, q}] = st
	}
	for _, q := range hotReads {
		st, err := s.r.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.hot[hotKey{false, q}] = st
	}
	return nil
}

// txExec runs a statement inside a write transaction, prepared when it is
// one of the hot ones.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.hot[hotKey{true, query}]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQueryRow runs a single-row query inside a write transaction.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.hot[hotKey{true, query}]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
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

// busyTimeoutMS is how long a statement waits for another process's write
// lock before failing.
const busyTimeoutMS = 10000

// Open opens (creating if needed) the database at path and migrates it to
// this build's schema. A database from a newer paydesk is refused, and so
// is an empty file (see prepareFile).
func Open(path string) (_ *Store, err error) {
	created, err := prepareFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		defer func() {
			if err != nil {
				// Nothing was stored: leave no empty file behind, which
				// the next Open would refuse.
				removeDatabase(path)
			}
		}()
	}
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
	if err := s.prepareHot(context.Background()); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	s.startCommitter()
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes both connection pools.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.jobs)
	}
	s.closeMu.Unlock()
	<-s.committed
	for _, st := range s.hot {
		st.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// txAlone runs f in a write transaction of its own (BEGIN IMMEDIATE: the
// write lock is taken up front, so the state f reads cannot change before
// it writes). For migrations and bulk work (imports, reconciliation runs)
// that should not share a transaction.
func (s *Store) txAlone(ctx context.Context, f func(*sql.Tx) error) error {
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

// tx runs f as one atomic unit of a shared write transaction: concurrent
// callers are committed together (group commit), each inside its own
// savepoint, so one caller's failure rolls back only its own changes. f
// still sees every earlier caller's writes and no later one's, exactly as
// if it ran alone; a commit failure fails every caller of the batch. The
// callback endpoint writes three times per notification, and one commit
// for many of them is what lets it keep up with a platform's bursts.
//
// f gets the context its statements must use: the caller's, or, once its
// job has started inside a shared transaction, one the caller can no
// longer cancel.
func (s *Store) tx(ctx context.Context, f func(context.Context, *sql.Tx) error) error {
	j := &writeJob{ctx: ctx, fn: f, done: make(chan error, 1)}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return errors.New("store is closed")
	}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	// Once queued the job may run: wait for its outcome whatever ctx does.
	return <-j.done
}

type writeJob struct {
	ctx  context.Context
	fn   func(context.Context, *sql.Tx) error
	done chan error
}

// maxBatch bounds a group commit, so one batch's latency stays small.
const maxBatch = 256

func (s *Store) startCommitter() {
	s.jobs = make(chan *writeJob, maxBatch)
	s.committed = make(chan struct{})
	go func() {
		defer close(s.committed)
		for j := range s.jobs {
			batch := []*writeJob{j}
		drain:
			for len(batch) < maxBatch {
				select {
				case next, ok := <-s.jobs:
					if !ok {
						break drain
					}
					batch = append(batch, next)
				default:
					break drain
				}
			}
			s.commitBatch(batch)
		}
	}()
}

func (s *Store) commitBatch(batch []*writeJob) {
	if len(batch) == 1 {
		j := batch[0]
		j.done <- s.txAlone(j.ctx, func(tx *sql.Tx) error { return j.fn(j.ctx, tx) })
		return
	}
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		for _, j := range batch {
			j.done <- err
		}
		return
	}
	errs := make([]error, len(batch))
	for i, j := range batch {
		if errs[i] = j.ctx.Err(); errs[i] != nil {
			continue
		}
		if _, err := tx.Exec("SAVEPOINT job"); err != nil {
			errs[i] = err
			continue
		}
		// A caller that gives up must not interrupt a statement of the
		// shared transaction (SQLite would roll all of it back): its job
		// was checked above, and once started it runs to the end.
		if errs[i] = j.fn(context.WithoutCancel(j.ctx), tx); errs[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO job"); err != nil {
				s.failBatch(tx, batch, fmt.Errorf("roll back a failed write: %w (after %v)", err, errs[i]))
				return
			}
		}
		if _, err := tx.Exec("RELEASE job"); err != nil {
			s.failBatch(tx, batch, fmt.Errorf("release a savepoint: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for _, j := range batch {
			j.done <- fmt.Errorf("commit: %w", err)
		}
		return
	}
	for i, j := range batch {
		j.done <- errs[i]
	}
}

func (s *Store) failBatch(tx *sql.Tx, batch []*writeJob, err error) {
	_ = tx.Rollback()
	for _, j := range batch {
		j.done <- err
	}
}

// Ping checks that the database answers a read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
