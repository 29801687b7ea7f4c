package recon

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
)

// orderIndex finds the day's orders by out_trade_no and holds, per order,
// the few facts a matching line needs.
//
// Why not a map[string]int: a bill line is judged by a chain of dependent
// memory reads, and with a million orders each read is a cache miss. A Go
// map costs one for its control word, one for the stored key's bytes, then
// the 184-byte Order (several lines) and its TradeNo bytes: ~1 µs per line
// on the reference machine. Here a line costs a probe of an 8-byte slot
// (its neighbours share the cache line) and one compact record holding the
// key and trade number bytes next to the amount and precomputed flags. That
// is two misses, and the keys are still compared byte for byte: the hash
// only narrows the search, it never decides a match.
type orderIndex struct {
	hash func(string) uint64
	// slots: 0 is empty; otherwise the high 32 bits of the key's hash (a tag
	// that rejects most wrong slots without touching the record) and, in
	// the low 32 bits, the record's offset in arena in 8-byte words plus 1.
	slots []uint64
	mask  uint64
	arena []byte
}

// Record layout in arena, 8-byte aligned:
//
//	[0:8)   amount (fen, little-endian int64)
//	[8:12)  index in Input.Orders
//	[12]    flags
//	[13]    day of the payment against the run's day (-1, 0, 1)
//	[14:16) key length, [16:18) trade number length
//	[18:)   key bytes, trade number bytes, padding
const (
	recFlags  = 12
	recDay    = 13
	recHeader = 18
	// maxField bounds the lengths a record stores; both platforms allow at
	// most 64 characters for either number.
	maxField = math.MaxUint16
)

// Record flags.
const (
	fOnChannel uint8 = 1 << iota // the order's recorded payment is on the run's channel
	fPaid                        // Status.Paid()
	fVerified                    // a verified notification was received
	fExtras                      // the order has ExtraTrades
	fTaken                       // a line was paired with the recorded payment
)

func newOrderIndex(n int, keyBytes int) *orderIndex {
	// A load of at most one half keeps linear probes short: a hit is
	// nearly always in the first cache line probed.
	size := uint64(1) << bits.Len64(uint64(2*n))
	seed := maphash.MakeSeed()
	return &orderIndex{
		hash:  func(s string) uint64 { return maphash.String(seed, s) },
		slots: make([]uint64, size),
		mask:  size - 1,
		arena: make([]byte, 0, n*(recHeader+7)+keyBytes),
	}
}

// build stores the records of n keys (key(i), tradeNo(i), ...) and
// indexes them; it returns the index of a key given twice, or -1. Records
// are written in one sequential pass and the slots filled in a second,
// tight one, so that the CPU overlaps the slot misses of consecutive keys
// instead of waiting for each.
func (x *orderIndex) build(n int, rec func(i int) (key, tradeNo string, amount int64, flags uint8, day int8)) int {
	hashes := make([]uint64, n)
	offs := make([]uint32, n)
	for i := 0; i < n; i++ {
		key, tradeNo, amount, flags, day := rec(i)
		off := len(x.arena)
		if off/8+1 > math.MaxUint32 {
			panic("recon: order index over 32 GiB")
		}
		var hdr [recHeader]byte
		binary.LittleEndian.PutUint64(hdr[0:], uint64(amount))
		binary.LittleEndian.PutUint32(hdr[8:], uint32(i))
		hdr[recFlags] = flags
		hdr[recDay] = uint8(day)
		binary.LittleEndian.PutUint16(hdr[14:], uint16(len(key)))
		binary.LittleEndian.PutUint16(hdr[16:], uint16(len(tradeNo)))
		x.arena = append(x.arena, hdr[:]...)
		x.arena = append(x.arena, key...)
		x.arena = append(x.arena, tradeNo...)
		for len(x.arena)%8 != 0 {
			x.arena = append(x.arena, 0)
		}
		hashes[i] = x.hash(key)
		offs[i] = uint32(off/8 + 1)
	}
	for i, h := range hashes {
		tag := h >> 32
		j := h & x.mask
		for ; x.slots[j] != 0; j = (j + 1) & x.mask {
			s := x.slots[j]
			if s>>32 == tag && x.key(slotOffset(s)) == x.key(slotOffset(uint64(offs[i]))) {
				return i
			}
		}
		x.slots[j] = tag<<32 | uint64(offs[i])
	}
	return -1
}

func slotOffset(s uint64) int { return int(uint32(s)-1) * 8 }

// find returns the offset of key's record.
func (x *orderIndex) find(key string) (int, bool) {
	return x.findHashed(key, x.hash(key))
}

func (x *orderIndex) findHashed(key string, h uint64) (int, bool) {
	tag := h >> 32
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := x.slots[i]
		if s == 0 {
			return 0, false
		}
		if s>>32 == tag {
			if off := slotOffset(s); x.key(off) == key {
				return off, true
			}
		}
	}
}

// warm loads the slot a key hashed to h probes first and the start of the
// record it points at, and returns something derived from both so the
// compiler keeps the loads. It decides nothing: Lines calls it for a batch
// of lines before judging them one by one, so that their cache misses
// overlap instead of following each other.
func (x *orderIndex) warm(h uint64) uint64 {
	s := x.slots[h&x.mask]
	if s == 0 {
		return 0
	}
	off := slotOffset(s)
	v := uint64(x.arena[off])
	if end := off + 64; end < len(x.arena) {
		v += uint64(x.arena[end]) // a record can span two cache lines
	}
	return v
}

func (x *orderIndex) key(off int) string {
	r := x.arena[off:]
	kl := int(binary.LittleEndian.Uint16(r[14:]))
	return string(r[recHeader : recHeader+kl])
}

// matches reports whether key's record at off is a plain match for a
// payment line: the recorded payment on this channel, not yet paired, under
// this trade number, paid on the run's day with a verified notification,
// for this amount. It then marks it paired. Anything else is for the full
// rules (pairPayment), which read the Order itself.
func (x *orderIndex) matches(off int, tradeNo string, amount int64) bool {
	r := x.arena[off:]
	const want = fOnChannel | fPaid | fVerified
	if r[recFlags]&(want|fTaken) != want || r[recDay] != 0 ||
		int64(binary.LittleEndian.Uint64(r)) != amount {
		return false
	}
	kl := int(binary.LittleEndian.Uint16(r[14:]))
	tl := int(binary.LittleEndian.Uint16(r[16:]))
	if tl == 0 || string(r[recHeader+kl:recHeader+kl+tl]) != tradeNo {
		return false
	}
	r[recFlags] |= fTaken
	return true
}

func (x *orderIndex) index(off int) int {
	return int(binary.LittleEndian.Uint32(x.arena[off+8:]))
}

// flags returns the record's flags byte, for the full rules to read and
// set fTaken through.
func (x *orderIndex) flags(off int) *uint8 { return &x.arena[off+recFlags] }

// each calls f with every record's offset, in Input.Orders order.
func (x *orderIndex) each(f func(off int)) {
	for off := 0; off < len(x.arena); {
		f(off)
		r := x.arena[off:]
		n := recHeader + int(binary.LittleEndian.Uint16(r[14:])) + int(binary.LittleEndian.Uint16(r[16:]))
		off += (n + 7) &^ 7
	}
}
