package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Intake owners.
//
// A callback is stored first and decided after (verified, applied,
// recorded). A process that dies in between leaves it undecided (apply
// status PENDING), and a process that starts finishes such callbacks. With
// several `serve` processes on one database, "undecided" is also the state
// of every callback another live process is deciding right now: finishing
// those too would race it. So each callback records the process that took it
// in (its intake owner), and a sweep finishes only the callbacks of owners
// that are provably gone:
//
//   - On PostgreSQL an owner holds a session advisory lock, keyed by its id,
//     on a connection of its own for as long as it runs. The server drops
//     the lock with the connection when the process dies (kill -9
//     included), so "the lock is free" means "the owner is gone". The sweep
//     takes a gone owner's lock while it finishes that owner's callbacks,
//     so two processes starting at once never finish the same ones.
//   - On SQLite one file serves one host: the owner holds an exclusive lock
//     on a file beside the database, so a second `serve` on the same file is
//     refused, and every other owner's undecided callbacks are a dead
//     process's.

// intakeClaim is this process's registration as a callback taker.
type intakeClaim struct {
	mu    sync.Mutex
	owner int32
	// conn holds the owner's advisory lock (PostgreSQL).
	conn *sql.Conn
	// unlock releases the owner's file lock (SQLite).
	unlock func() error
}

// ErrIntakeTaken refuses a second callback taker on one SQLite file.
var ErrIntakeTaken = errors.New("another paydesk serve is taking callbacks into this database")

// ClaimIntake registers this process as one that takes callbacks in (the
// `serve` endpoint): the callbacks it stores from now on carry its owner id,
// and no sweep of another process finishes them while it lives. Claiming
// again is a no-op.
func (s *Store) ClaimIntake(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return errStoreClosed
	}
	if s.intake != nil {
		return nil
	}
	c := &intakeClaim{}
	if s.engine == SQLite {
		unlock, err := lockFile(s.path + "-serve.lock")
		if err != nil {
			return fmt.Errorf("%w (%s): several serve processes need PostgreSQL ([store] url): %v", ErrIntakeTaken, s.path, err)
		}
		c.unlock = unlock
	}
	for {
		c.owner = randomOwner()
		// An id that still names undecided callbacks of a gone owner would
		// hide them from every sweep while this process lives.
		var one int
		err := s.r.QueryRowContext(ctx, `SELECT 1 FROM notifications WHERE intake_owner = ? AND apply_status = 'PENDING' LIMIT 1`, c.owner).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			c.release()
			return err
		}
	}
	if s.engine == Postgres {
		if err := c.lock(ctx, s.w.db); err != nil {
			c.release()
			return err
		}
	}
	s.intake = c
	return nil
}

func randomOwner() int32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return int32(binary.BigEndian.Uint32(b[:])>>1) | 1 // positive, never 0
}

// lock takes the owner's advisory lock on a connection of its own.
func (c *intakeClaim) lock(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClassIntake, c.owner).Scan(&ok); err != nil {
		conn.Close()
		return fmt.Errorf("claim intake: %w", err)
	}
	if !ok {
		conn.Close()
		return fmt.Errorf("claim intake: owner %d is taken", c.owner)
	}
	c.conn = conn
	return nil
}

// keep checks that the owner's lock is still held and takes it again if its
// connection was lost (a restarted server, a network cut): until then
// another process may have finished this one's in-flight callbacks, which
// exactly-once makes harmless, but it must not go on.
func (c *intakeClaim) keep(ctx context.Context, db *sql.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	if err := c.conn.PingContext(ctx); err == nil {
		var one int
		if err := c.conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err == nil {
			return nil
		}
	}
	c.conn.Close()
	c.conn = nil
	return c.lock(ctx, db)
}

func (c *intakeClaim) release() error {
	var errs []error
	if c.conn != nil {
		_, err := c.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, lockClassIntake, c.owner)
		errs = append(errs, err, c.conn.Close())
	}
	if c.unlock != nil {
		errs = append(errs, c.unlock())
	}
	return errors.Join(errs...)
}

// intakeOwner is the owner id stored with a callback: 0 when this process
// has not claimed intake.
func (s *Store) intakeOwner() int32 {
	if s.intake == nil {
		return 0
	}
	return s.intake.owner
}

func (s *Store) releaseIntake() error {
	if s.intake == nil {
		return nil
	}
	return s.intake.release()
}

// EachInterrupted calls fn with each callback an intake left undecided
// whose owner is gone (see the top of this file), oldest first, a page at a
// time so raw bodies are not all held at once. It returns how many it
// handed to fn. Callbacks of this process, and of any live one, are left
// alone.
func (s *Store) EachInterrupted(ctx context.Context, fn func(Notification) error) (int, error) {
	own := s.intakeOwner()
	if s.intake != nil && s.engine == Postgres {
		if err := s.intake.keep(ctx, s.w.db); err != nil {
			return 0, err
		}
	}
	var owners []int32
	err := eachRow(ctx, s.r, `SELECT DISTINCT intake_owner FROM notifications WHERE apply_status = 'PENDING'`, func(rows *sql.Rows) error {
		var o int32
		err := rows.Scan(&o)
		if o != own || own == 0 {
			owners = append(owners, o)
		}
		return err
	})
	if err != nil || len(owners) == 0 {
		return 0, err
	}
	done := 0
	for _, o := range owners {
		n, err := s.finishOwner(ctx, o, fn)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// finishOwner hands fn the undecided callbacks of one owner, if it is gone.
func (s *Store) finishOwner(ctx context.Context, owner int32, fn func(Notification) error) (int, error) {
	if s.engine == Postgres {
		conn, err := s.w.db.Conn(ctx)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		var free bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClassIntake, owner).Scan(&free); err != nil {
			return 0, err
		}
		if !free {
			return 0, nil // alive, or being finished by another process
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, lockClassIntake, owner)
	}
	done := 0
	var after int64
	for {
		page, err := collect(ctx, s.r, `SELECT `+notificationColumns+` FROM notifications
			WHERE apply_status = 'PENDING' AND intake_owner = ? AND id > ? ORDER BY id LIMIT 200`, scanNotification, owner, after)
		if err != nil || len(page) == 0 {
			return done, err
		}
		for _, n := range page {
			if err := fn(n); err != nil {
				return done, err
			}
			done++
		}
		after = page[len(page)-1].ID
	}
}
