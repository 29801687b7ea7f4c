package directio

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// align is what O_DIRECT asks of a write's memory, length and file offset:
// a file system block, which is at most a page here.
const align = 4096

// chunk is how much one direct write carries.
const chunk = 1 << 20

// chunks is what Writer and File share: a chunk's room at an aligned
// address, filled by put, and written whole at the file's next offset,
// past the page cache while the file takes it.
type chunks struct {
	f      *os.File
	buf    []byte // chunk bytes at an aligned address
	n      int    // bytes in buf
	off    int64  // bytes written to the file
	direct bool
	// directBytes is how many bytes went past the cache (for tests).
	directBytes int64
}

// newChunks starts writing f, which must be empty (a file just created).
func newChunks(f *os.File) chunks {
	return chunks{f: f, buf: alignedBytes(chunk), direct: setDirect(f, true)}
}

// alignedBytes makes n bytes that start at a block's edge, as a direct
// read or write needs (Go's heap does not move what it allocated).
func alignedBytes(n int) []byte {
	raw := make([]byte, n+align)
	skip := int((align - uintptr(unsafe.Pointer(&raw[0]))%align) % align)
	return raw[skip : skip+n : skip+n]
}

// put copies p into the buffer, writing it out each time it is full.
func (c *chunks) put(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := copy(c.buf[c.n:], p)
		c.n += k
		written += k
		p = p[k:]
		if c.n == len(c.buf) {
			if err := c.writeOut(c.buf); err != nil {
				return written, err
			}
			c.n = 0
		}
	}
	return written, nil
}

// writeOut writes p at the file's next offset: a whole number of blocks
// while direct. A file system that refuses the direct write (EINVAL: it
// has no O_DIRECT, or wants a larger block) wrote nothing, and gets the
// same bytes through the cache from then on.
func (c *chunks) writeOut(p []byte) error {
	_, err := c.f.WriteAt(p, c.off)
	switch {
	case err == nil && c.direct:
		c.directBytes += int64(len(p))
	case c.direct && errors.Is(err, syscall.EINVAL):
		c.direct = false
		if !setDirect(c.f, false) {
			return err
		}
		_, err = c.f.WriteAt(p, c.off)
	}
	if err != nil {
		return err
	}
	c.off += int64(len(p))
	return nil
}
