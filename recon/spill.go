package recon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"time"
	"unsafe"

	"github.com/paydesk/paydesk/gateway"
)

// Matching a day larger than memory.
//
// The matcher indexes the day's orders in memory, about a hundred bytes an
// order. With Input.Spill set, a day of more than MemoryOrders orders is
// matched in parts instead (a hash join done in partitions): the orders
// and the bill's payment lines are written to spill files in 64 buckets by
// a hash of the order number, and at Close each group of buckets that fits
// in MemoryOrders is indexed and its lines matched against it, in file
// order within the group. Everything one order number touches (its order,
// its lines, the suspense held for it, its further payments) falls in one
// bucket, so each is judged exactly as it would be in one pass; refund
// lines, which name requests and not orders, are matched as they come.
// Memory then holds one group, however long the day.

// SpillFile is a temporary file the matcher writes a large day to and reads
// back: an *os.File does. The matcher closes it; whoever made it removes it
// on Close.
type SpillFile interface {
	io.Writer
	io.ReaderAt
	io.Closer
}

// DefaultMemoryOrders is how many orders the matcher indexes at once when
// it may spill: about 250 MB of index.
const DefaultMemoryOrders = 2_000_000

const (
	spillBucketBits = 6
	spillBuckets    = 1 << spillBucketBits
	spillBlockSize  = 64 << 10
)

// spillState is a matcher's spill once its day outgrew memory.
type spillState struct {
	seed   maphash.Seed
	orders *spillFile // order records (orderIndex layout) by bucket
	lines  *spillFile // payment lines (encodeLine) by bucket
	counts [spillBuckets]int
	done   bool // the groups have been matched
}

func (sp *spillState) bucket(key string) int {
	return int(maphash.String(sp.seed, key) >> (64 - spillBucketBits))
}

func (sp *spillState) close() error {
	var errs []error
	for _, f := range []*spillFile{sp.orders, sp.lines} {
		if f != nil {
			errs = append(errs, f.f.Close())
		}
	}
	return errors.Join(errs...)
}

// spillFile holds records by bucket: each bucket's records are buffered
// and written in blocks, and read back block by block in the order they
// were added.
type spillFile struct {
	f      SpillFile
	size   int64
	buf    [spillBuckets][]byte
	blocks [spillBuckets][]spillBlock
}

type spillBlock struct {
	off int64
	n   int
}

func newSpillFile(open func() (SpillFile, error)) (*spillFile, error) {
	f, err := open()
	if err != nil {
		return nil, fmt.Errorf("recon: spill file: %w", err)
	}
	return &spillFile{f: f}, nil
}

// add appends one record to bucket b; a record never spans two blocks.
func (s *spillFile) add(b int, rec []byte) error {
	if len(s.buf[b])+len(rec) > spillBlockSize && len(s.buf[b]) > 0 {
		if err := s.flush(b); err != nil {
			return err
		}
	}
	if s.buf[b] == nil {
		s.buf[b] = make([]byte, 0, spillBlockSize)
	}
	s.buf[b] = append(s.buf[b], rec...)
	return nil
}

func (s *spillFile) flush(b int) error {
	n, err := s.f.Write(s.buf[b])
	if err != nil {
		return fmt.Errorf("recon: writing the spill: %w", err)
	}
	s.blocks[b] = append(s.blocks[b], spillBlock{s.size, n})
	s.size += int64(n)
	s.buf[b] = s.buf[b][:0]
	return nil
}

// each calls fn with bucket b's blocks in order. With a scratch buffer the
// block is fn's only until it returns; with nil, each block is new memory
// that nothing else writes (strings may point into it).
func (s *spillFile) each(b int, scratch *[]byte, fn func([]byte) error) error {
	get := func(n int) []byte {
		if scratch == nil {
			return make([]byte, n)
		}
		if cap(*scratch) < n {
			*scratch = make([]byte, n)
		}
		return (*scratch)[:n]
	}
	for _, blk := range s.blocks[b] {
		p := get(blk.n)
		if _, err := s.f.ReadAt(p, blk.off); err != nil {
			return fmt.Errorf("recon: reading the spill back: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if tail := s.buf[b]; len(tail) > 0 {
		p := get(len(tail))
		copy(p, tail)
		return fn(p)
	}
	return nil
}

// startSpill moves the orders indexed so far into the spill; from now on
// add writes there.
func (m *Matcher) startSpill() error {
	sp := &spillState{seed: maphash.MakeSeed()}
	var err error
	if sp.orders, err = newSpillFile(m.in.Spill); err != nil {
		return err
	}
	m.spill = sp // closed by Close from here on
	if sp.lines, err = newSpillFile(m.in.Spill); err != nil {
		return err
	}
	x := m.orders
	x.each(func(off int) {
		if err == nil {
			err = m.spillRecord(x.rec(off)[:x.size(off)])
		}
	})
	m.orders = newOrderIndex()
	return err
}

// spillRecord writes one order record to its bucket.
func (m *Matcher) spillRecord(rec []byte) error {
	kl := int(binary.LittleEndian.Uint16(rec[recKeyLen:]))
	b := m.spill.bucket(string(rec[recHeader : recHeader+kl]))
	m.spill.counts[b]++
	return m.spill.orders.add(b, rec)
}

// spillLine writes one payment line to its bucket.
func (m *Matcher) spillLine(l *gateway.BillLine) error {
	m.lineBuf = encodeLine(m.lineBuf[:0], l)
	return m.spill.lines.add(m.spill.bucket(l.OutTradeNo), m.lineBuf)
}

// matchSpilled matches the spilled day group by group: a group's orders
// are indexed, its lines matched in file order, the suspense held for its
// orders settled, and its orders that no line paired reported.
func (m *Matcher) matchSpilled() error {
	sp := m.spill
	limit := m.memoryOrders()
	var scratch []byte
	lines := make([]gateway.BillLine, 0, 8*linesBatch)
	for first := 0; first < spillBuckets; {
		last, n := first, 0
		for last < spillBuckets && (last == first || n+sp.counts[last] <= limit) {
			n += sp.counts[last]
			last++
		}
		x := newOrderIndex()
		for b := first; b < last; b++ {
			err := sp.orders.each(b, &scratch, func(block []byte) error {
				for len(block) > 0 {
					size := recordSizeAt(block)
					x.addRecord(block[:size])
					block = block[size:]
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if dup := x.seal(); dup >= 0 {
			return inputErr("order %s appears twice", x.key(dup))
		}
		m.orders = x
		m.replay = true
		for b := first; b < last; b++ {
			err := sp.lines.each(b, nil, func(block []byte) error {
				for len(block) > 0 {
					var err error
					lines = lines[:len(lines)+1]
					if block, err = m.decodeLine(block, &lines[len(lines)-1]); err != nil {
						return err
					}
					if len(lines) == cap(lines) {
						if err := m.lines(lines, nil); err != nil {
							return err
						}
						lines = lines[:0]
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if err := m.lines(lines, nil); err != nil {
			return err
		}
		lines = lines[:0]
		m.replay = false
		m.settleBillSide(func(s *suspenseItem) bool {
			if s.f.Kind != gateway.LinePayment {
				return false
			}
			b := sp.bucket(s.f.OutTradeNo)
			return b >= first && b < last
		})
		m.unpairedOrders()
		first = last
	}
	m.orders = newOrderIndex()
	m.orders.seal()
	sp.done = true
	return nil
}

func (m *Matcher) memoryOrders() int {
	if m.in.MemoryOrders > 0 {
		return m.in.MemoryOrders
	}
	return DefaultMemoryOrders
}

// encodeLine appends the spill form of a bill line: every field, so that a
// line read back is the line that was written.
func encodeLine(b []byte, l *gateway.BillLine) []byte {
	b = binary.AppendUvarint(b, uint64(l.Line))
	b = binary.AppendVarint(b, int64(l.Amount))
	b = binary.AppendVarint(b, int64(l.Net))
	b = binary.AppendVarint(b, int64(l.Fee))
	if l.Time.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendVarint(b, l.Time.UnixNano())
	}
	for _, s := range [...]string{string(l.Kind), l.TradeNo, l.OutTradeNo, l.OutRequestNo, l.RefundID, l.State, l.Subject} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errBadSpill = errors.New("recon: the spill file does not read back as written")

// decodeLine reads one line of encodeLine's form from b into l and returns
// the rest of b. l's strings point into b, which must never be written
// again.
func (m *Matcher) decodeLine(b []byte, l *gateway.BillLine) ([]byte, error) {
	var ok bool
	u := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	i := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	ok = true
	*l = gateway.BillLine{Line: int(u()), Amount: gateway.Money(i()), Net: gateway.Money(i()), Fee: gateway.Money(i())}
	if !ok || len(b) == 0 {
		return nil, errBadSpill
	}
	hasTime := b[0] == 1
	b = b[1:]
	if hasTime {
		l.Time = time.Unix(0, i()).In(m.zone)
	}
	var strs [7]string
	for k := range strs {
		n := u()
		if !ok || uint64(len(b)) < n {
			return nil, errBadSpill
		}
		if n > 0 {
			strs[k] = unsafe.String(&b[0], n)
		}
		b = b[n:]
	}
	if !ok {
		return nil, errBadSpill
	}
	l.Kind = gateway.LineKind(strs[0])
	l.TradeNo, l.OutTradeNo, l.OutRequestNo, l.RefundID, l.State, l.Subject = strs[1], strs[2], strs[3], strs[4], strs[5], strs[6]
	return b, nil
}
