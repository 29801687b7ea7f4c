package gateway

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"strconv"
	"time"
	"unsafe"

	"github.com/paydesk/paydesk/internal/hugepages"
)

// BillKeys remembers the key of every row of one bill so that the second
// copy of a row is refused: a real bill books a (trade number, business
// type, request number) once, and a file that repeats one is damaged or made
// to inflate into something that exhausts memory.
//
// A key is kept as two independent hashes (64 and 32 bits), never as its
// text, so the set grows with the rows of a real day (16 to 24 bytes a row)
// and not with the bytes of the file; two different keys taken for one
// would need both hashes to collide (about 1 in 10^17 on a million rows).
// The set is an open-addressing table of 16-byte slots probed by the first
// hash, and keys are checked keyBatch at a time: the table's slots for a
// batch are read first, so that their cache misses overlap instead of
// costing one after the other (a Go map of the pairs, checked row by row,
// was most of a million-row bill's parse).
type BillKeys struct {
	seed1, seed2 maphash.Seed
	// slots is the table; a zero first hash is an empty slot (first
	// hashes are made odd).
	slots   []keySlot
	n       int
	pending [keyBatch]pendingKey
	queued  int
	sink    uint64
}

// hugeKeys is the table size from which it asks for huge pages: the
// table is probed at random (240 MB at ten million rows, a TLB miss nearly
// every probe with small pages), but on this project's VMs the first touch
// of a huge page costs more than a million-row bill's 24 MB table saves
// (bench/README.md, "huge pages").
const hugeKeys = 64 << 20

// keyBatch is how many keys are checked together: enough outstanding
// memory reads to keep the memory system busy, and a repeat is still
// refused within a few dozen rows of where it stands.
const keyBatch = 64

// The table grows past a load of maxLoadNum/maxLoadDen: at two thirds a
// probe reads 16-byte slots from one or two cache lines, as at a half, and
// the table of a ten-million-row bill is 240 MB instead of 320 MB.
const maxLoadNum, maxLoadDen = 2, 3

type keySlot struct {
	first  uint64
	second uint32
	line   uint32 // the row's line number, for the message
}

type pendingKey struct {
	first    uint64
	second   uint32
	lineNo   int
	line     *BillLine
	movement *FundLine
	business string
}

// KeyRepeat is a row that repeats an earlier row's key: a trade bill's
// (Line) or a fund bill's (Movement).
type KeyRepeat struct {
	Line     *BillLine
	Movement *FundLine
	Business string
	First    int // the line number of the earlier row
}

// NewBillKeys makes an empty set.
func NewBillKeys() *BillKeys {
	k := &BillKeys{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	k.resize(1 << 12)
	return k
}

// Expect sizes the set for about rows keys at once, so that it does not
// grow by doubling as they come: each doubling rehashed every key so far
// (a tenth of a ten-million-row parse) and held the old table beside the
// new one, twice as large.
func (k *BillKeys) Expect(rows int) {
	if k == nil {
		return
	}
	if size := rows * maxLoadDen / maxLoadNum; size > len(k.slots) {
		k.resize(size)
	}
}

// slotOf is where a first hash starts its probe: its place in a table of
// any size (the high bits of hash × size), so the table is sized to its
// keys and not to the next power of two.
func (k *BillKeys) slotOf(first uint64) int {
	hi, _ := bits.Mul64(first, uint64(len(k.slots)))
	return int(hi)
}

// Add queues l's key (l must stay valid until the next Flush or until Add
// reports a repeat), and checks the queue once it is full: the first row
// of the queue that repeats an earlier row's key is returned. business is
// the row's business type as the bill prints it (Alipay 业务类型, WeChat
// Pay 交易状态): a WeChat payment and its revocation are two rows of one
// trade.
func (k *BillKeys) Add(l *BillLine, business string) *KeyRepeat {
	if k == nil {
		return nil
	}
	var buf [128]byte
	key := append(buf[:0], l.TradeNo...)
	key = append(key, 0)
	key = append(key, business...)
	key = append(key, 0)
	switch {
	case l.Kind == LinePayment:
	case l.OutRequestNo != "":
		key = append(key, l.OutRequestNo...)
	case l.RefundID != "":
		key = append(key, l.RefundID...)
	default:
		// A refund without a number (made in a platform's console): two
		// of them on one trade differ at least in time or amount.
		key = strconv.AppendInt(key, l.Time.UnixNano(), 10)
		key = append(key, 0)
		key = strconv.AppendInt(key, int64(l.Amount), 10)
	}
	return k.queue(pendingKey{line: l, lineNo: l.Line, business: business}, key)
}

// AddMovement is Add for a fund bill's movement. Its key is the platform's
// flow number (Alipay 账务流水号, one per movement; WeChat Pay 资金流水单号,
// the trade's number on its payment, fee and refund rows alike) with the
// business type, the business's own numbers and the direction: a real bill
// moves money once for each. A movement without a flow number is keyed by
// what it moved, when, and the balance it left.
func (k *BillKeys) AddMovement(l *FundLine) *KeyRepeat {
	if k == nil {
		return nil
	}
	var buf [160]byte
	key := append(buf[:0], 1) // never a trade bill's key
	key = append(key, l.FlowNo...)
	key = append(key, 0)
	key = append(key, l.Type...)
	key = append(key, 0)
	key = append(key, l.TradeNo...)
	key = append(key, 0)
	key = append(key, l.RefundID...)
	key = append(key, 0)
	key = append(key, l.OutRequestNo...)
	if l.Amount < 0 {
		key = append(key, '-')
	}
	if l.FlowNo == "" {
		key = append(key, 0)
		key = strconv.AppendInt(key, l.Time.UnixNano(), 10)
		key = append(key, 0)
		key = strconv.AppendInt(key, int64(l.Amount), 10)
		key = append(key, 0)
		key = strconv.AppendInt(key, int64(l.Balance), 10)
	}
	return k.queue(pendingKey{movement: l, lineNo: l.Line, business: l.Type}, key)
}

// MovementText names a repeated movement (Movement set) in an error
// message: by its flow number under the bill's own name for it (flowCol),
// else by what it moved and when.
func (r *KeyRepeat) MovementText(flowCol string) string {
	m := r.Movement
	if m.FlowNo == "" {
		return fmt.Sprintf("%s %s of %s", m.Type, m.Amount, m.Time.Format(time.DateTime))
	}
	return fmt.Sprintf("%s %s (%s %s)", flowCol, m.FlowNo, m.Type, m.Amount)
}

// queue hashes key into p and queues it, checking the queue once it is
// full.
func (k *BillKeys) queue(p pendingKey, key []byte) *KeyRepeat {
	p.first, p.second = maphash.Bytes(k.seed1, key)|1, uint32(maphash.Bytes(k.seed2, key))
	k.pending[k.queued] = p
	k.queued++
	if k.queued < keyBatch {
		return nil
	}
	return k.Flush()
}

// Flush checks the queued keys; call it at the end of the bill.
func (k *BillKeys) Flush() *KeyRepeat {
	if k == nil {
		return nil
	}
	batch := k.pending[:k.queued]
	k.queued = 0
	var sink uint64
	for i := range batch {
		sink += k.slots[k.slotOf(batch[i].first)].first
	}
	k.sink = sink
	for i := range batch {
		p := &batch[i]
		if first, ok := k.insert(keySlot{p.first, p.second, uint32(max(p.lineNo, 0))}); !ok {
			r := &KeyRepeat{Line: p.line, Movement: p.movement, Business: p.business, First: first}
			*p = pendingKey{}
			return r
		}
		*p = pendingKey{} // drop the line: the caller may reuse it
	}
	return nil
}

func (k *BillKeys) insert(s keySlot) (first int, ok bool) {
	for i := k.slotOf(s.first); ; i = k.next(i) {
		switch at := &k.slots[i]; at.first {
		case 0:
			*at = s
			k.n++
			if k.n*maxLoadDen > len(k.slots)*maxLoadNum {
				k.resize(2 * len(k.slots))
			}
			return 0, true
		case s.first:
			if at.second == s.second {
				return int(at.line), false
			}
		}
	}
}

// next is the slot after i, wrapping around.
func (k *BillKeys) next(i int) int {
	if i++; i == len(k.slots) {
		return 0
	}
	return i
}

// resize rehashes the table into size slots.
func (k *BillKeys) resize(size int) {
	old := k.slots
	k.slots = make([]keySlot, size)
	if len(k.slots)*int(unsafe.Sizeof(keySlot{})) >= hugeKeys {
		hugepages.Advise(k.slots)
	}
	for _, s := range old {
		if s.first == 0 {
			continue
		}
		i := k.slotOf(s.first)
		for k.slots[i].first != 0 {
			i = k.next(i)
		}
		k.slots[i] = s
	}
}
