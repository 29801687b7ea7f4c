package recon_test

import (
	"os"
	"testing"

	"github.com/paydesk/paydesk/recon"
)

// A day matched in parts of any size, real files included, gives the
// result the day gives in memory: one bucket a part, several buckets a
// part, and one part holding every order.
func TestSpilledDayEqualsInMemory(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		s := generate(20000, 3, seed)
		_, want := run(t, s.input(), s.lines)
		for _, limit := range []int{1, 700, 5000, 40000} {
			for _, spool := range []int{0, 1, 200 << 10, 1 << 30} {
				got := runSpilled(t, s.input(), s.lines, limit, spool)
				sameResult(t, "in memory", want, "spilled", got)
			}
		}
		in := s.input()
		var names []string
		in.Spill = func() (recon.SpillFile, error) {
			f, err := os.CreateTemp(t.TempDir(), "spill-*")
			if err == nil {
				names = append(names, f.Name())
			}
			return f, err
		}
		in.MemoryOrders = 3000
		m, err := recon.NewMatcher(in)
		if err != nil {
			t.Fatal(err)
		}
		// Lines in batches, as ops feeds them.
		for i := 0; i < len(s.lines); i += 1000 {
			if err := m.Lines(s.lines[i:min(i+1000, len(s.lines))], nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := m.Close()
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, "in memory", want, "spilled to files", got)
		if len(names) > 2 {
			t.Fatalf("%d spill files, want at most 2 (orders and lines)", len(names))
		}
	}
}

// A day below MemoryOrders is matched in memory: nothing is spilled.
func TestSmallDayDoesNotSpill(t *testing.T) {
	s := generate(500, 3, 4)
	in := s.input()
	in.MemoryOrders = 10000
	in.Spill = func() (recon.SpillFile, error) {
		t.Fatal("a day of 500 orders spilled with MemoryOrders 10000")
		return nil, nil
	}
	m, err := recon.NewMatcher(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Lines(s.lines, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

// An order number given twice is refused in parts too, when its part is
// indexed.
func TestSpilledDuplicateOrderRefused(t *testing.T) {
	s := generate(3000, 0, 5)
	in := s.input()
	in.Orders = append(in.Orders, in.Orders[1234])
	_, err := recon.NewMatcher(in)
	if err == nil {
		t.Fatal("a duplicate order was accepted in memory")
	}
	in.Spill = func() (recon.SpillFile, error) { return &memSpill{}, nil }
	in.MemoryOrders = 100
	m, err := recon.NewMatcher(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Lines(s.lines, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Close(); err == nil {
		t.Fatal("a duplicate order was accepted in parts")
	}
}
