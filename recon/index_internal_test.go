package recon

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// setHash replaces both hash functions with f.
func setHash(x *orderIndex, f func(string) uint64) {
	x.hash = f
	x.hashBytes = func(b []byte) uint64 { return f(string(b)) }
}

func ordinalAt(x *orderIndex, off int) int {
	return int(binary.LittleEndian.Uint32(x.rec(off)[recOrdinal:]))
}

// The index must find exactly the keys it holds whatever the hash does:
// with every key on one hash (same slot, same tag) only the byte-for-byte
// comparison tells them apart, and with tags equal but slots different the
// probing must still end.
func TestOrderIndexExactUnderCollisions(t *testing.T) {
	for name, hash := range map[string]func(string) uint64{
		"all collide":   func(string) uint64 { return 42 },
		"tags collide":  func(s string) uint64 { return uint64(len(s)) }, // tag 0, a few slots
		"by first byte": func(s string) uint64 { return uint64(s[0]) << 32 },
	} {
		t.Run(name, func(t *testing.T) {
			const n = 300
			x := newOrderIndex()
			setHash(x, hash)
			keys := make([]string, n)
			for i := range keys {
				keys[i] = "K" + strconv.Itoa(i)
				x.add(&orderRecord{key: keys[i], tradeNo: "T" + strconv.Itoa(i), amount: int64(i) * 100,
					ordinal: uint32(i), flags: fOnChannel | fPaid | fVerified})
			}
			if dup := x.seal(); dup != -1 {
				t.Fatalf("distinct keys reported as duplicate at %d", dup)
			}
			for i, k := range keys {
				off, ok := x.find(k)
				if !ok || ordinalAt(x, off) != i || x.key(off) != k || x.tradeNo(off) != "T"+strconv.Itoa(i) {
					t.Fatalf("find(%s) = %d, %v", k, off, ok)
				}
				if x.matches(off, "T"+strconv.Itoa(i+1), int64(i)*100) {
					t.Fatalf("%s matched another trade number", k)
				}
				if x.matches(off, "T"+strconv.Itoa(i), int64(i)*100+1) {
					t.Fatalf("%s matched another amount", k)
				}
				if !x.matches(off, "T"+strconv.Itoa(i), int64(i)*100) {
					t.Fatalf("%s did not match its own payment", k)
				}
				if x.matches(off, "T"+strconv.Itoa(i), int64(i)*100) {
					t.Fatalf("%s matched twice", k)
				}
			}
			for _, k := range []string{"K", "K300", "K01", "k1", "K1 "} {
				if _, ok := x.find(k); ok {
					t.Errorf("found absent key %q", k)
				}
			}
			seen := 0
			x.each(func(off int) {
				if ordinalAt(x, off) != seen {
					t.Errorf("each out of order at %d", seen)
				}
				seen++
			})
			if seen != n {
				t.Errorf("each visited %d of %d", seen, n)
			}
		})
	}
}

// Records never straddle chunks, and offsets stay valid across many of
// them.
func TestOrderIndexAcrossChunks(t *testing.T) {
	x := newOrderIndex()
	long := strings.Repeat("9", 60)
	const n = 3 * chunkSize / 160
	for i := 0; i < n; i++ {
		x.add(&orderRecord{key: "K" + strconv.Itoa(i) + long, tradeNo: long, ordinal: uint32(i)})
	}
	if len(x.chunks) < 3 {
		t.Fatalf("only %d chunks", len(x.chunks))
	}
	if dup := x.seal(); dup != -1 {
		t.Fatal("duplicate")
	}
	for i := 0; i < n; i += 97 {
		off, ok := x.find("K" + strconv.Itoa(i) + long)
		if !ok || ordinalAt(x, off) != i {
			t.Fatalf("key %d lost", i)
		}
	}
}

func TestOrderIndexDuplicate(t *testing.T) {
	x := newOrderIndex()
	setHash(x, func(string) uint64 { return 7 })
	for i, k := range []string{"A", "B", "C", "B"} {
		x.add(&orderRecord{key: k, ordinal: uint32(i)})
	}
	if dup := x.seal(); dup < 0 || ordinalAt(x, dup) != 3 {
		t.Errorf("duplicate reported at %d, want the fourth record", dup)
	}
}

// The fast path only takes the plain case; everything else must go to the
// full rules.
func TestOrderIndexFastPathConditions(t *testing.T) {
	cases := []struct {
		flags   uint8
		day     int8
		trade   string
		matches bool
	}{
		{fOnChannel | fPaid | fVerified, 0, "T", true},
		{fOnChannel | fPaid | fVerified | fExtras | fRejected, 0, "T", true},
		{fPaid | fVerified, 0, "T", false},               // other channel
		{fOnChannel | fVerified, 0, "T", false},          // unpaid
		{fOnChannel | fPaid, 0, "T", false},              // no verified notification
		{fOnChannel | fPaid | fVerified, 1, "T", false},  // paydesk dates it later
		{fOnChannel | fPaid | fVerified, -1, "T", false}, // or earlier
		{fOnChannel | fPaid | fVerified, 0, "", false},   // no trade number recorded
	}
	for i, c := range cases {
		x := newOrderIndex()
		x.add(&orderRecord{key: "K", tradeNo: c.trade, amount: 5, flags: c.flags, day: c.day})
		x.seal()
		off, _ := x.find("K")
		if got := x.matches(off, "T", 5); got != c.matches {
			t.Errorf("case %d: matches = %v", i, got)
		}
	}
}

// The two hash functions of a real index agree, or nothing would be found.
func TestOrderIndexHashesAgree(t *testing.T) {
	x := newOrderIndex()
	for _, k := range []string{"", "a", "M20240501000000000001", strings.Repeat("z", 64)} {
		if x.hash(k) != x.hashBytes([]byte(k)) {
			t.Errorf("hashes of %q differ", k)
		}
	}
}

// An index emptied for the next group of a spilled day holds only what is
// added to it afterwards, in the last group's memory: none of the last
// group's keys is found, none of its flags (a taken payment) shows through,
// and a smaller group after a larger one fits.
func TestEmptiedIndexForgetsTheLastGroup(t *testing.T) {
	fill := func(x *orderIndex, prefix string, n int) {
		for i := range n {
			x.add(&orderRecord{key: prefix + strconv.Itoa(i), tradeNo: "T" + strconv.Itoa(i), amount: 100, ordinal: uint32(i), flags: fOnChannel | fPaid | fVerified})
		}
		if dup := x.seal(); dup != -1 {
			t.Fatalf("distinct keys reported as duplicate at %d", dup)
		}
	}
	x := newOrderIndex()
	fill(x, "A", 40000) // several chunks
	for i := range 40000 {
		off, _ := x.find("A" + strconv.Itoa(i))
		if !x.matches(off, "T"+strconv.Itoa(i), 100) {
			t.Fatalf("A%d did not match", i)
		}
	}
	y := x.emptied()
	fill(y, "B", 1000)
	reused := false
	for _, c := range x.chunks {
		reused = reused || &c[:1][0] == &y.chunks[0][:1][0]
	}
	if !reused {
		t.Fatal("the emptied index did not reuse the last group's memory")
	}
	if y.n != 1000 || len(y.slots) >= len(x.slots) {
		t.Fatalf("%d records, %d slots after a group of 40000 in %d", y.n, len(y.slots), len(x.slots))
	}
	for i := range 40000 {
		if _, ok := y.find("A" + strconv.Itoa(i)); ok {
			t.Fatalf("the emptied index still finds A%d", i)
		}
	}
	for i := range 1000 {
		off, ok := y.find("B" + strconv.Itoa(i))
		if !ok || !y.matches(off, "T"+strconv.Itoa(i), 100) {
			t.Fatalf("B%d: found %v, or its payment was already taken", i, ok)
		}
	}
}
