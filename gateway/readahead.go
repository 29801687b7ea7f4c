package gateway

import (
	"errors"
	"io"
	"sync"
)

// ReadAhead reads r on a goroutine of its own, up to depth blocks of size
// bytes ahead of the caller, and hands the blocks over in order, with r's
// error after the last one.
//
// A bill parser reads an inflater: at a million lines inflating is about
// half of the parse's CPU, and the two halves run one after the other on one
// core. Read ahead, the inflater and the row parser each keep a core busy
// (bench/README.md, "Reconciliation"). Close stops the reader and waits for
// it, so r is never read after Close returns; it does not close r.
func ReadAhead(r io.Reader, size, depth int) io.ReadCloser {
	a := &readAhead{
		full: make(chan aheadBlock, depth),
		free: make(chan []byte, depth+1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range depth + 1 {
		a.free <- make([]byte, size)
	}
	go a.fill(r)
	return a
}

type aheadBlock struct {
	b   []byte
	err error
}

type readAhead struct {
	full chan aheadBlock
	free chan []byte
	stop chan struct{}
	done chan struct{}
	once sync.Once

	cur  []byte // the unread rest of the block being read
	held []byte // that block's buffer, returned to free once read
	err  error  // r's error, once the blocks before it are read
}

// errReadAheadClosed answers a Read after Close.
var errReadAheadClosed = errors.New("read after close")

func (a *readAhead) fill(r io.Reader) {
	defer close(a.done)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.stop:
			return
		}
		n, err := io.ReadFull(r, buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case a.full <- aheadBlock{buf[:n], err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *readAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.held != nil {
			a.free <- a.held[:cap(a.held)]
			a.held = nil
		}
		blk, ok := <-a.full
		if !ok {
			return 0, errReadAheadClosed
		}
		a.cur, a.held, a.err = blk.b, blk.b, blk.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits until it has left r.
func (a *readAhead) Close() error {
	a.once.Do(func() {
		close(a.stop)
		<-a.done
		a.cur, a.err = nil, errReadAheadClosed
	})
	return nil
}
