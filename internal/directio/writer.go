package directio

import (
	"errors"
	"io"
	"os"
)

// Writer writes to a file from its start: every whole chunk straight to
// the disk when it can, the tail (less than a block) through the page cache
// by Flush. It buffers up to a chunk, so Flush must be called before the
// file is read, synced or closed.
type Writer struct {
	chunks
	err error // sticky
}

// NewWriter makes a writer of f, which must be empty (a file just
// created).
func NewWriter(f *os.File) *Writer {
	return &Writer{chunks: newChunks(f)}
}

// Direct reports whether the writer still writes past the page cache.
func (w *Writer) Direct() bool { return w.direct }

func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	var written int
	written, w.err = w.put(p)
	return written, w.err
}

// Flush writes what is buffered: its whole blocks as the chunks before
// it, the rest through the page cache. It ends the direct writing: the
// file is left without O_DIRECT, and later writes go through the cache.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	whole := w.n &^ (align - 1)
	if whole > 0 {
		if w.err = w.writeOut(w.buf[:whole]); w.err != nil {
			return w.err
		}
	}
	if w.direct {
		w.direct = false
		if !setDirect(w.f, false) {
			w.err = errors.New("directio: cannot turn O_DIRECT off for the tail of " + w.f.Name())
			return w.err
		}
	}
	if tail := w.buf[whole:w.n]; len(tail) > 0 {
		if w.err = w.writeOut(tail); w.err != nil {
			return w.err
		}
	}
	w.n = 0
	return nil
}

var _ io.Writer = (*Writer)(nil)
