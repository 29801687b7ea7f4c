package recon

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"

	"github.com/paydesk/paydesk/internal/hugepages"
)

// orderIndex holds the day's orders as compact records and finds them by
// out_trade_no. It is all the matcher keeps of them: Input.Orders (or what
// EachOrder streamed) is not retained.
//
// Why not a map[string]int into the caller's []Order: a bill line is
// judged by a chain of dependent memory reads, and with a million orders
// each read is a cache miss. A Go map costs one for its control word, one
// for the stored key's bytes, then the 184-byte Order (several lines) and
// its TradeNo bytes: about 1 µs per line on a 2-vCPU VM without huge pages
// (BenchmarkMatch1M, before this index). Here a
// line costs a probe of an 8-byte slot (its neighbours share the cache line)
// and one record of about 80 bytes holding the key and trade number bytes
// next to the amount and precomputed flags. The keys are still compared
// byte for byte: the hash only narrows the search, it never decides a match.
type orderIndex struct {
	// hash and hashBytes agree on equal contents (maphash guarantees it);
	// seal hashes the stored bytes so that indexing allocates nothing.
	hash      func(string) uint64
	hashBytes func([]byte) uint64
	// slots: 0 is empty; otherwise the high 32 bits of the key's hash (a tag
	// that rejects most wrong slots without touching the record) and, in
	// the low 32 bits, the record's offset in 8-byte words plus 1.
	slots []uint64
	mask  uint64
	// chunks hold the records, appended in input order. Fixed-size chunks
	// let a streamed day grow without ever copying what is stored.
	chunks [][]byte
	n      int
	// spare holds the emptied chunks of an earlier group of a spilled day
	// (emptied), filled before any new one is made.
	spare [][]byte
	// huge asks for huge pages for the slots and chunks (a spilled day's
	// groups, each probed by millions of lines, in memory the next group
	// reuses): on this project's VMs the first touch of a huge page costs
	// more than a day of a million orders saves on its probes
	// (bench/README.md, "huge pages").
	huge bool
}

// Record layout, 8-byte aligned, never across chunks:
//
//	[0:8)   amount (fen, little-endian int64)
//	[8:16)  payment time (PaidAt, else CreatedAt), Unix ns; valid with fHasTime
//	[16:20) ordinal: position in input order
//	[20]    flags
//	[21]    day of the payment time against the run's day (-1, 0, 1)
//	[22]    status code, [23] paid-via code, [24] channel code
//	[25]    unused
//	[26:28) key length, [28:30) trade number length
//	[30:)   key bytes, trade number bytes, padding
const (
	recTime    = 8
	recOrdinal = 16
	recFlags   = 20
	recDay     = 21
	recStatus  = 22
	recVia     = 23
	recChannel = 24
	recKeyLen  = 26
	recTLen    = 28
	recHeader  = 30
	// maxField bounds the lengths a record stores; both platforms allow at
	// most 64 characters for either number.
	maxField = math.MaxUint16
	// 4 MiB chunks: larger than any record, and each holds at least one
	// whole huge page (hugepages.Advise), which a chunk of 1 MiB never did.
	chunkBits = 22
	chunkSize = 1 << chunkBits
)

// Record flags.
const (
	fOnChannel uint8 = 1 << iota // the order's recorded payment is on the run's channel
	fPaid                        // Status.Paid()
	fVerified                    // a verified notification was received
	fRejected                    // Order.NotifyRejected
	fExtras                      // the order has ExtraTrades
	fHasTime                     // the record has a payment time
	fPaidAt                      // that time is PaidAt (not CreatedAt)
	fTaken                       // a line was paired with the recorded payment
)

// orderRecord is what add stores of one order.
type orderRecord struct {
	key, tradeNo            string
	amount, at              int64
	ordinal                 uint32
	flags                   uint8
	day                     int8
	status, via, channelIdx uint8
}

func newOrderIndex() *orderIndex {
	seed := maphash.MakeSeed()
	return &orderIndex{
		hash:      func(s string) uint64 { return maphash.String(seed, s) },
		hashBytes: func(b []byte) uint64 { return maphash.Bytes(seed, b) },
	}
}

// emptied returns x emptied for the next group of a spilled day, with its
// chunks and slots: the groups are about the same size, and memory taken
// afresh for each would be faulted in and cleared by the kernel every time
// and left to the collector after (nearly a gigabyte at 10M). A nil x gives
// a new index.
func (x *orderIndex) emptied() *orderIndex {
	if x == nil {
		return newOrderIndex()
	}
	y := &orderIndex{hash: x.hash, hashBytes: x.hashBytes, slots: x.slots[:0], spare: x.spare}
	for _, c := range x.chunks {
		clear(c)
		y.spare = append(y.spare, c[:0])
	}
	return y
}

func recordSize(keyLen, tradeLen int) int { return (recHeader + keyLen + tradeLen + 7) &^ 7 }

// add appends a record; seal indexes them all.
func (x *orderIndex) add(r *orderRecord) {
	encodeRecord(x.alloc(recordSize(len(r.key), len(r.tradeNo))), r)
}

// alloc returns room for a record of size bytes at the end of the last
// chunk.
func (x *orderIndex) alloc(size int) []byte {
	last := len(x.chunks) - 1
	if last < 0 || len(x.chunks[last])+size > chunkSize {
		if n := len(x.spare); n > 0 {
			x.chunks = append(x.chunks, x.spare[n-1])
			x.spare = x.spare[:n-1]
		} else {
			c := make([]byte, 0, chunkSize)
			if x.huge {
				hugepages.Advise(c[:chunkSize])
			}
			x.chunks = append(x.chunks, c)
		}
		last++
	}
	c := x.chunks[last]
	start := len(c)
	x.chunks[last] = c[:start+size]
	x.n++
	return c[start : start+size]
}

// encodeRecord writes r into b, recordSize bytes long.
func encodeRecord(b []byte, r *orderRecord) {
	binary.LittleEndian.PutUint64(b[0:], uint64(r.amount))
	binary.LittleEndian.PutUint64(b[recTime:], uint64(r.at))
	binary.LittleEndian.PutUint32(b[recOrdinal:], r.ordinal)
	b[recFlags] = r.flags
	b[recDay] = uint8(r.day)
	b[recStatus], b[recVia], b[recChannel] = r.status, r.via, r.channelIdx
	binary.LittleEndian.PutUint16(b[recKeyLen:], uint16(len(r.key)))
	binary.LittleEndian.PutUint16(b[recTLen:], uint16(len(r.tradeNo)))
	n := copy(b[recHeader:], r.key)
	copy(b[recHeader+n:], r.tradeNo)
}

// recordSizeAt is the size of the record rec starts with.
func recordSizeAt(rec []byte) int {
	return recordSize(int(binary.LittleEndian.Uint16(rec[recKeyLen:])), int(binary.LittleEndian.Uint16(rec[recTLen:])))
}

// size is the size of the record at off.
func (x *orderIndex) size(off int) int { return recordSizeAt(x.rec(off)) }

// seal builds the slots over every record added and returns the offset of
// a record whose key an earlier one already has, or -1. Records are read
// sequentially and hashed a block at a time; each block's slots are then
// filled in a tight loop, so the CPU overlaps the slot misses of
// consecutive keys instead of waiting for each.
func (x *orderIndex) seal() int {
	// A load of at most one half keeps linear probes short: a hit is
	// nearly always in the first cache line probed.
	size := uint64(1) << bits.Len64(uint64(2*x.n))
	if uint64(cap(x.slots)) >= size {
		x.slots = x.slots[:size]
		clear(x.slots)
	} else {
		x.slots = make([]uint64, size)
		if x.huge {
			hugepages.Advise(x.slots)
		}
	}
	x.mask = size - 1
	const block = 256
	var hashes [block]uint64
	var offs [block]int
	n := 0
	insert := func() int {
		for k := 0; k < n; k++ {
			h, off := hashes[k], offs[k]
			tag := h >> 32
			i := h & x.mask
			for ; x.slots[i] != 0; i = (i + 1) & x.mask {
				s := x.slots[i]
				if s>>32 == tag && bytes.Equal(x.keyBytes(slotOffset(s)), x.keyBytes(off)) {
					return off
				}
			}
			x.slots[i] = tag<<32 | uint64(off/8+1)
		}
		n = 0
		return -1
	}
	dup := -1
	x.each(func(off int) {
		if dup >= 0 {
			return
		}
		hashes[n], offs[n] = x.hashBytes(x.keyBytes(off)), off
		if n++; n == block {
			dup = insert()
		}
	})
	if dup < 0 {
		dup = insert()
	}
	return dup
}

func slotOffset(s uint64) int { return int(uint32(s)-1) * 8 }

// rec is the record at off (and the rest of its chunk).
func (x *orderIndex) rec(off int) []byte {
	return x.chunks[off>>chunkBits][off&(chunkSize-1):]
}

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

// Warming, used by Lines: for a batch of lines it first loads the slot
// each key probes first (slotFor), then the cache lines of the records those
// slots point at (warmRecord). Neither decides anything; they only make the
// cache misses of many lines overlap instead of following each other, two
// independent passes giving the CPU the most loads to have in flight.

func (x *orderIndex) slotFor(h uint64) uint64 { return x.slots[h&x.mask] }

// warmRecord loads the record slot s points at and returns something
// derived from it so the compiler keeps the loads.
func (x *orderIndex) warmRecord(s uint64) uint64 {
	if s == 0 {
		return 0
	}
	r := x.rec(slotOffset(s))
	// An 80-byte record touches at most three cache lines; these three
	// bytes lie one in each.
	v := uint64(r[0])
	if len(r) > 79 {
		v += uint64(r[40]) + uint64(r[79])
	}
	return v
}

func (x *orderIndex) keyBytes(off int) []byte {
	r := x.rec(off)
	kl := int(binary.LittleEndian.Uint16(r[recKeyLen:]))
	return r[recHeader : recHeader+kl]
}

func (x *orderIndex) key(off int) string { return string(x.keyBytes(off)) }

func (x *orderIndex) tradeNo(off int) string {
	r := x.rec(off)
	kl := int(binary.LittleEndian.Uint16(r[recKeyLen:]))
	tl := int(binary.LittleEndian.Uint16(r[recTLen:]))
	return string(r[recHeader+kl : recHeader+kl+tl])
}

// matches reports whether the record at off is a plain match for a payment
// line: the recorded payment on this channel, not yet paired, under this
// trade number, paid on the run's day with a verified notification, for
// this amount. It then marks it paired. Anything else is for the full rules
// (pairPayment).
func (x *orderIndex) matches(off int, tradeNo string, amount int64) bool {
	r := x.rec(off)
	const want = fOnChannel | fPaid | fVerified
	if r[recFlags]&(want|fTaken) != want || r[recDay] != 0 ||
		int64(binary.LittleEndian.Uint64(r)) != amount {
		return false
	}
	kl := int(binary.LittleEndian.Uint16(r[recKeyLen:]))
	tl := int(binary.LittleEndian.Uint16(r[recTLen:]))
	if tl == 0 || string(r[recHeader+kl:recHeader+kl+tl]) != tradeNo {
		return false
	}
	r[recFlags] |= fTaken
	return true
}

// flags returns the record's flags byte, for the full rules to read and
// set fTaken through.
func (x *orderIndex) flags(off int) *uint8 { return &x.rec(off)[recFlags] }

// each calls f with every record's offset, in input order.
func (x *orderIndex) each(f func(off int)) {
	for ci, c := range x.chunks {
		for pos := 0; pos < len(c); {
			f(ci<<chunkBits | pos)
			pos += recordSizeAt(c[pos:])
		}
	}
}
