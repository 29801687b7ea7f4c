package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeoutMS is how long an SQLite statement waits for another
// process's write lock before failing.
const busyTimeoutMS = 10000

// openSQLite opens (creating if needed) the SQLite file at path through
// modernc.org/sqlite: pure Go, no cgo, one static binary. An empty file is
// refused (see prepareFile).
func openSQLite(path string) (_ *Store, err error) {
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
	// The log is folded back by the checkpointer, not inside a commit
	// (checkpoint_sqlite.go).
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// w is the only connection that writes. One writer serializes
	// paydesk's own transactions in-process, so they queue in Go instead of
	// failing with SQLITE_BUSY; the busy timeout covers other processes
	// (serve and the CLI on the same file).
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	sp := &spelling{engine: SQLite}
	s := &Store{engine: SQLite, path: path, sp: sp, w: pool{w, sp}}
	s.closers = append(s.closers, w.Close)
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
	// WAL lets reads run beside the writer.
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s.r = pool{r, sp}
	s.closers = append([]func() error{r.Close}, s.closers...)
	if err := s.prepareHot(context.Background()); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	s.commits = startCommitter(w, sp, s.txAlone)
	s.checkpoints = startCheckpointer(path)
	return s, nil
}

// prepareHot prepares the hot statements while no transaction holds the
// writer's only connection (preparing inside one would wait for it forever).
func (s *Store) prepareHot(ctx context.Context) error {
	s.hot = map[hotKey]*sql.Stmt{}
	for _, q := range hotWrites {
		st, err := s.w.db.PrepareContext(ctx, s.sp.spell(q))
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.hot[hotKey{true, q}] = st
	}
	for _, q := range hotReads {
		st, err := s.r.db.PrepareContext(ctx, s.sp.spell(q))
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.hot[hotKey{false, q}] = st
	}
	return nil
}

func isSQLiteUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}
