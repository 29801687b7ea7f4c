package recon

import (
	"hash/maphash"
	"unsafe"
)

// A fund run keeps an item per booking of the day: five million on a day
// of ten million movements. Items hold no pointer (their numbers are
// offsets into a textArena, their time Unix microseconds), so the collector
// never scans them and no number is an allocation of its own; they are
// found by number through a numberIndex, not a Go map of strings. Held as
// strings in a slice and maps, that day took 6 GB and 47 s
// (bench/README.md, "recon funds at ten million movements").

// textRef is a string kept in a textArena: chunk<<36 | offset<<16 |
// packedRef if kept packed | its kept length. Length longRef marks a string
// too long for the field, kept in textArena.long at index offset. The zero
// textRef is "".
type textRef uint64

const (
	textChunkBits = 20
	textChunk     = 1 << textChunkBits
	packedRef     = 1 << 15
	longRef       = packedRef - 1
)

// textArena keeps strings back to back in fixed-size chunks, never moved.
// A number that ends in four digits or more (most of a day's trade, flow
// and order numbers) is kept packed, in about half the room (packNumber).
type textArena struct {
	chunks  [][]byte
	long    []string // strings of longRef bytes or more (no platform prints one)
	scratch []byte
}

func (a *textArena) add(s string) textRef {
	switch {
	case s == "":
		return 0
	case len(s) >= longRef:
		a.long = append(a.long, s)
		return textRef(uint64(len(a.long)-1)<<16 | longRef)
	}
	key, packed := a.key(s)
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(key) > textChunk {
		a.chunks = append(a.chunks, make([]byte, 0, textChunk))
		last++
	}
	c := a.chunks[last]
	off := len(c)
	a.chunks[last] = append(c, key...)
	r := textRef(uint64(last)<<36 | uint64(off)<<16 | uint64(len(key)))
	if packed {
		r |= packedRef
	}
	return r
}

// key is s as the arena keeps it: packed when it can be, else its own
// bytes. It is valid until the next call; packed says which it is (the
// two forms of different strings may share bytes).
func (a *textArena) key(s string) (key []byte, packed bool) {
	if len(s) < longRef {
		if a.scratch, packed = packNumber(a.scratch[:0], s); packed {
			return a.scratch, true
		}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s)), false
}

// stored is what the arena keeps for r, its own bytes: never to be changed.
func (a *textArena) stored(r textRef) []byte {
	n := int(r & longRef)
	switch n {
	case 0:
		return nil
	case longRef:
		return unsafe.Slice(unsafe.StringData(a.long[r>>16]), len(a.long[r>>16]))
	}
	off := int(r>>16) & (textChunk - 1)
	return a.chunks[r>>36][off : off+n : off+n]
}

// equal reports whether r is the string whose key is key.
func (a *textArena) equal(r textRef, key []byte, packed bool) bool {
	return (r&packedRef != 0) == packed && string(a.stored(r)) == string(key)
}

// string is a copy of the kept string, for a finding.
func (a *textArena) string(r textRef) string {
	if r&packedRef != 0 {
		return unpackNumber(a.stored(r))
	}
	return string(a.stored(r))
}

func (r textRef) empty() bool { return r == 0 }

// packNumber appends s packed to dst when s ends in at least four digits
// after at most 15 other bytes: a header byte (the count of other bytes,
// and oddDigits), those bytes, then the digits two to a byte. Every
// platform's trade and flow numbers are digits, and most merchants' order
// numbers a short prefix and digits. The form is a function of s, so
// equal strings have equal packed bytes.
func packNumber(dst []byte, s string) ([]byte, bool) {
	p := len(s)
	for p > 0 && s[p-1] >= '0' && s[p-1] <= '9' {
		p--
	}
	digits := len(s) - p
	if digits < 4 || p > 15 {
		return dst, false
	}
	head := byte(p)
	if digits%2 == 1 {
		head |= oddDigits
	}
	dst = append(append(dst, head), s[:p]...)
	for i := p; i < len(s); i += 2 {
		b := (s[i] - '0') << 4
		if i+1 < len(s) {
			b |= s[i+1] - '0'
		}
		dst = append(dst, b)
	}
	return dst, true
}

// oddDigits marks a packed number whose last byte holds one digit.
const oddDigits = 0x10

func unpackNumber(b []byte) string {
	p := int(b[0] & 0x0f)
	digits := 2 * (len(b) - 1 - p)
	if b[0]&oddDigits != 0 {
		digits--
	}
	out := make([]byte, p+digits)
	copy(out, b[1:1+p])
	for i := range digits {
		d := b[1+p+i/2]
		if i%2 == 0 {
			d >>= 4
		}
		out[p+i] = '0' + d&0x0f
	}
	return string(out)
}

// An item is 80 bytes: five million of them on a day of ten million
// movements.
var _ [80 - unsafe.Sizeof(fundItem{})]struct{}

// fundItems is the run's items in fixed-size chunks: a day's millions of
// items grow without a copy of those already kept.
type fundItems struct {
	chunks [][]fundItem
	n      int32
}

const itemChunkBits = 14

func (s *fundItems) at(i int32) *fundItem {
	return &s.chunks[i>>itemChunkBits][i&(1<<itemChunkBits-1)]
}

func (s *fundItems) add(it fundItem) int32 {
	if int(s.n)>>itemChunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]fundItem, 1<<itemChunkBits))
	}
	i := s.n
	*s.at(i) = it
	s.n++
	return i
}

// numberIndex finds items by one of their numbers. It is an
// open-addressing table of 8-byte slots: 0 is empty; otherwise the high 32
// bits are a tag of the number's hash and the low 32 the item + 1
// (removedSlot: an entry taken out). The tag only narrows the search: the
// numbers are compared as the arena keeps them, byte for byte.
type numberIndex struct {
	// hash hashes a number as the arena keeps it (textArena.key).
	hash  func(key []byte, packed bool) uint64
	slots []uint64
	mask  uint64
	n     int // live entries
	used  int // live and removed slots
	text  *textArena
	// number is the item's number this index finds it by.
	number func(i int32) textRef
}

const removedSlot = 1<<32 - 1

func newNumberIndex(hint int, text *textArena, number func(i int32) textRef) *numberIndex {
	size := 16
	for size*3 < hint*4 {
		size *= 2
	}
	seed := maphash.MakeSeed()
	hash := func(key []byte, packed bool) uint64 {
		h := maphash.Bytes(seed, key)
		if packed {
			h = ^h
		}
		return h
	}
	return &numberIndex{hash: hash, slots: make([]uint64, size), mask: uint64(size - 1), text: text, number: number}
}

// is reports whether slot v holds a live entry for the number key with
// hash h.
func (x *numberIndex) is(v, h uint64, key []byte, packed bool) bool {
	return v>>32 == h>>32 && uint32(v) != removedSlot && x.text.equal(x.number(int32(uint32(v)-1)), key, packed)
}

// find returns the item with the number s.
func (x *numberIndex) find(s string) (int32, bool) {
	key, packed := x.text.key(s)
	h := x.hash(key, packed)
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		switch v := x.slots[p]; {
		case v == 0:
			return 0, false
		case x.is(v, h, key, packed):
			return int32(uint32(v) - 1), true
		}
	}
}

// put makes s find item i, in place of any item it found before.
func (x *numberIndex) put(s string, i int32) {
	if (x.used+1)*4 > len(x.slots)*3 {
		x.rebuild()
	}
	key, packed := x.text.key(s)
	h := x.hash(key, packed)
	entry := h>>32<<32 | uint64(uint32(i)+1)
	free := -1
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		v := x.slots[p]
		switch {
		case v == 0:
			if free >= 0 {
				x.slots[free] = entry
			} else {
				x.slots[p] = entry
				x.used++
			}
			x.n++
			return
		case uint32(v) == removedSlot:
			if free < 0 {
				free = int(p)
			}
		case x.is(v, h, key, packed):
			x.slots[p] = entry
			return
		}
	}
}

// remove takes s out of the index.
func (x *numberIndex) remove(s string) {
	key, packed := x.text.key(s)
	h := x.hash(key, packed)
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		switch v := x.slots[p]; {
		case v == 0:
			return
		case x.is(v, h, key, packed):
			x.slots[p] = h>>32<<32 | removedSlot
			x.n--
			return
		}
	}
}

// rebuild puts the live entries into a table with room for as many again.
func (x *numberIndex) rebuild() {
	old := x.slots
	size := len(old)
	for size*3 < (x.n+1)*2*4 {
		size *= 2
	}
	x.slots, x.mask, x.used = make([]uint64, size), uint64(size-1), x.n
	for _, v := range old {
		if v == 0 || uint32(v) == removedSlot {
			continue
		}
		r := x.number(int32(uint32(v) - 1))
		p := x.hash(x.text.stored(r), r&packedRef != 0) & x.mask
		for x.slots[p] != 0 {
			p = (p + 1) & x.mask
		}
		x.slots[p] = v
	}
}
