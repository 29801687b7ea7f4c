package recon_test

import (
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

var zone = gateway.Shanghai

// day is the start of a business day in the platforms' zone.
func day(t testing.TB, date string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", date, zone)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// at is a wall-clock time in the platforms' zone.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, zone)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func yuan(t testing.TB, s string) gateway.Money {
	t.Helper()
	m, err := gateway.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// paid is an Alipay order paid by a verified notification.
func paid(no, trade string, amount gateway.Money, when time.Time) recon.Order {
	return recon.Order{
		OutTradeNo:     no,
		Channel:        gateway.Alipay,
		Amount:         amount,
		Status:         recon.OrderPaid,
		TradeNo:        trade,
		CreatedAt:      when.Add(-time.Minute),
		PaidAt:         when,
		PaidVia:        recon.PaidViaNotify,
		NotifyVerified: true,
	}
}

func payLine(n int, no, trade string, amount gateway.Money, when time.Time) gateway.BillLine {
	return gateway.BillLine{Line: n, Kind: gateway.LinePayment, OutTradeNo: no, TradeNo: trade,
		Amount: amount, Net: amount, Fee: amount * 6 / 1000, Time: when, State: "交易"}
}

func refundLine(n int, no, trade, req string, amount gateway.Money, when time.Time) gateway.BillLine {
	return gateway.BillLine{Line: n, Kind: gateway.LineRefund, OutTradeNo: no, TradeNo: trade,
		OutRequestNo: req, Amount: amount, Net: -amount, Fee: -(amount * 6 / 1000), Time: when, State: "退款"}
}

func success(req, no string, amount gateway.Money, when time.Time) recon.Refund {
	return recon.Refund{OutRequestNo: req, OutTradeNo: no, Channel: gateway.Alipay, Amount: amount,
		Status: gateway.RefundSuccess, Source: recon.RefundSourceLocal, RefundedAt: when}
}

// store stands in for the local database behind LookupOrder/LookupRefund.
type store struct {
	orders  map[string]recon.Order
	refunds map[string]recon.Refund
}

func newStore(orders []recon.Order, refunds []recon.Refund) *store {
	s := &store{orders: map[string]recon.Order{}, refunds: map[string]recon.Refund{}}
	for _, o := range orders {
		s.orders[o.OutTradeNo] = o
	}
	for _, r := range refunds {
		s.refunds[r.OutRequestNo] = r
	}
	return s
}

func (s *store) input(ch gateway.Channel, d time.Time, orders []recon.Order, refunds []recon.Refund) recon.Input {
	return recon.Input{
		Channel: ch, Day: d, Zone: zone, Orders: orders, Refunds: refunds,
		LookupOrder: func(no string) (recon.Order, bool) {
			o, ok := s.orders[no]
			return o, ok
		},
		LookupRefund: func(no string) (recon.Refund, bool) {
			r, ok := s.refunds[no]
			return r, ok
		},
	}
}

// run feeds lines one by one and returns the per-line categories too. It
// also runs the same day spilled in parts of one order (every test that
// runs a day checks that a day matched in parts is judged exactly as in
// memory) and fails if the two results differ in anything.
func run(t testing.TB, in recon.Input, lines []gateway.BillLine) ([]recon.Category, recon.Result) {
	t.Helper()
	m, err := recon.NewMatcher(in)
	if err != nil {
		t.Fatal(err)
	}
	cats := make([]recon.Category, len(lines))
	for i := range lines {
		c, err := m.Line(&lines[i])
		if err != nil {
			t.Fatal(err)
		}
		cats[i] = c
	}
	res := m.Finish()
	if in.Spill == nil {
		spilled := runSpilled(t, in, lines, 1, 0)
		sameResult(t, "in memory", res, "spilled in parts of one order", spilled)
		spooled := runSpilled(t, in, lines, 1<<30, 1<<30)
		sameResult(t, "in memory", res, "in memory after a spool", spooled)
		both := runSpilled(t, in, lines, 1, 1)
		sameResult(t, "in memory", res, "spilled in parts after a spilled spool", both)
	}
	return cats, res
}

// runSpilled matches a day through in-memory spill files, at most
// memoryOrders orders indexed at once. With spool > 0 the first half of
// the lines goes through a LineSpool holding up to spool bytes in memory,
// the rest to Line.
func runSpilled(t testing.TB, in recon.Input, lines []gateway.BillLine, memoryOrders, spool int) recon.Result {
	t.Helper()
	var files []*memSpill
	in.Spill = func() (recon.SpillFile, error) {
		f := &memSpill{}
		files = append(files, f)
		return f, nil
	}
	in.MemoryOrders = memoryOrders
	early := 0
	if spool > 0 {
		in.Spool = recon.NewLineSpool(in.Spill, spool)
		early = len(lines) / 2
		if err := in.Spool.Add(lines[:early]); err != nil {
			t.Fatal(err)
		}
	}
	m, err := recon.NewMatcher(in)
	if err != nil {
		t.Fatal(err)
	}
	if in.Spool != nil {
		if err := m.TakeLines(in.Spool); err != nil {
			t.Fatal(err)
		}
	}
	for i := early; i < len(lines); i++ {
		if _, err := m.Line(&lines[i]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := m.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !f.closed {
			t.Fatal("a spill file was left open")
		}
	}
	return res
}

// sameResult fails unless two results are equal in every field.
func sameResult(t testing.TB, aName string, a recon.Result, bName string, b recon.Result) {
	t.Helper()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("%s and %s differ:\n%s: %+v\n%s: %+v", aName, bName, aName, a, bName, b)
	}
}

// memSpill is a spill file in memory.
type memSpill struct {
	b      []byte
	closed bool
}

func (f *memSpill) Write(p []byte) (int, error) {
	f.b = append(f.b, p...)
	return len(p), nil
}

func (f *memSpill) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(f.b)) {
		return 0, io.EOF
	}
	n := copy(p, f.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memSpill) Close() error {
	f.closed = true
	return nil
}

// only returns the single finding of category c, failing otherwise.
func only(t testing.TB, res recon.Result, c recon.Category) recon.Finding {
	t.Helper()
	var got []recon.Finding
	for _, f := range res.Findings {
		if f.Category == c {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want exactly one %s finding, got %d: %+v", c, len(got), got)
	}
	return got[0]
}

func wantCount(t testing.TB, res recon.Result, c recon.Category, n int, amount gateway.Money) {
	t.Helper()
	got := res.Counts[c]
	if got.Count != n || got.Amount != amount {
		t.Errorf("Counts[%s] = %d / %s, want %d / %s", c, got.Count, got.Amount, n, amount)
	}
}
