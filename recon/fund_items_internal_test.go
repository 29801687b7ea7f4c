package recon

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The arena gives back every string it kept, across chunk boundaries and
// for strings too long for a reference's length field.
func TestTextArenaKeepsEveryString(t *testing.T) {
	var a textArena
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[textRef]string{}
	for i := range 200_000 {
		s := strings.Repeat(strconv.Itoa(i), 1+rng.IntN(12))
		if i%3 == 0 {
			s = "PD"[:i%5%3] + s // a prefix before the digits, packed too
		}
		switch i {
		case 7:
			s = ""
		case 1000:
			s = strings.Repeat("L", longRef) // exactly the marker's length
		case 2000:
			s = strings.Repeat("M", 3*textChunk) // longer than a chunk
		}
		r := a.add(s)
		if prev, ok := want[r]; ok && prev != s {
			t.Fatalf("%q and %q share the reference %x", prev, s, r)
		}
		want[r] = s
	}
	if len(a.chunks) < 2 {
		t.Fatalf("the test filled %d chunk(s); it must cross a chunk's end", len(a.chunks))
	}
	for r, s := range want {
		if got := a.string(r); got != s {
			t.Fatalf("reference %x: got %d bytes, want %q (%d bytes)", r, len(got), s[:min(len(s), 20)], len(s))
		}
	}
	if !textRef(0).empty() || a.string(0) != "" {
		t.Error("the zero reference is not the empty string")
	}
}

// numberIndex must agree with a Go map through puts (new numbers and
// numbers moved to another item), removals and the rebuilds they cause,
// whatever the hash does: with every number on one hash only the byte
// comparison tells them apart, and with tags equal but slots different the
// probing must still end.
func TestNumberIndexAgreesWithAMap(t *testing.T) {
	for name, hash := range map[string]func(string) uint64{
		"maphash":      nil,
		"all collide":  func(string) uint64 { return 42 },
		"tags collide": func(s string) uint64 { return uint64(len(s)) },
		"slots differ": func(s string) uint64 { return uint64(s[len(s)-1]) << 32 },
	} {
		t.Run(name, func(t *testing.T) {
			var text textArena
			var numbers []textRef // each item's number
			x := newNumberIndex(0, &text, func(i int32) textRef { return numbers[i] })
			if hash != nil {
				x.hash = func(key []byte, _ bool) uint64 { return hash(string(key)) }
			}
			ops := 20_000
			if hash != nil {
				ops = 1_500 // every probe walks the one run of slots
			}
			want := map[string]int32{}
			rng := rand.New(rand.NewPCG(3, 4))
			for range ops {
				s := "N" + strconv.Itoa(rng.IntN(ops/3))
				if rng.IntN(2) == 0 {
					s = s[1:] // digits alone, packed without a prefix
				}
				switch op := rng.IntN(10); {
				case op < 6: // a new item with this number takes it
					i := int32(len(numbers))
					numbers = append(numbers, text.add(s))
					x.put(s, i)
					want[s] = i
				case op < 8:
					x.remove(s)
					delete(want, s)
				default:
					i, ok := x.find(s)
					if j, wok := want[s]; ok != wok || i != j {
						t.Fatalf("find(%s) = %d %v, want %d %v", s, i, ok, j, wok)
					}
				}
				if x.n != len(want) {
					t.Fatalf("%d entries, want %d", x.n, len(want))
				}
			}
			for s, j := range want {
				if i, ok := x.find(s); !ok || i != j {
					t.Fatalf("find(%s) = %d %v, want %d", s, i, ok, j)
				}
			}
			for _, s := range []string{"N", "N-1", "n1", "N1 ", "N00001", "\x00\x01"} {
				if _, ok := x.find(s); ok {
					t.Errorf("found absent number %q", s)
				}
			}
			if x.used*4 > len(x.slots)*3 {
				t.Errorf("%d of %d slots used: past the load the index keeps", x.used, len(x.slots))
			}
		})
	}
}

// A packed number comes back as it was, and no two strings share a key:
// packed ones differ in their bytes, and a packed one from an unpacked one
// with the same bytes in packedRef.
func TestPackedNumbersRoundTrip(t *testing.T) {
	var a textArena
	kept := map[string]textRef{}
	keys := map[string]string{}
	for _, s := range []string{
		"2026112222001000000000000000", "2026112210000000000001", "PD202611220000000441610000000",
		"1234", "12345", "123", "A1234", "A123", "0000", "00000", "0", "007", "000000000000000000001",
		"abcdefghijklmno1234", "abcdefghijklmnop1234", "订单1234567", "S20210128170702357723",
		"4200001234202011220000000001", "1234A", "12-34", "R1a2345", "\x01\x23\x45", "\x02\x123",
		"\x00\x00", "x",
		"\x10\x12\x34\x50", // the bytes "12345" is packed into, kept as they are
	} {
		r := a.add(s)
		if got := a.string(r); got != s {
			t.Errorf("%q came back as %q", s, got)
		}
		key, packed := a.key(s)
		if !a.equal(r, key, packed) {
			t.Errorf("%q is not equal to its own key", s)
		}
		form := fmt.Sprintf("%v %x", packed, key)
		if other, ok := keys[form]; ok {
			t.Errorf("%q and %q share the key %s", s, other, form)
		}
		keys[form] = s
		for other, or := range kept {
			if a.equal(or, key, packed) {
				t.Errorf("%q equals %q as kept", s, other)
			}
		}
		kept[s] = r
		prefix := strings.TrimRight(s, "0123456789")
		if wantPacked := len(s)-len(prefix) >= 4 && len(prefix) <= 15; packed != wantPacked {
			t.Errorf("%q packed %v, want %v", s, packed, wantPacked)
		}
	}
	if r := a.add("2026112222001000000000000000"); len(a.stored(r)) != 15 {
		t.Errorf("a 28-digit number is kept in %d bytes, want 15", len(a.stored(r)))
	}
}

// Items stay where they were put while more chunks are added.
func TestFundItemsKeepTheirPlace(t *testing.T) {
	var s fundItems
	first := s.at(s.add(fundItem{expect: 1}))
	for i := range 3 << itemChunkBits {
		s.add(fundItem{expect: 2, firstLine: int32(i)})
	}
	if first != s.at(0) || first.expect != 1 || s.n != 3<<itemChunkBits+1 || s.at(s.n-1).firstLine != 3<<itemChunkBits-1 {
		t.Fatalf("item 0 moved or the items were miscounted: %+v, n %d", *s.at(0), s.n)
	}
}

// An item's time comes back as it was given, to the microsecond, far from
// today too (a booking dated by bad data); a booking without one has none.
func TestFundItemTimeRoundTrips(t *testing.T) {
	for _, when := range []time.Time{
		{},
		time.Date(2026, 11, 22, 23, 59, 59, 999_999_000, time.FixedZone("CST", 8*3600)),
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1500, 6, 1, 12, 0, 0, 0, time.UTC),
	} {
		it := fundItem{at: unixMicro(when)}
		if got := it.time(); !got.Equal(when) || got.IsZero() != when.IsZero() {
			t.Errorf("%v came back as %v", when, got)
		}
	}
}

// BenchmarkPackNumber packs a platform trade number, an Alipay flow number
// and an order number, as a fund run does for each movement it looks up.
// Run: go test ./recon -run '^$' -bench PackNumber
func BenchmarkPackNumber(b *testing.B) {
	numbers := []string{"2026112222001000000000000000", "2026112210000000000001", "PD202611220000000441610000000"}
	var buf []byte
	for b.Loop() {
		for _, s := range numbers {
			buf, _ = packNumber(buf[:0], s)
		}
	}
}
