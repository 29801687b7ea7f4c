package recon

import (
	"hash/maphash"
)

// A fund run keeps an item per booking of the day: five million on a day
// of ten million movements. Items hold no pointer (their numbers are
// offsets into a textArena, their time Unix microseconds), so the collector
// never scans them and no number is an allocation of its own; they are
// found by number through a numberIndex, not a Go map of strings. Held as
// strings in a slice and maps, that day took 6 GB and 47 s
// (bench/README.md, "recon funds at ten million movements").

// textRef is a string kept in a textArena: chunk<<36 | offset<<16 | length.
// Length longRef marks a string too long for the field, kept in
// textArena.long at index offset. The zero textRef is "".
type textRef uint64

const (
	textChunkBits = 20
	textChunk     = 1 << textChunkBits
	longRef       = 1<<16 - 1
)

// textArena keeps strings back to back in fixed-size chunks, never moved.
type textArena struct {
	chunks [][]byte
	long   []string // strings of longRef bytes or more (no platform prints one)
}

func (a *textArena) add(s string) textRef {
	switch {
	case s == "":
		return 0
	case len(s) >= longRef:
		a.long = append(a.long, s)
		return textRef(uint64(len(a.long)-1)<<16 | longRef)
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(s) > textChunk {
		a.chunks = append(a.chunks, make([]byte, 0, textChunk))
		last++
	}
	c := a.chunks[last]
	off := len(c)
	a.chunks[last] = append(c, s...)
	return textRef(uint64(last)<<36 | uint64(off)<<16 | uint64(len(s)))
}

// bytes is the kept string's bytes, the arena's own: never to be changed.
func (a *textArena) bytes(r textRef) []byte {
	n := int(r & longRef)
	switch n {
	case 0:
		return nil
	case longRef:
		return []byte(a.long[r>>16])
	}
	off := int(r>>16) & (textChunk - 1)
	return a.chunks[r>>36][off : off+n : off+n]
}

// string is a copy of the kept string, for a finding.
func (a *textArena) string(r textRef) string { return string(a.bytes(r)) }

func (r textRef) empty() bool { return r == 0 }

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
// numbers are compared byte for byte.
type numberIndex struct {
	// hash and hashBytes agree on equal contents (maphash guarantees it).
	hash      func(string) uint64
	hashBytes func([]byte) uint64
	slots     []uint64
	mask      uint64
	n         int // live entries
	used      int // live and removed slots
	// number is the item's number this index finds it by.
	number func(i int32) []byte
}

const removedSlot = 1<<32 - 1

func newNumberIndex(hint int, number func(i int32) []byte) *numberIndex {
	size := 16
	for size*3 < hint*4 {
		size *= 2
	}
	seed := maphash.MakeSeed()
	return &numberIndex{hash: func(s string) uint64 { return maphash.String(seed, s) }, hashBytes: func(b []byte) uint64 { return maphash.Bytes(seed, b) },
		slots: make([]uint64, size), mask: uint64(size - 1), number: number}
}

// find returns the item with the number s.
func (x *numberIndex) find(s string) (int32, bool) {
	h := x.hash(s)
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		v := x.slots[p]
		switch {
		case v == 0:
			return 0, false
		case v>>32 == h>>32 && uint32(v) != removedSlot:
			if i := int32(uint32(v) - 1); string(x.number(i)) == s {
				return i, true
			}
		}
	}
}

// put makes s find item i, in place of any item it found before.
func (x *numberIndex) put(s string, i int32) {
	if (x.used+1)*4 > len(x.slots)*3 {
		x.rebuild()
	}
	h := x.hash(s)
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
		case v>>32 == h>>32 && string(x.number(int32(uint32(v)-1))) == s:
			x.slots[p] = entry
			return
		}
	}
}

// remove takes s out of the index.
func (x *numberIndex) remove(s string) {
	h := x.hash(s)
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		v := x.slots[p]
		switch {
		case v == 0:
			return
		case v>>32 == h>>32 && uint32(v) != removedSlot && string(x.number(int32(uint32(v)-1))) == s:
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
		h := x.hashBytes(x.number(int32(uint32(v) - 1)))
		p := h & x.mask
		for x.slots[p] != 0 {
			p = (p + 1) & x.mask
		}
		x.slots[p] = v
	}
}
