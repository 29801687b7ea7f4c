package directio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// File is a scratch file written once from its start and read back at
// random, then removed (a reconciliation's spill). Whole chunks go to the
// disk past the page cache and are read back from it the same way; what
// is written after the last whole chunk stays in memory, since the file is
// never kept. Where O_DIRECT is not taken it is an ordinary file.
type File struct {
	mu sync.Mutex
	chunks
}

// CreateTemp makes a scratch file in dir, named as os.CreateTemp names
// one after pattern.
func CreateTemp(dir, pattern string) (*File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &File{chunks: newChunks(f)}, nil
}

// Name is the file's path.
func (f *File) Name() string { return f.f.Name() }

// Write appends p.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.put(p)
}

// ReadAt reads what was written at off: from the disk below the buffer,
// from the buffer above it. Reads may run at once with each other and with
// Write: what is on the disk is never written again, so only the buffer's
// part is read under the lock, and the disk waited on outside it.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("directio: read %s at %d", f.f.Name(), off)
	}
	f.mu.Lock()
	size, flushed, direct := f.off+int64(f.n), f.off, f.direct
	if off >= size {
		f.mu.Unlock()
		return 0, io.EOF
	}
	want := len(p)
	p = p[:min(int64(want), size-off)]
	if off+int64(len(p)) > flushed {
		from := max(off, flushed)
		copy(p[from-off:], f.buf[from-flushed:])
	}
	f.mu.Unlock()
	if onDisk := min(int64(len(p)), max(flushed-off, 0)); onDisk > 0 {
		if err := f.readDisk(p[:onDisk], off, direct); err != nil {
			return 0, err
		}
	}
	if len(p) < want {
		return len(p), io.EOF
	}
	return len(p), nil
}

// blockBuffers are the aligned buffers direct reads land in.
var blockBuffers sync.Pool

// minReadBuffer is the least a read buffer is made with: room for a spill's
// 256 KiB block and the blocks on either side it straddles, so that
// buffers are not made again as reads of slightly different sizes come.
const minReadBuffer = 512 << 10

// readDisk reads p at off, which lie below what was flushed: direct reads
// cover them with whole blocks.
func (f *File) readDisk(p []byte, off int64, direct bool) error {
	if !direct {
		_, err := f.f.ReadAt(p, off)
		return err
	}
	start := off &^ (align - 1)
	stop := (off + int64(len(p)) + align - 1) &^ (align - 1) // ≤ flushed, a whole number of chunks
	var blocks []byte
	if b, ok := blockBuffers.Get().(*[]byte); ok && int64(cap(*b)) >= stop-start {
		blocks = *b
	} else {
		blocks = alignedBytes(int(max(stop-start, minReadBuffer)))
	}
	defer blockBuffers.Put(&blocks)
	if _, err := f.f.ReadAt(blocks[:stop-start], start); err != nil {
		return err
	}
	copy(p, blocks[off-start:])
	return nil
}

// Close closes the file and removes it.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.f.Close(), os.Remove(f.f.Name()))
}
