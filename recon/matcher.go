package recon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Matcher reconciles one bill, fed line by line, against the local records
// of its day. It keeps an index of the day's orders and a map of its refunds,
// with a flag per record, never the lines: a bill of any length is matched
// in one pass without holding it. A Matcher is used by one goroutine.
type Matcher struct {
	in           Input
	start, end   time.Time // the business day [start, end) in zone
	zone         *time.Location
	window       time.Duration
	suspenseDays int

	orders *orderIndex
	// statuses, vias and channels decode the records' code bytes.
	statuses, vias, channels codes
	// extras holds ExtraTrades by the order's ordinal: few orders have any.
	extras map[uint32][]Payment
	// looked caches LookupOrder answers, found (with their own taken flag)
	// or not (nil), so two lines for one such order compare against the
	// same state and the store is asked once.
	looked map[string]*lookedOrder
	// extraSeen holds the ExtraTrades already paired with a line.
	extraSeen map[tradeKey]struct{}

	refundIdx    map[string]int32
	refundTaken  []bool
	lookedRefund map[string]*lookedRefund

	suspense []suspenseItem
	// localHold finds the local-side suspense items by their local
	// booking, for the line that may settle them.
	localHold map[holdKey]int

	tally    [numCategories]CategoryTotal
	computed gateway.BillTotals
	// feeCheck is set when a contracted rate is given: every line's fee is
	// compared with the rate's, and expectedFees sums the rate's fees.
	feeCheck     bool
	expectedFees gateway.Money
	findings     []Finding
	carry        []Finding
	settled      []Finding
	notices      []Finding

	// spill is set once the day outgrew memory (spill.go); seed places
	// order numbers in its buckets.
	spill *spillState
	seed  maphash.Seed
	// spillBuf holds a line's or a record's spill form on its way there.
	spillBuf []byte
	recBuf   []byte

	finished bool
	result   Result
	// sink keeps the batch warm-up loads of Lines from being optimized away.
	sink uint64
}

type lookedOrder struct {
	o     Order
	flags uint8 // fTaken
}

type lookedRefund struct {
	r     Refund
	taken bool
}

type tradeKey struct {
	channel gateway.Channel
	tradeNo string
}

// holdKey identifies a suspense item by what it is waiting for: a payment
// by (out_trade_no, trade_no), a refund by out_request_no.
type holdKey struct {
	kind gateway.LineKind
	side Side
	a, b string
}

type suspenseItem struct {
	f       Finding
	settled bool
}

// orderRef is an order with its pairing flag (fTaken in *flags), wherever
// it came from.
type orderRef struct {
	o     *Order
	flags *uint8
}

func (r orderRef) taken() bool { return *r.flags&fTaken != 0 }
func (r orderRef) take()       { *r.flags |= fTaken }

type refundRef struct {
	r     *Refund
	taken *bool
}

// booked is the platform's side of a pair: a bill line of this run or a
// bill-side suspense item of an earlier one (then hold is set). Its strings
// may point into a parser's buffer and are cloned before they are kept.
type booked struct {
	kind         gateway.LineKind
	outTradeNo   string
	tradeNo      string
	outRequestNo string
	amount       gateway.Money
	state        string
	refundStatus gateway.RefundStatus // a refund line's status as the bill printed it
	line         int
	at           time.Time
	hold         *suspenseItem
	// fee is the line's fee (BillLine.Fee); hasFee is false for a held
	// suspense item, whose fee is not kept.
	fee    gateway.Money
	hasFee bool
}

// NewMatcher checks in and prepares the maps of the day's records. It
// fails on input that would make the findings wrong: a day that is not the
// start of a business day, duplicate order or request numbers, or suspense
// that does not belong before this run.
func NewMatcher(in Input) (*Matcher, error) {
	d, err := checkDay(in.Channel, in.Day, in.Zone, in.CrossDayWindow)
	if err != nil {
		return nil, err
	}
	m := &Matcher{in: in, start: d.start, end: d.end, zone: d.zone,
		window: d.window, suspenseDays: in.SuspenseDays, feeCheck: !in.FeeRate.IsZero(), seed: maphash.MakeSeed()}
	if in.Spool != nil {
		m.seed = in.Spool.seed // its payment lines are in the same buckets as the orders
	}
	switch {
	case m.suspenseDays == 0:
		m.suspenseDays = DefaultSuspenseDays
	case m.suspenseDays < 0:
		return nil, inputErr("suspense days %d is negative", m.suspenseDays)
	}

	if err := m.indexOrders(); err != nil {
		m.Release()
		return nil, err
	}
	m.refundIdx = make(map[string]int32, len(in.Refunds))
	m.refundTaken = make([]bool, len(in.Refunds))
	for i := range in.Refunds {
		no := in.Refunds[i].OutRequestNo
		if no == "" {
			return nil, inputErr("refund %d (order %s) has no out_request_no", i, in.Refunds[i].OutTradeNo)
		}
		m.refundIdx[no] = int32(i)
		if len(m.refundIdx) != i+1 {
			return nil, inputErr("refund %s appears twice", no)
		}
	}
	if err := m.loadSuspense(in.Suspense); err != nil {
		return nil, err
	}
	return m, nil
}

// runDay is the checked business day of a run and its cross-day window.
type runDay struct {
	start, end time.Time
	zone       *time.Location
	window     time.Duration
}

// checkDay checks the channel, day, zone and window every run needs: a day
// that is not the start of a business day in the zone would shift every
// boundary.
func checkDay(ch gateway.Channel, day time.Time, zone *time.Location, window time.Duration) (runDay, error) {
	if ch == "" {
		return runDay{}, inputErr("no channel")
	}
	if zone == nil {
		zone = gateway.Shanghai
	}
	if day.IsZero() {
		return runDay{}, inputErr("no day")
	}
	start, end := gateway.Day(day, zone)
	if !start.Equal(day) {
		return runDay{}, inputErr("day %s is not the start of a business day in %s (want %s)",
			day.Format(time.RFC3339), zone, start.Format(time.RFC3339))
	}
	switch {
	case window == 0:
		window = DefaultCrossDayWindow
	case window < 0 || window >= 24*time.Hour:
		return runDay{}, inputErr("cross-day window %s is not between 0 and 24h", window)
	}
	return runDay{start, end, zone, window}, nil
}

// ErrFinished is returned by Line and Lines after Finish.
var ErrFinished = errors.New("recon: matcher already finished")

// Line matches one bill line and returns the category it ended in. Lines
// must come in file order (the first of two payments for one order is
// judged as its payment, the second as the duplicate). The matcher does
// not keep line; the parser may reuse it.
//
// A matcher that spilled (Input.Spill) judges payment lines at Close: their
// category here is empty.
func (m *Matcher) Line(line *gateway.BillLine) (Category, error) {
	if line == nil {
		return "", fmt.Errorf("recon: nil bill line")
	}
	if m.spill != nil {
		var cats [1]Category
		err := m.Lines([]gateway.BillLine{*line}, cats[:])
		return cats[0], err
	}
	return m.line(line, 0, false)
}

// linesBatch is how many lines Lines looks up ahead: their index slots and
// records (two or three cache lines each) stay well inside the L2 cache.
const linesBatch = 128

// Lines matches consecutive bill lines, in file order, and stores the
// category of lines[i] in cats[i] when cats is not nil. It judges exactly
// as Line does, one line after the other, but first looks up the whole
// batch so that the memory reads of many lines overlap: with a million
// orders it matches lines about twice as fast as calling Line per line. On
// an error, the lines before the failing one have been matched. A matcher
// that spilled (Input.Spill) judges refund lines now and payment lines at
// Close: their categories are left empty.
func (m *Matcher) Lines(lines []gateway.BillLine, cats []Category) error {
	if cats != nil && len(cats) < len(lines) {
		return fmt.Errorf("recon: %d categories for %d lines", len(cats), len(lines))
	}
	if m.spill != nil {
		return m.routeLines(lines, cats)
	}
	return m.lines(lines, cats)
}

// routeLines matches the refund lines of a spilled day and writes its
// payment lines to the spill, to be judged and counted with their group.
func (m *Matcher) routeLines(lines []gateway.BillLine, cats []Category) error {
	for i := range lines {
		l := &lines[i]
		var c Category
		var err error
		switch {
		case m.finished:
			return ErrFinished
		case l.Kind != gateway.LinePayment:
			c, err = m.line(l, 0, false)
		case l.Amount < 0:
			_, err = m.line(l, 0, false) // its error
		default:
			err = m.spillLine(l)
		}
		if err != nil {
			return err
		}
		if cats != nil {
			cats[i] = c
		}
	}
	return nil
}

// lines matches lines against the index in memory.
func (m *Matcher) lines(lines []gateway.BillLine, cats []Category) error {
	var hashes, slots [linesBatch]uint64
	for len(lines) > 0 {
		n := min(len(lines), linesBatch)
		var sink uint64
		for i := 0; i < n; i++ {
			hashes[i] = m.orders.hash(lines[i].OutTradeNo)
		}
		for i := 0; i < n; i++ {
			slots[i] = m.orders.slotFor(hashes[i])
		}
		for i := 0; i < n; i++ {
			sink += m.orders.warmRecord(slots[i])
		}
		m.sink = sink
		for i := 0; i < n; i++ {
			c, err := m.line(&lines[i], hashes[i], true)
			if err != nil {
				return err
			}
			if cats != nil {
				cats[i] = c
			}
		}
		lines = lines[n:]
		if cats != nil {
			cats = cats[n:]
		}
	}
	return nil
}

// line matches one line; h is the hash of its out_trade_no when hashed.
func (m *Matcher) line(line *gateway.BillLine, h uint64, hashed bool) (Category, error) {
	if m.finished {
		return "", ErrFinished
	}
	if line.Amount < 0 {
		return "", fmt.Errorf("recon: bill line %d: negative amount %s (want the positive amount of a normalized line)",
			line.Line, line.Amount)
	}
	if line.Kind == gateway.LinePayment {
		if !hashed {
			h = m.orders.hash(line.OutTradeNo)
		}
		// The common case first, touching only the order's index record.
		if off, ok := m.orders.findHashed(line.OutTradeNo, h); ok {
			m.computed.Add(line)
			feeOK := true
			if m.feeCheck {
				want := m.in.FeeRate.Fee(line.Amount)
				m.expectedFees += want
				feeOK = feeWithin(line.Fee, want)
			}
			if feeOK && m.orders.matches(off, line.TradeNo, int64(line.Amount)) {
				t := &m.tally[matchedIndex]
				t.Count++
				t.Amount += line.Amount
				return Matched, nil
			}
			b := bookedFrom(line)
			return m.pairPayment(m.indexed(off), &b), nil
		}
	}
	if m.feeCheck {
		want := m.in.FeeRate.Fee(line.Amount)
		if line.Kind == gateway.LineRefund {
			want = -want // a refund gives the fee of what it refunds back
		}
		m.expectedFees += want
	}
	b := bookedFrom(line)
	var cat Category
	switch line.Kind {
	case gateway.LinePayment:
		cat = m.paymentLine(&b)
	case gateway.LineRefund:
		cat = m.refundLine(&b)
	default:
		return "", fmt.Errorf("recon: bill line %d: unknown kind %q", line.Line, line.Kind)
	}
	m.computed.Add(line)
	return cat, nil
}

func bookedFrom(line *gateway.BillLine) booked {
	return booked{
		kind:         line.Kind,
		outTradeNo:   line.OutTradeNo,
		tradeNo:      line.TradeNo,
		outRequestNo: line.OutRequestNo,
		amount:       line.Amount,
		state:        line.State,
		refundStatus: line.RefundStatus,
		line:         line.Line,
		at:           line.Time,
		fee:          line.Fee,
		hasFee:       true,
	}
}

// feeWithin reports whether a bill's fee is within a fen of the contracted
// rate's: the platforms round each fee to the fen, and a refund in parts
// gives back fees that telescope over the refunded total, so one fen either
// way is rounding, not a wrong rate.
func feeWithin(fee, want gateway.Money) bool {
	d := fee - want
	return d >= -1 && d <= 1
}

// feeWrong reports whether b's fee is off the contracted rate (for a
// refund, the fee it gives back) by more than a fen; false without a rate
// or without the line's fee.
func (m *Matcher) feeWrong(b *booked) (want gateway.Money, wrong bool) {
	if !m.feeCheck || !b.hasFee {
		return 0, false
	}
	want = m.in.FeeRate.Fee(b.amount)
	if b.kind == gateway.LineRefund {
		want = -want
	}
	return want, !feeWithin(b.fee, want)
}

// Finish closes the run: it reports the local bookings of the day that no
// line paired, settles or ages the suspense, and returns the result. Calling
// it again returns the same result. A matcher given Input.Spill is finished
// with Close instead (Finish panics once it has spilled).
func (m *Matcher) Finish() Result {
	if m.finished {
		return m.result
	}
	if m.spill != nil && !m.spill.done {
		panic("recon: a matcher that spilled is finished with Close")
	}
	m.finished = true
	// Bill-side suspense first: a local booking it settles is not missing.
	// A spilled day settled the payments held for its orders group by
	// group (matchSpilled), and its index is empty now.
	m.settleBillSide(func(s *suspenseItem) bool { return m.spill == nil || s.f.Kind != gateway.LinePayment })
	m.unpairedOrders()
	m.unpairedRefunds()
	m.ageSuspense()

	Sort(m.findings)
	Sort(m.carry)
	Sort(m.settled)
	Sort(m.notices)
	counts := make(map[Category]CategoryTotal, numCategories)
	for i, c := range Categories {
		counts[c] = m.tally[i]
	}
	m.result = Result{
		Findings:     m.findings,
		Counts:       counts,
		Computed:     m.computed,
		Fees:         m.computed.Fees,
		ExpectedFees: m.expectedFees,
		FeeChecked:   m.feeCheck,
		Net:          m.computed.Net - m.computed.Fees,
		Carry:        m.carry,
		Settled:      m.settled,
		Notices:      m.notices,
	}
	return m.result
}

// Close finishes the run as Finish does, first matching a spilled day's
// parts (which can fail reading the spill back), and closes the spill.
func (m *Matcher) Close() (Result, error) {
	if m.finished {
		return m.result, nil
	}
	if sp := m.spill; sp != nil {
		err := m.matchSpilled()
		if cerr := sp.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Result{}, err
		}
	}
	return m.Finish(), nil
}

// Release closes the spill files of a matcher that will not be finished
// (its run failed); Close does it for one that is. It does nothing for a
// matcher that never spilled.
func (m *Matcher) Release() {
	if m.spill != nil {
		m.spill.close()
	}
	if s := m.in.Spool; s != nil && !s.taken {
		s.store.close()
	}
}

// Match runs a whole bill held in memory (tests, small bills); a bill read
// from a file is fed to a Matcher as it is parsed instead.
func Match(in Input, lines []gateway.BillLine) (Result, error) {
	m, err := NewMatcher(in)
	if err != nil {
		return Result{}, err
	}
	if err := m.Lines(lines, nil); err != nil {
		return Result{}, err
	}
	return m.Finish(), nil
}

// indexOrders loads the day's orders, from Orders or EachOrder, into the
// index, working out each payment's day and flags once here rather than per
// line.
func (m *Matcher) indexOrders() error {
	m.orders = newOrderIndex()
	m.statuses = codes{names: []string{"", string(OrderPending), string(OrderPaid), string(OrderClosed),
		string(OrderRefunded), string(OrderPartiallyRefunded)}}
	m.vias = codes{names: []string{"", PaidViaNotify, PaidViaQuery, PaidViaImport}}
	m.channels = codes{names: []string{string(m.in.Channel), string(gateway.Alipay), string(gateway.WeChat)}}
	var ordinal uint32
	add := func(o *Order) error {
		switch {
		case o.OutTradeNo == "":
			return inputErr("order %d has no out_trade_no", ordinal)
		case len(o.OutTradeNo) > maxField || len(o.TradeNo) > maxField:
			return inputErr("order %s: out_trade_no or trade_no longer than %d bytes", o.OutTradeNo, maxField)
		case ordinal == math.MaxUint32 || len(m.orders.chunks) >= 1<<(32+3-chunkBits)-1:
			return inputErr("too many orders for one run")
		}
		r := orderRecord{key: o.OutTradeNo, tradeNo: o.TradeNo, amount: int64(o.Amount), ordinal: ordinal}
		var ok [3]bool
		r.status, ok[0] = m.statuses.code(string(o.Status))
		r.via, ok[1] = m.vias.code(o.PaidVia)
		r.channelIdx, ok[2] = m.channels.code(string(o.Channel))
		if !ok[0] || !ok[1] || !ok[2] {
			return inputErr("order %s: too many distinct statuses, paid_via values or channels", o.OutTradeNo)
		}
		if o.Channel == m.in.Channel {
			r.flags |= fOnChannel
		}
		if o.Status.Paid() {
			r.flags |= fPaid
		}
		if o.NotifyVerified || o.PaidVia == PaidViaNotify {
			r.flags |= fVerified
		}
		if o.NotifyRejected {
			r.flags |= fRejected
		}
		if len(o.ExtraTrades) > 0 {
			r.flags |= fExtras
			if m.extras == nil {
				m.extras = make(map[uint32][]Payment)
			}
			m.extras[ordinal] = slices.Clone(o.ExtraTrades)
		}
		if at := orDate(o.PaidAt, o); !at.IsZero() {
			r.flags |= fHasTime
			r.at = at.UnixNano()
			if !o.PaidAt.IsZero() {
				r.flags |= fPaidAt
			}
		}
		r.day = int8(m.dayOf(orDate(o.PaidAt, o)))
		ordinal++
		if m.spill != nil {
			m.recBuf = slices.Grow(m.recBuf[:0], recordSize(len(r.key), len(r.tradeNo)))
			rec := m.recBuf[:recordSize(len(r.key), len(r.tradeNo))]
			encodeRecord(rec, &r)
			return m.spillRecord(rec)
		}
		m.orders.add(&r)
		if m.in.Spill != nil && m.orders.n >= m.memoryOrders() {
			return m.startSpill()
		}
		return nil
	}
	switch {
	case m.in.EachOrder != nil && len(m.in.Orders) > 0:
		return inputErr("both Orders and EachOrder are set")
	case m.in.EachOrder != nil:
		if err := m.in.EachOrder(func(o Order) error { return add(&o) }); err != nil {
			return fmt.Errorf("recon: loading the day's orders: %w", err)
		}
	default:
		for i := range m.in.Orders {
			if err := add(&m.in.Orders[i]); err != nil {
				return err
			}
		}
	}
	// The slice is not needed any more; the caller may drop it.
	m.in.Orders = nil
	if m.spill != nil {
		m.orders.seal() // empty: the groups are indexed at Close
		return nil
	}
	if dup := m.orders.seal(); dup >= 0 {
		return inputErr("order %s appears twice", m.orders.key(dup))
	}
	return nil
}

// indexed is the day's order whose record is at off. The Order is rebuilt
// from the record: only lines that are not a plain match, and orders left
// without a line, come here.
func (m *Matcher) indexed(off int) orderRef {
	x := m.orders
	r := x.rec(off)
	o := &Order{
		OutTradeNo:     x.key(off),
		Channel:        gateway.Channel(m.channels.names[r[recChannel]]),
		Amount:         gateway.Money(binary.LittleEndian.Uint64(r)),
		Status:         OrderStatus(m.statuses.names[r[recStatus]]),
		TradeNo:        x.tradeNo(off),
		PaidVia:        m.vias.names[r[recVia]],
		NotifyVerified: r[recFlags]&fVerified != 0,
		NotifyRejected: r[recFlags]&fRejected != 0,
	}
	if r[recFlags]&fHasTime != 0 {
		at := time.Unix(0, int64(binary.LittleEndian.Uint64(r[recTime:]))).In(m.zone)
		if r[recFlags]&fPaidAt != 0 {
			o.PaidAt = at
		} else {
			o.CreatedAt = at
		}
	}
	if r[recFlags]&fExtras != 0 {
		o.ExtraTrades = m.extras[binary.LittleEndian.Uint32(r[recOrdinal:])]
	}
	return orderRef{o, &r[recFlags]}
}

// codes numbers the few distinct values of a field (statuses, paid_via,
// channels) so a record stores a byte instead of a string.
type codes struct{ names []string }

func (c *codes) code(s string) (uint8, bool) {
	for i, n := range c.names {
		if n == s {
			return uint8(i), true
		}
	}
	if len(c.names) > math.MaxUint8 {
		return 0, false
	}
	c.names = append(c.names, s)
	return uint8(len(c.names) - 1), true
}

func (m *Matcher) findOrder(outTradeNo string) (orderRef, bool) {
	if off, ok := m.orders.find(outTradeNo); ok {
		return m.indexed(off), true
	}
	if outTradeNo == "" {
		return orderRef{}, false
	}
	if lo, ok := m.looked[outTradeNo]; ok {
		if lo == nil {
			return orderRef{}, false
		}
		return orderRef{&lo.o, &lo.flags}, true
	}
	if m.in.LookupOrder == nil {
		return orderRef{}, false
	}
	if m.looked == nil {
		m.looked = make(map[string]*lookedOrder)
	}
	o, ok := m.in.LookupOrder(outTradeNo)
	key := strings.Clone(outTradeNo)
	if !ok {
		m.looked[key] = nil
		return orderRef{}, false
	}
	lo := &lookedOrder{o: o}
	m.looked[key] = lo
	return orderRef{&lo.o, &lo.flags}, true
}

func (m *Matcher) findRefund(outRequestNo string) (refundRef, bool) {
	if i, ok := m.refundIdx[outRequestNo]; ok {
		return refundRef{&m.in.Refunds[i], &m.refundTaken[i]}, true
	}
	if outRequestNo == "" {
		return refundRef{}, false
	}
	if lr, ok := m.lookedRefund[outRequestNo]; ok {
		if lr == nil {
			return refundRef{}, false
		}
		return refundRef{&lr.r, &lr.taken}, true
	}
	if m.in.LookupRefund == nil {
		return refundRef{}, false
	}
	if m.lookedRefund == nil {
		m.lookedRefund = make(map[string]*lookedRefund)
	}
	r, ok := m.in.LookupRefund(outRequestNo)
	key := strings.Clone(outRequestNo)
	if !ok {
		m.lookedRefund[key] = nil
		return refundRef{}, false
	}
	lr := &lookedRefund{r: r}
	m.lookedRefund[key] = lr
	return refundRef{&lr.r, &lr.taken}, true
}

// dayOf places t against the run's day: -1 before it, 0 on it, 1 after.
// A zero time counts as on the day: the record was given for this day and
// has no better date.
func (m *Matcher) dayOf(t time.Time) int {
	switch {
	case t.IsZero():
		return 0
	case t.Before(m.start):
		return -1
	case t.Before(m.end):
		return 0
	}
	return 1
}

// nearMidnight reports whether t lies in the last CrossDayWindow of the day,
// where the other side may have booked it on the next day.
func (m *Matcher) nearMidnight(t time.Time) bool {
	return !t.Before(m.end.Add(-m.window)) && t.Before(m.end)
}

// daysSince counts calendar days in the zone from day to the run's day.
func (m *Matcher) daysSince(day time.Time) int {
	y1, m1, d1 := day.In(m.zone).Date()
	y2, m2, d2 := m.start.Date()
	a := time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC)
	b := time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a) / (24 * time.Hour))
}

// count tallies one item. Refunds count negative: the amounts read like
// the bill's Net.
func (m *Matcher) count(c Category, kind gateway.LineKind, amount gateway.Money) {
	t := &m.tally[c.index()]
	t.Count++
	if kind == gateway.LineRefund {
		amount = -amount
	}
	t.Amount += amount
}

// report records a finding of this run and tallies it.
func (m *Matcher) report(f Finding) {
	if f.Severity == "" {
		f.Severity = f.Category.Severity()
	}
	if f.Day.IsZero() {
		f.Day = m.start
	}
	f.Channel = m.in.Channel
	amount := f.PlatformAmount
	if f.Side == SideLocal {
		amount = f.LocalAmount
	}
	m.count(f.Category, f.Kind, amount)
	m.findings = append(m.findings, f)
	if f.Category == CrossDay {
		m.carry = append(m.carry, f)
	}
}

func (m *Matcher) notice(f Finding) {
	f.Category = Matched
	f.Severity = Info
	f.Channel = m.in.Channel
	if f.Day.IsZero() {
		f.Day = m.start
	}
	m.notices = append(m.notices, f)
}
