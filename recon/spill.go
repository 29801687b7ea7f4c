package recon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"reflect"
	"runtime"
	"sync"

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
// Memory then holds one group, however long the day. Each bucket's records
// are written against the last one before them (spill_codec.go), at about
// a third of their size in memory.

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
	spillBlockSize  = 256 << 10
)

// spillState is a matcher's spill once its day outgrew memory.
type spillState struct {
	seed   maphash.Seed
	orders *bucketStore // order records (encodeSpilledRecord) by bucket
	lines  *bucketStore // payment lines (encodeLine) by bucket; a spool's once taken
	counts [spillBuckets]int
	done   bool // the groups have been matched
}

func (sp *spillState) close() error {
	return errors.Join(sp.orders.close(), sp.lines.close())
}

func bucketOf(seed maphash.Seed, key string) int {
	return int(maphash.String(seed, key) >> (64 - spillBucketBits))
}

// otherLines is the bucket of a spool that holds the lines that are not
// payments (refunds): they name requests, not orders.
const otherLines = spillBuckets

// bucketStore holds records by bucket, in blocks, in the order they were
// added: in memory up to a bound of bytes, and in a spill file from the
// first block past it (the blocks held until then move to the file).
type bucketStore struct {
	open   func() (SpillFile, error)
	memory int // bytes of blocks held in memory; 0 writes every block to the file
	held   int
	f      SpillFile // nil until a block goes to the file
	size   int64
	buf    [spillBuckets + 1][]byte
	blocks [spillBuckets + 1][]storeBlock
	// coders are each bucket's last record, which the next one added is
	// written against (spill_codec.go).
	coders [spillBuckets + 1]frontCoder
}

// storeBlock is a block held in memory (mem), or n bytes at off in the
// file.
type storeBlock struct {
	mem []byte
	off int64
	n   int
}

func newBucketStore(open func() (SpillFile, error), memory int) *bucketStore {
	return &bucketStore{open: open, memory: memory}
}

// add appends one record to bucket b; a record never spans two blocks.
func (s *bucketStore) add(b int, rec []byte) error {
	if len(s.buf[b])+len(rec) > spillBlockSize && len(s.buf[b]) > 0 {
		if err := s.seal(b); err != nil {
			return err
		}
	}
	if s.buf[b] == nil {
		s.buf[b] = make([]byte, 0, spillBlockSize)
	}
	s.buf[b] = append(s.buf[b], rec...)
	return nil
}

// seal ends bucket b's block in progress: held in memory while the bound
// allows, else written to the file.
func (s *bucketStore) seal(b int) error {
	blk := s.buf[b]
	if s.f == nil && s.held+len(blk) <= s.memory {
		s.blocks[b] = append(s.blocks[b], storeBlock{mem: blk, n: len(blk)})
		s.held += len(blk)
		s.buf[b] = nil // the block is never written again
		return nil
	}
	if s.f == nil {
		f, err := s.open()
		if err != nil {
			return fmt.Errorf("recon: spill file: %w", err)
		}
		s.f = f
		for i := range s.blocks {
			for j := range s.blocks[i] {
				if err := s.write(&s.blocks[i][j]); err != nil {
					return err
				}
			}
		}
		s.held = 0
	}
	s.blocks[b] = append(s.blocks[b], storeBlock{mem: blk, n: len(blk)})
	if err := s.write(&s.blocks[b][len(s.blocks[b])-1]); err != nil {
		return err
	}
	s.buf[b] = blk[:0]
	return nil
}

// write moves a block held in memory to the end of the file.
func (s *bucketStore) write(blk *storeBlock) error {
	if blk.mem == nil {
		return nil
	}
	if _, err := s.f.Write(blk.mem); err != nil {
		return fmt.Errorf("recon: writing the spill: %w", err)
	}
	blk.off, blk.mem = s.size, nil
	s.size += int64(blk.n)
	return nil
}

// readAhead is how many blocks of a bucket are being read from the file
// while fn works on one: a spill is read past the page cache, where a
// 256 KiB read waits about 300 µs on the disk here, and a disk answers
// several reads at once faster than one after the other.
const readAhead = 4

// readBuffers are the blocks a bucket is read back through: fn's, and the
// next ones', read from the file meanwhile.
type readBuffers [readAhead + 1][]byte

// each calls fn with bucket b's blocks in order, reading the next blocks
// from the file while fn works on one. With buffers, a block read from the
// file is fn's only until it returns; with nil, every block is memory that
// nothing writes again (strings may point into it).
func (s *bucketStore) each(b int, buffers *readBuffers, fn func([]byte) error) error {
	get := func(i, n int) []byte {
		if buffers == nil {
			return make([]byte, n)
		}
		buf := &buffers[i%len(buffers)]
		if cap(*buf) < n {
			*buf = make([]byte, n)
		}
		return (*buf)[:n]
	}
	type read struct {
		p   []byte
		err error
	}
	blocks := s.blocks[b]
	fetch := func(i int) chan read {
		blk := blocks[i]
		next := make(chan read, 1)
		if blk.mem != nil {
			next <- read{p: blk.mem}
			return next
		}
		p := get(i, blk.n)
		go func() {
			if _, err := s.f.ReadAt(p, blk.off); err != nil {
				next <- read{err: fmt.Errorf("recon: reading the spill back: %w", err)}
				return
			}
			next <- read{p: p}
		}()
		return next
	}
	// Reads still under way when each returns would write into buffers
	// their owner has taken back.
	var pending []chan read
	defer func() {
		for _, r := range pending {
			<-r
		}
	}()
	fetched := 0
	for i := range blocks {
		for ; fetched < len(blocks) && fetched <= i+readAhead; fetched++ {
			pending = append(pending, fetch(fetched))
		}
		r := <-pending[0]
		pending = pending[1:]
		if r.err != nil {
			return r.err
		}
		if err := fn(r.p); err != nil {
			return err
		}
	}
	if tail := s.buf[b]; len(tail) > 0 {
		p := get(len(blocks), len(tail))
		copy(p, tail)
		return fn(p)
	}
	return nil
}

func (s *bucketStore) close() error {
	if s == nil || s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	return f.Close()
}

// LineSpool holds a bill's lines while the day's orders are still being
// indexed (the two are read at once), for the matcher to take them once it
// is ready: by bucket, as a spilled day needs them, in memory up to a bound
// and in a spill file beyond it. It is used by one goroutine at a time, and
// is made before the matcher it is given to (Input.Spool).
type LineSpool struct {
	seed  maphash.Seed
	store *bucketStore
	buf   []byte
	taken bool
}

// NewLineSpool makes a spool that holds up to memory bytes of lines before
// it writes them to a file made by spill.
func NewLineSpool(spill func() (SpillFile, error), memory int) *LineSpool {
	return &LineSpool{seed: maphash.MakeSeed(), store: newBucketStore(spill, memory)}
}

// Add holds lines; they are judged once a matcher takes them, and counted
// in the bill's totals then.
func (s *LineSpool) Add(lines []gateway.BillLine) error {
	if s.taken {
		return errors.New("recon: lines added to a spool a matcher has taken")
	}
	for i := range lines {
		l := &lines[i]
		b := otherLines
		if l.Kind == gateway.LinePayment {
			b = bucketOf(s.seed, l.OutTradeNo)
		}
		s.buf = encodeLine(s.buf[:0], l, &s.store.coders[b])
		if err := s.store.add(b, s.buf); err != nil {
			return err
		}
	}
	return nil
}

// Close releases a spool no matcher took (a run that failed before).
func (s *LineSpool) Close() error {
	if s.taken {
		return nil
	}
	return s.store.close()
}

// TakeLines judges the lines a spool holds, which came before the lines
// given to Lines from now on: a day in memory matches them all now; a
// spilled day matches the lines that are not payments now and keeps the
// spool's payment lines for their groups at Close. The spool must be the
// one given as Input.Spool.
func (m *Matcher) TakeLines(s *LineSpool) error {
	if s != m.in.Spool || s.taken {
		return errors.New("recon: TakeLines takes the spool of Input.Spool, once")
	}
	s.taken = true
	var lines []gateway.BillLine
	var buffers readBuffers
	lr := &lineReader{}
	replay := func(b int) error {
		lr.nextBucket()
		return s.store.each(b, &buffers, func(block []byte) error {
			var err error
			lines, err = m.replay(block, lines, lr)
			return err
		})
	}
	if err := replay(otherLines); err != nil {
		s.store.close()
		return err
	}
	if m.spill != nil {
		m.spill.lines = s.store // closed with the spill
		return nil
	}
	defer s.store.close()
	for b := range spillBuckets {
		if err := replay(b); err != nil {
			return err
		}
	}
	return nil
}

// replay decodes the lines of a block, the next of lr's bucket, and
// matches them, in batches: when it returns, nothing points into the block
// or lr's arena any more.
func (m *Matcher) replay(block []byte, lines []gateway.BillLine, lr *lineReader) ([]gateway.BillLine, error) {
	if lines == nil {
		lines = make([]gateway.BillLine, 0, 8*linesBatch)
	}
	for len(block) > 0 {
		var err error
		lines = lines[:len(lines)+1]
		if block, err = m.decodeLine(block, &lines[len(lines)-1], lr); err != nil {
			return lines[:0], err
		}
		if len(lines) == cap(lines) {
			if err := m.lines(lines, nil); err != nil {
				return lines[:0], err
			}
			lines = lines[:0]
			lr.clear()
		}
	}
	err := m.lines(lines, nil)
	lr.clear()
	return lines[:0], err
}

// startSpill moves the orders indexed so far into the spill; from now on
// add writes there.
func (m *Matcher) startSpill() error {
	sp := &spillState{seed: m.seed, orders: newBucketStore(m.in.Spill, 0)}
	if m.in.Spool == nil {
		sp.lines = newBucketStore(m.in.Spill, 0)
	}
	m.spill = sp // closed by Close from here on
	var err error
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
	b := bucketOf(m.spill.seed, string(rec[recHeader:recHeader+kl]))
	m.spill.counts[b]++
	m.spillBuf = encodeSpilledRecord(m.spillBuf[:0], rec, &m.spill.orders.coders[b])
	return m.spill.orders.add(b, m.spillBuf)
}

// spillLine writes one payment line to its bucket, to be judged (and
// counted in the bill's totals) with its group.
func (m *Matcher) spillLine(l *gateway.BillLine) error {
	b := bucketOf(m.spill.seed, l.OutTradeNo)
	m.spillBuf = encodeLine(m.spillBuf[:0], l, &m.spill.lines.coders[b])
	return m.spill.lines.add(b, m.spillBuf)
}

// matchSpilled matches the spilled day group by group: a group's orders
// are indexed, its lines matched in file order, the suspense held for its
// orders settled, and its orders that no line paired reported. Groups are
// independent (their order numbers never meet), so they are matched on
// every core at once, each worker with findings and totals of its own that
// are added up at the end; the groups are then half as large, so memory
// holds MemoryOrders orders however many workers run.
func (m *Matcher) matchSpilled() error {
	sp := m.spill
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	limit := max(1, m.memoryOrders()/workers)
	type group struct{ first, last int }
	var groups []group
	for first := 0; first < spillBuckets; {
		last, n := first, 0
		for last < spillBuckets && (last == first || n+sp.counts[last] <= limit) {
			n += sp.counts[last]
			last++
		}
		groups = append(groups, group{first, last})
		first = last
	}
	workers = min(workers, len(groups))
	todo := make(chan group, len(groups))
	for _, g := range groups {
		todo <- g
	}
	close(todo)
	forks := make([]*Matcher, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range forks {
		forks[i] = m.fork()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range todo {
				if errs[i] == nil {
					errs[i] = forks[i].matchGroup(g.first, g.last)
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, w := range forks {
		m.join(w)
	}
	m.orders = newOrderIndex()
	m.orders.seal()
	sp.done = true
	return nil
}

// matchGroup matches the buckets [first, last) of a spilled day.
func (m *Matcher) matchGroup(first, last int) error {
	sp := m.spill
	var buffers readBuffers
	x := m.orders.emptied() // the last group's, for its memory
	x.huge = true
	var c frontCoder
	for b := first; b < last; b++ {
		c.reset()
		err := sp.orders.each(b, &buffers, func(block []byte) error {
			for len(block) > 0 {
				var err error
				if block, err = decodeSpilledRecord(block, x, &c); err != nil {
					return err
				}
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
	var lines []gateway.BillLine
	lr := &lineReader{}
	for b := first; b < last; b++ {
		lr.nextBucket()
		if err := sp.lines.each(b, &buffers, func(block []byte) error {
			var err error
			lines, err = m.replay(block, lines, lr)
			return err
		}); err != nil {
			return err
		}
	}
	m.settleBillSide(func(s *suspenseItem) bool {
		if s.f.Kind != gateway.LinePayment {
			return false
		}
		b := bucketOf(sp.seed, s.f.OutTradeNo)
		return b >= first && b < last
	})
	m.unpairedOrders()
	return nil
}

// fork is a worker for the groups of a spilled day: it shares what groups
// only read (the input, the decoding tables, the further payments, the
// suspense, whose items each belong to one group, the spill) and has its
// own of what they change (the index, the caches of looked-up orders, the
// tallies, totals and findings), which join adds to m's.
func (m *Matcher) fork() *Matcher {
	return &Matcher{
		in: m.in, start: m.start, end: m.end, zone: m.zone, window: m.window, suspenseDays: m.suspenseDays,
		statuses: m.statuses, vias: m.vias, channels: m.channels, extras: m.extras,
		refundIdx: m.refundIdx, refundTaken: m.refundTaken,
		suspense: m.suspense, localHold: m.localHold, feeCheck: m.feeCheck,
		spill: m.spill, seed: m.seed,
	}
}

// join adds a fork's results to m's.
func (m *Matcher) join(w *Matcher) {
	for i := range m.tally {
		m.tally[i].Count += w.tally[i].Count
		m.tally[i].Amount += w.tally[i].Amount
	}
	addTotals(&m.computed, w.computed)
	m.expectedFees += w.expectedFees
	m.findings = append(m.findings, w.findings...)
	m.carry = append(m.carry, w.carry...)
	m.settled = append(m.settled, w.settled...)
	m.notices = append(m.notices, w.notices...)
}

// addTotals adds every count and sum of b to a (their fields are all
// integers: counts and Money).
func addTotals(a *gateway.BillTotals, b gateway.BillTotals) {
	av, bv := reflect.ValueOf(a).Elem(), reflect.ValueOf(b)
	for i := range av.NumField() {
		av.Field(i).SetInt(av.Field(i).Int() + bv.Field(i).Int())
	}
}

func (m *Matcher) memoryOrders() int {
	if m.in.MemoryOrders > 0 {
		return m.in.MemoryOrders
	}
	return DefaultMemoryOrders
}
