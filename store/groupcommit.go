package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Group commit.
//
// On SQLite one connection writes, and a commit is a sync of the WAL to
// disk: committed one at a time, the callback endpoint (three writes per
// notification) would wait on the disk for every one of them. The committer
// instead takes every transition queued while the previous batch
// committed, runs them one after the other in one transaction, each inside
// its own savepoint, and commits once. Each job still sees every earlier
// job's writes and no later one's, exactly as if it ran alone; one job's
// failure rolls back only its own savepoint; a commit failure fails every
// job of the batch.
//
// PostgreSQL does the same by itself: concurrent transactions on different
// connections share the WAL flush of whichever commits first, so there the
// store runs each transition in a transaction of its own on the pool and
// lets the server group the flushes (bench/README.md measures both ways).
// Batching on PostgreSQL would also make one job's lock wait every other
// job's, and a deadlock between two processes' batches fail both.

// writeJob is one transition waiting for the committer.
type writeJob struct {
	ctx  context.Context
	fn   func(context.Context, *Tx) error
	done chan error
}

// maxBatch bounds a group commit, so one batch's latency stays small.
const maxBatch = 256

// committer runs queued write jobs in batches on one connection.
type committer struct {
	begin func() (*sql.Tx, error)
	// savepoint, release and rollbackTo are the savepoint statements each
	// job runs inside, prepared once: parsing them for every job was a
	// tenth of the committer's time at a few thousand callbacks a second.
	savepoint, release, rollbackTo *sql.Stmt
	// alone runs a batch of one in a transaction of its own.
	alone     func(ctx context.Context, f func(*Tx) error) error
	sp        *spelling
	jobs      chan *writeJob
	committed chan struct{} // closed once the queue is drained after close
}

func startCommitter(db *sql.DB, sp *spelling, alone func(context.Context, func(*Tx) error) error) *committer {
	c := &committer{
		begin: func() (*sql.Tx, error) { return db.BeginTx(context.Background(), nil) },
		alone: alone, sp: sp,
		jobs: make(chan *writeJob, maxBatch), committed: make(chan struct{}),
	}
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{{&c.savepoint, "SAVEPOINT job"}, {&c.release, "RELEASE job"}, {&c.rollbackTo, "ROLLBACK TO job"}} {
		// A statement that cannot be prepared is run unprepared (exec).
		*p.st, _ = db.Prepare(p.q)
	}
	go c.run()
	return c
}

// exec runs one of the savepoint statements inside tx.
func (c *committer) exec(tx *sql.Tx, st *sql.Stmt, q string) error {
	var err error
	if st != nil {
		_, err = tx.Stmt(st).Exec()
	} else {
		_, err = tx.Exec(q)
	}
	return err
}

// enqueue hands f to the committer; the returned job's done channel
// receives its outcome. The caller holds the store's close lock, so the
// queue is open.
func (c *committer) enqueue(ctx context.Context, f func(context.Context, *Tx) error) (*writeJob, error) {
	j := &writeJob{ctx: ctx, fn: f, done: make(chan error, 1)}
	select {
	case c.jobs <- j:
		return j, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops taking jobs and waits until the queued ones are committed.
func (c *committer) close() {
	close(c.jobs)
	<-c.committed
	for _, st := range []*sql.Stmt{c.savepoint, c.release, c.rollbackTo} {
		if st != nil {
			st.Close()
		}
	}
}

func (c *committer) run() {
	defer close(c.committed)
	for j := range c.jobs {
		batch := []*writeJob{j}
	drain:
		for len(batch) < maxBatch {
			select {
			case next, ok := <-c.jobs:
				if !ok {
					break drain
				}
				batch = append(batch, next)
			default:
				break drain
			}
		}
		c.commitBatch(batch)
	}
}

func (c *committer) commitBatch(batch []*writeJob) {
	if len(batch) == 1 {
		j := batch[0]
		j.done <- c.alone(j.ctx, func(tx *Tx) error { return j.fn(j.ctx, tx) })
		return
	}
	sqlTx, err := c.begin()
	if err != nil {
		failAll(batch, err)
		return
	}
	tx := &Tx{tx: sqlTx, sp: c.sp}
	errs := make([]error, len(batch))
	for i, j := range batch {
		if errs[i] = j.ctx.Err(); errs[i] != nil {
			continue
		}
		if err := c.exec(sqlTx, c.savepoint, "SAVEPOINT job"); err != nil {
			errs[i] = err
			continue
		}
		// A caller that gives up must not interrupt a statement of the
		// shared transaction (SQLite would roll all of it back): its job
		// was checked above, and once started it runs to the end.
		if errs[i] = j.fn(context.WithoutCancel(j.ctx), tx); errs[i] != nil {
			if err := c.exec(sqlTx, c.rollbackTo, "ROLLBACK TO job"); err != nil {
				_ = sqlTx.Rollback()
				failAll(batch, fmt.Errorf("roll back a failed write: %w (after %v)", err, errs[i]))
				return
			}
		}
		if err := c.exec(sqlTx, c.release, "RELEASE job"); err != nil {
			_ = sqlTx.Rollback()
			failAll(batch, fmt.Errorf("release a savepoint: %w", err))
			return
		}
	}
	if err := sqlTx.Commit(); err != nil {
		failAll(batch, fmt.Errorf("commit: %w", err))
		return
	}
	for i, j := range batch {
		j.done <- errs[i]
	}
}

func failAll(batch []*writeJob, err error) {
	for _, j := range batch {
		j.done <- err
	}
}
