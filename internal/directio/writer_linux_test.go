package directio

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// someBytes is n bytes that differ from block to block, so a block written
// at the wrong place reads back wrong.
func someBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// writeInPieces writes data through w in pieces of an odd size, which
// never fall on a block's edge.
func writeInPieces(t *testing.T, w *Writer, data []byte) {
	t.Helper()
	for p := data; len(p) > 0; {
		n := min(7919, len(p))
		if k, err := w.Write(p[:n]); err != nil || k != n {
			t.Fatalf("write: %d of %d, %v", k, n, err)
		}
		p = p[n:]
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// residentPages is how many of the file's pages the page cache holds.
func residentPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	m, err := syscall.Mmap(int(f.Fd()), 0, int(info.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	pages := (len(m) + os.Getpagesize() - 1) / os.Getpagesize()
	vec := make([]byte, pages)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// tmpfsMagic is statfs's type of a tmpfs, whose files are the page cache
// itself: O_DIRECT there leaves them in memory.
const tmpfsMagic = 0x01021994

// takesDirect reports whether dir's file system takes an aligned write
// to a file opened O_DIRECT past its page cache, asked of the kernel
// without this package.
func takesDirect(t *testing.T, dir string) bool {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil || fs.Type == tmpfsMagic {
		return false
	}
	return probeDirect(dir, 0)
}

// probeDirect reports whether a write of a block at offset off (after off
// bytes written before) to a file opened O_DIRECT in dir succeeds.
func probeDirect(dir string, off int) bool {
	path := filepath.Join(dir, "probe")
	defer os.Remove(path)
	if err := os.WriteFile(path, make([]byte, off), 0o600); err != nil {
		return false
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_DIRECT, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Write(alignedBytes(align))
	return err == nil
}

func TestDirectWritesLeaveThePageCacheAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kept.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	data := someBytes(3*chunk + 5*align + 1234) // whole chunks, whole blocks, and a tail
	w := NewWriter(f)
	writeInPieces(t, w, data)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !takesDirect(t, filepath.Dir(path)) {
		t.Skipf("the file system of %s takes no O_DIRECT past a page cache (tmpfs keeps its files in memory)", filepath.Dir(path))
	}
	if w.directBytes != int64(len(data)&^(align-1)) {
		t.Errorf("%d bytes went past the cache, want every whole block: %d", w.directBytes, len(data)&^(align-1))
	}
	// Only the tail's page went through the cache.
	if n := residentPages(t, path); n > 1 {
		t.Errorf("the page cache holds %d of the file's pages after direct writes, want at most the tail's", n)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
}

// A file the kernel refuses direct writes for (here: at an offset off a
// block's edge) gets the same bytes through the cache.
func TestRefusedDirectWriteFallsBackToTheCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kept.bin")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(f)
	w.off = 1 // a writer one byte into its file, after the "x"
	if !w.Direct() || probeDirect(t.TempDir(), 1) {
		f.Close()
		t.Skip("no O_DIRECT here, or one that takes a write off a block's edge")
	}
	data := someBytes(2*chunk + 99)
	writeInPieces(t, w, data)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if w.directBytes != 0 || w.Direct() {
		t.Errorf("%d bytes written direct at an offset off a block's edge", w.directBytes)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("x"), data...)) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data)+1)
	}
}

func TestEmptyAndTinyFiles(t *testing.T) {
	for _, n := range []int{0, 1, align - 1, align, align + 1, chunk - 1, chunk, chunk + 1} {
		path := filepath.Join(t.TempDir(), "kept.bin")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		data := someBytes(n)
		writeInPieces(t, NewWriter(f), data)
		f.Close()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read back %d that differ", n, len(got))
		}
	}
}
