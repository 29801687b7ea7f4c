package recon

import (
	"strconv"
	"testing"
)

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
			x := newOrderIndex(n, n*16)
			x.hash = hash
			keys := make([]string, n)
			for i := range keys {
				keys[i] = "K" + strconv.Itoa(i)
			}
			dup := x.build(n, func(i int) (string, string, int64, uint8, int8) {
				return keys[i], "T" + strconv.Itoa(i), int64(i) * 100, fOnChannel | fPaid | fVerified, 0
			})
			if dup != -1 {
				t.Fatalf("distinct keys reported as duplicate %d", dup)
			}
			for i, k := range keys {
				off, ok := x.find(k)
				if !ok || x.index(off) != i || x.key(off) != k {
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
				if x.index(off) != seen {
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

func TestOrderIndexDuplicate(t *testing.T) {
	keys := []string{"A", "B", "C", "B"}
	x := newOrderIndex(len(keys), 8)
	x.hash = func(string) uint64 { return 7 }
	if dup := x.build(len(keys), func(i int) (string, string, int64, uint8, int8) {
		return keys[i], "", 0, 0, 0
	}); dup != 3 {
		t.Errorf("duplicate reported at %d, want 3", dup)
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
		{fOnChannel | fPaid | fVerified | fExtras, 0, "T", true},
		{fPaid | fVerified, 0, "T", false},               // other channel
		{fOnChannel | fVerified, 0, "T", false},          // unpaid
		{fOnChannel | fPaid, 0, "T", false},              // no verified notification
		{fOnChannel | fPaid | fVerified, 1, "T", false},  // paydesk dates it later
		{fOnChannel | fPaid | fVerified, -1, "T", false}, // or earlier
		{fOnChannel | fPaid | fVerified, 0, "", false},   // no trade number recorded
	}
	for i, c := range cases {
		x := newOrderIndex(1, 8)
		x.build(1, func(int) (string, string, int64, uint8, int8) { return "K", c.trade, 5, c.flags, c.day })
		off, _ := x.find("K")
		if got := x.matches(off, "T", 5); got != c.matches {
			t.Errorf("case %d: matches = %v", i, got)
		}
	}
}
