package directio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
)

// Reads at random places, while the file is still being written and after,
// give back what was written there: from the disk, from the buffer, and
// across the edge between them.
func TestScratchFileReadsBackWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	f, err := CreateTemp(dir, "spill-*")
	if err != nil {
		t.Fatal(err)
	}
	data := someBytes(5*chunk + 3*align + 777)
	r := rand.New(rand.NewPCG(3, 4))
	check := func(written int) {
		t.Helper()
		for range 40 {
			off := r.IntN(written + 10)
			n := r.IntN(70 << 10)
			p := make([]byte, n)
			got, err := f.ReadAt(p, int64(off))
			end := min(off+n, written)
			want := 0
			if off < written {
				want = end - off
			}
			switch {
			case got != want:
				t.Fatalf("read %d at %d of %d written: got %d bytes, want %d", n, off, written, got, want)
			case !bytes.Equal(p[:got], data[min(off, written):end]):
				t.Fatalf("read %d at %d of %d written: bytes differ", n, off, written)
			case got < n && !errors.Is(err, io.EOF):
				t.Fatalf("read %d at %d of %d written: short read without EOF: %v", n, off, written, err)
			case got == n && err != nil:
				t.Fatalf("read %d at %d: %v", n, off, err)
			}
		}
	}
	for written := 0; written < len(data); {
		n := min(1+r.IntN(200<<10), len(data)-written)
		if k, err := f.Write(data[written : written+n]); err != nil || k != n {
			t.Fatalf("write: %d of %d, %v", k, n, err)
		}
		written += n
		check(written)
	}
	if takesDirect(t, dir) {
		if f.directBytes != 5*chunk {
			t.Errorf("%d bytes went past the cache, want the 5 whole chunks", f.directBytes)
		}
		if n := residentPages(t, f.Name()); n != 0 {
			t.Errorf("the page cache holds %d of the scratch file's pages", n)
		}
	}
	// Readers at once, as a spilled day's workers read one file.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 5))
			for range 200 {
				off, n := r.IntN(len(data)-(70<<10)), r.IntN(70<<10)
				p := make([]byte, n)
				if _, err := f.ReadAt(p, int64(off)); err != nil || !bytes.Equal(p, data[off:off+n]) {
					errs <- fmt.Errorf("read %d at %d at once with others: %v, or the bytes differ", n, off, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the scratch file is still there after Close: %v", err)
	}
}
