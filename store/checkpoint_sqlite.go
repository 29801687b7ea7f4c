package store

import (
	"sync"
	"time"
)

// Checkpoints on SQLite.
//
// In WAL mode a commit appends pages to the -wal file, and a checkpoint
// copies them back into the database and syncs both files. SQLite runs one
// by itself inside the commit that takes the log past 1,000 pages, on the
// committing connection: a callback whose batch happened to cross that
// line waited for the copy and two fsyncs (on this machine's disk, up to a
// few hundred milliseconds: the max latency of bench/notify-load.sh), and
// the import of a million orders waited for a copy of all it wrote. So the
// store's writer does not checkpoint (wal_autocheckpoint 0); a goroutine of
// its own does, on a connection of its own, every checkpointEvery: PASSIVE,
// so it never waits for or blocks a writer or a reader. Close runs a last
// one. Another process on the same file checkpoints too, as it writes.

// checkpointEvery is how often the checkpointer folds the log back.
const checkpointEvery = 200 * time.Millisecond

// checkpointer folds the WAL back into the database in the background.
type checkpointer struct {
	path string
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startCheckpointer(path string) *checkpointer {
	c := &checkpointer{path: path, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	var conn *rawConn
	defer func() {
		if conn != nil {
			conn.close()
		}
	}()
	// checkpoint runs one PASSIVE checkpoint; a failure (a busy file, say)
	// is left for the next one: the log stays valid and is read as it is.
	checkpoint := func() {
		if conn == nil {
			var err error
			if conn, err = openRaw(c.path, true); err != nil {
				conn = nil
				return
			}
		}
		_ = conn.exec("PRAGMA wal_checkpoint(PASSIVE)")
	}
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			checkpoint()
		case <-c.stop:
			checkpoint()
			return
		}
	}
}

// close stops the checkpointer after a last checkpoint.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return nil
}
