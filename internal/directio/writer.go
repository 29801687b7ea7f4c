package directio

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// align is what O_DIRECT asks of a write's memory, length and file offset:
// a file system block, which is at most a page here.
const align = 4096

// chunk is how much one direct write carries.
const chunk = 1 << 20

// Writer writes to a file from its start: every whole chunk straight to
// the disk when it can, the tail (less than a block) through the page cache
// by Flush. It buffers up to a chunk, so Flush must be called before the
// file is read, synced or closed.
type Writer struct {
	f      *os.File
	buf    []byte // chunk bytes at an aligned address
	n      int    // bytes in buf
	direct bool
	err    error
	// directBytes is how many bytes went past the cache (for tests).
	directBytes int64
}

// NewWriter makes a writer of f, which must be empty and at offset 0 (a
// file just created).
func NewWriter(f *os.File) *Writer {
	return &Writer{f: f, buf: alignedBytes(chunk), direct: setDirect(f, true)}
}

// alignedBytes makes n bytes that start at a block's edge, as a direct
// read or write needs (Go's heap does not move what it allocated).
func alignedBytes(n int) []byte {
	raw := make([]byte, n+align)
	skip := int((align - uintptr(unsafe.Pointer(&raw[0]))%align) % align)
	return raw[skip : skip+n : skip+n]
}

// Direct reports whether the writer still writes past the page cache.
func (w *Writer) Direct() bool { return w.direct }

func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	var written int
	written, w.err = fill(w.buf, &w.n, p, func() error {
		if err := w.writeOut(w.buf); err != nil {
			return err
		}
		w.n = 0
		return nil
	})
	return written, w.err
}

// fill copies p into buf from *n on, and calls full each time buf is full
// (full empties it).
func fill(buf []byte, n *int, p []byte, full func() error) (int, error) {
	written := 0
	for len(p) > 0 {
		c := copy(buf[*n:], p)
		*n += c
		written += c
		p = p[c:]
		if *n == len(buf) {
			if err := full(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// writeOut writes a whole number of blocks. A file system that refuses
// the direct write (EINVAL: it has no O_DIRECT, or wants a larger block)
// wrote nothing, and gets the same bytes through the cache from then on.
func (w *Writer) writeOut(p []byte) error {
	_, err := w.f.Write(p)
	switch {
	case err == nil && w.direct:
		w.directBytes += int64(len(p))
	case w.direct && errors.Is(err, syscall.EINVAL):
		w.direct = false
		if !setDirect(w.f, false) {
			return err
		}
		_, err = w.f.Write(p)
	}
	return err
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
		if _, w.err = w.f.Write(tail); w.err != nil {
			return w.err
		}
	}
	w.n = 0
	return nil
}

var _ io.Writer = (*Writer)(nil)
