package exports

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/paydesk/paydesk/gateway"
)

// TestStreamNumberIsExact checks the claim streamNumber rests on: what
// excelize writes for it (strconv's shortest form, capped at 15 digits) is
// exactly the decimal computed from the integer, for every amount up to
// ±¥10,000.00 and for 300,000 random ones up to the limit.
func TestStreamNumberIsExact(t *testing.T) {
	check := func(m gateway.Money) {
		v, err := streamNumber(m)
		if err != nil {
			t.Fatalf("%d: %v", m, err)
		}
		if got, want := strconv.FormatFloat(v, 'f', -1, 64), wantDecimal(m); got != want {
			t.Fatalf("%d fen is written as %s, want %s", int64(m), got, want)
		}
	}
	for m := gateway.Money(-1_000_000); m <= 1_000_000; m++ {
		check(m)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300_000 {
		check(gateway.Money(r.Int64N(2*maxExactFen+1) - maxExactFen))
	}
	for _, m := range []gateway.Money{maxExactFen, -maxExactFen, maxExactFen - 1, 1 << 40, 10_000_000_000_000} {
		check(m)
	}
	if _, err := streamNumber(maxExactFen + 1); err == nil {
		t.Fatal("an amount past 15 digits was accepted")
	}
	if got := decimal(-4); got != "-0.04" {
		t.Fatalf("decimal(-4) = %s", got)
	}
}

func TestDisplayWidthCountsCJKDouble(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "咖啡": 4, "商家实收（元）": 14, "¥1,234.50": 9, "Ａ": 2, "": 0} {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestWriteFileLeavesNoHalfWrittenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.xlsx")
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := WriteFile(path, false, write("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, false, write("second")); !errors.Is(err, ErrExists) {
		t.Fatalf("over an existing file without force: %v", err)
	}
	boom := errors.New("disk on fire")
	if err := WriteFile(path, true, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "first" {
		t.Fatalf("the file holds %q after refused and failed writes", b)
	}
	if err := WriteFile(path, true, write("third")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "third" {
		t.Fatalf("forced write left %q", b)
	}
	if err := WriteFile(filepath.Join(dir, "new.xlsx"), false, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestParallelDeflateIsOneStream(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, deflateBlock - 1, deflateBlock, 3*deflateBlock + deflateBlock/2} {
		in := make([]byte, n)
		for i := range in {
			// Compressible text with some noise, like sheet XML.
			in[i] = "<c r=\"A1\"><v>12.30</v></c>"[i%26] + byte(r.IntN(2))
		}
		var z bytes.Buffer
		w := newParallelDeflate(&z)
		for b := in; len(b) > 0; {
			k := min(len(b), 1+r.IntN(3<<20))
			w.Write(b[:k])
			b = b[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(flate.NewReader(&z))
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("%d bytes: inflated %d bytes, err %v", n, len(out), err)
		}
	}
}
