package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
)

func TestMain(m *testing.M) {
	os.Exit(dbtest.Run(m, func(dsn string) error {
		s, err := Open(dsn)
		if err != nil {
			return err
		}
		return s.Close()
	}))
}

// eachEngine runs f on a fresh store of each engine, as subtests.
func eachEngine(t *testing.T, f func(t *testing.T, s *Store)) {
	dbtest.Engines(t, func(t *testing.T, dsn string) { f(t, openDSN(t, dsn)) })
}

func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTemp opens a fresh SQLite store.
func openTemp(t testing.TB) *Store {
	return openDSN(t, dbtest.SQLiteFile(t))
}

var t0 = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

func seed(t testing.TB, s *Store, orders ...Order) {
	t.Helper()
	_, err := s.ImportOrders(context.Background(), t0, func(im *OrderImporter) error {
		for _, o := range orders {
			if err := im.Insert(context.Background(), o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pending(no string, amount gateway.Money) Order {
	return Order{OutTradeNo: no, Channel: gateway.Alipay, Amount: amount, Status: OrderPending, CreatedAt: t0}
}

func TestOpenMigratesAndRefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("user_version = %d, %v; want %d", v, err, SchemaVersion())
	}
	var mode string
	if err := s.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v", mode, err)
	}
	s.Close()

	// Reopening an up-to-date file is a no-op.
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("opening a newer schema: %v, want ErrNewerSchema", err)
	}
}

func TestMarkPaidConcurrentlyAppliesOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		seed(t, s, pending("T1", 1234))
		p := Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "2026112222001", Amount: 1234, PaidAt: t0, Via: ViaNotify}
		results := make([]PaymentResult, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = s.MarkPaid(context.Background(), p, t0)
			}()
		}
		wg.Wait()
		got := map[PaymentOutcome]int{}
		for i := range 2 {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			got[results[i].Outcome]++
		}
		if got[PaymentApplied] != 1 || got[PaymentAlreadyApplied] != 1 {
			t.Fatalf("outcomes %v; want one APPLIED and one DUPLICATE", got)
		}
		o, _ := s.GetOrder(context.Background(), "T1")
		if o.Status != OrderPaid || o.TradeNo != p.TradeNo || o.PaidVia != ViaNotify || !o.PaidAt.Equal(t0) {
			t.Fatalf("order after payment: %+v", o)
		}
	})
}

func TestMarkPaidByAnotherTradeIsADuplicatePayment(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seed(t, s, pending("T1", 500))
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "A1", Amount: 500, Via: ViaNotify}, t0); err != nil {
			t.Fatal(err)
		}
		second := Payment{OutTradeNo: "T1", Channel: gateway.WeChat, TradeNo: "W1", Amount: 500, Via: ViaNotify}
		r, err := s.MarkPaid(ctx, second, t0)
		if err != nil || r.Outcome != PaymentDuplicate || !r.FirstSeen {
			t.Fatalf("second trade: %+v, %v", r, err)
		}
		r, err = s.MarkPaid(ctx, second, t0)
		if err != nil || r.Outcome != PaymentDuplicate || r.FirstSeen {
			t.Fatalf("same duplicate again: %+v, %v", r, err)
		}
		d, err := s.DuplicatePayments(ctx, "T1")
		if err != nil || len(d) != 1 || d[0].TradeNo != "W1" || d[0].Channel != gateway.WeChat {
			t.Fatalf("duplicates: %+v, %v", d, err)
		}
		o, _ := s.GetOrder(ctx, "T1")
		if o.TradeNo != "A1" || o.Channel != gateway.Alipay {
			t.Fatalf("a duplicate must not change the order: %+v", o)
		}
	})
}

// TestPaymentOnAnotherChannelIsRecordedNotApplied: an unpaid Alipay order
// paid on WeChat Pay stays unpaid and on Alipay; the payment is recorded
// once (refundable by its own trade); the order's own payment then applies
// and the recorded one is what it is: money taken twice.
func TestPaymentOnAnotherChannelIsRecordedNotApplied(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seed(t, s, pending("T1", 500))
		other := Payment{OutTradeNo: "T1", Channel: gateway.WeChat, TradeNo: "W1", Amount: 500, Via: ViaNotify}
		for i, first := range []bool{true, false} {
			r, err := s.MarkPaid(ctx, other, t0)
			if err != nil || r.Outcome != PaymentOtherChannel || r.FirstSeen != first {
				t.Fatalf("delivery %d: %+v, %v", i+1, r, err)
			}
		}
		if o, _ := s.GetOrder(ctx, "T1"); o.Status != OrderPending || o.Channel != gateway.Alipay || o.TradeNo != "" {
			t.Fatalf("a payment on another channel changed the order: %+v", o)
		}
		// Not this order's payment, so not held to its amount either.
		if r, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.WeChat, TradeNo: "W2", Amount: 1, Via: ViaNotify}, t0); err != nil || r.Outcome != PaymentOtherChannel {
			t.Fatalf("another amount on another channel: %+v %v", r, err)
		}
		if r, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "A1", Amount: 500, Via: ViaNotify}, t0); err != nil || r.Outcome != PaymentApplied {
			t.Fatalf("its own payment: %+v %v", r, err)
		}
		d, err := s.DuplicatePayments(ctx, "T1")
		if err != nil || len(d) != 2 || d[0].TradeNo != "W1" || d[1].Amount != 1 {
			t.Fatalf("recorded payments: %+v %v", d, err)
		}
		if o, _ := s.GetOrder(ctx, "T1"); o.Status != OrderPaid || o.Channel != gateway.Alipay || o.TradeNo != "A1" {
			t.Fatalf("order: %+v", o)
		}
	})
}

func TestMarkPaidRefusesAnotherAmountAndUnknownOrders(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seed(t, s, pending("T1", 500))
		_, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "A1", Amount: 499, Via: ViaNotify}, t0)
		if !errors.Is(err, ErrAmountMismatch) {
			t.Fatalf("amount mismatch: %v", err)
		}
		if o, _ := s.GetOrder(ctx, "T1"); o.Status != OrderPending {
			t.Fatalf("refused payment changed the order: %+v", o)
		}
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "NOPE", Amount: 1}, t0); !errors.Is(err, ErrOrderNotFound) {
			t.Fatalf("unknown order: %v", err)
		}
	})
}

func TestConcurrentRefundsNeverExceedThePaidAmount(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seed(t, s, pending("T1", 1000))
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "A1", Amount: 1000, Via: ViaNotify}, t0); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var begun []Refund
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, err := s.BeginRefund(ctx, "T1", 150, "test", "op", t0)
				if err != nil {
					if !errors.Is(err, ErrRefundCeiling) {
						t.Error(err)
					}
					return
				}
				// Half of them succeed at once, so the ceiling mixes
				// succeeded and pending refunds.
				if i%2 == 0 {
					if _, err := s.FinishRefund(ctx, f.OutRequestNo, RefundOutcome{Status: gateway.RefundSuccess, RefundID: fmt.Sprint("RID", i)}, t0); err != nil {
						t.Error(err)
					}
				}
				mu.Lock()
				begun = append(begun, f)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(begun) != 6 {
			t.Fatalf("%d refunds of 1.50 began on a 10.00 order; want 6", len(begun))
		}
		var succeeded, pendingSum, refunded int64
		if err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(amount),0) FROM refunds WHERE status='SUCCESS'`).Scan(&succeeded); err != nil {
			t.Fatal(err)
		}
		if err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(amount),0) FROM refunds WHERE status='PENDING'`).Scan(&pendingSum); err != nil {
			t.Fatal(err)
		}
		if err := s.r.QueryRowContext(ctx, `SELECT refunded FROM orders WHERE out_trade_no='T1'`).Scan(&refunded); err != nil {
			t.Fatal(err)
		}
		if succeeded+pendingSum > 1000 || succeeded != refunded {
			t.Fatalf("succeeded %d + pending %d > paid 1000, or order.refunded %d != succeeded", succeeded, pendingSum, refunded)
		}
		seen := map[string]bool{}
		for _, f := range begun {
			if seen[f.OutRequestNo] {
				t.Fatalf("request number %s issued twice", f.OutRequestNo)
			}
			seen[f.OutRequestNo] = true
		}
	})
}

func TestFinishRefundMovesTheOrderAndIsIdempotent(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seed(t, s, pending("T1", 1000))
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "A1", Amount: 1000, Via: ViaNotify}, t0); err != nil {
			t.Fatal(err)
		}
		f1, err := s.BeginRefund(ctx, "T1", 400, "damaged", "alice", t0)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // a notification and a query both report success
			if _, err := s.FinishRefund(ctx, f1.OutRequestNo, RefundOutcome{Status: gateway.RefundSuccess, RefundID: "R1"}, t0); err != nil {
				t.Fatal(err)
			}
		}
		o, _ := s.GetOrder(ctx, "T1")
		if o.Status != OrderPartiallyRefunded || o.Refunded != 400 {
			t.Fatalf("after 4.00 of 10.00: %+v", o)
		}
		if _, err := s.FinishRefund(ctx, f1.OutRequestNo, RefundOutcome{Status: gateway.RefundFailed}, t0); !errors.Is(err, ErrRefundNotPending) {
			t.Fatalf("contradicting a final status: %v", err)
		}
		f2, err := s.BeginRefund(ctx, "T1", 600, "rest", "alice", t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginRefund(ctx, "T1", 1, "one more", "alice", t0); !errors.Is(err, ErrRefundCeiling) {
			t.Fatalf("refund past a pending one: %v", err)
		}
		if _, err := s.FinishRefund(ctx, f2.OutRequestNo, RefundOutcome{Status: gateway.RefundSuccess}, t0); err != nil {
			t.Fatal(err)
		}
		o, _ = s.GetOrder(ctx, "T1")
		if o.Status != OrderRefunded || o.Refunded != 1000 {
			t.Fatalf("after the full amount: %+v", o)
		}
	})
}

func TestPlatformRefundTheStoreLacksIsRecordedForReview(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seed(t, s, pending("T1", 1000))
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "A1", Amount: 1000, Via: ViaNotify}, t0); err != nil {
			t.Fatal(err)
		}
		p := PlatformRefund{OutTradeNo: "T1", OutRequestNo: "CONSOLE1", RefundID: "X", Amount: 300, RefundedAt: t0}
		out, f, err := s.RecordPlatformRefund(ctx, p, t0)
		if err != nil || out != PlatformRefundAdded || !f.NeedsReview || f.Source != SourcePlatform {
			t.Fatalf("%s %+v %v", out, f, err)
		}
		out, _, err = s.RecordPlatformRefund(ctx, p, t0)
		if err != nil || out != PlatformRefundKnown {
			t.Fatalf("again: %s %v", out, err)
		}
		o, _ := s.GetOrder(ctx, "T1")
		if o.Refunded != 300 || o.Status != OrderPartiallyRefunded {
			t.Fatalf("order: %+v", o)
		}
		// A local pending refund confirmed by the platform.
		f2, _ := s.BeginRefund(ctx, "T1", 700, "rest", "bob", t0)
		out, _, err = s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "T1", OutRequestNo: f2.OutRequestNo, Amount: 700}, t0)
		if err != nil || out != PlatformRefundFinished {
			t.Fatalf("confirm: %s %v", out, err)
		}
		if o, _ := s.GetOrder(ctx, "T1"); o.Status != OrderRefunded {
			t.Fatalf("order: %+v", o)
		}
	})
}

func TestKeysetPagingWalksEveryOrderOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var orders []Order
		for i := range 257 {
			o := pending(fmt.Sprintf("T%04d", i), gateway.Money(100+i))
			o.CreatedAt = t0.Add(time.Duration(i/3) * time.Second) // ties on created_at
			if i%4 == 0 {
				o.Channel = gateway.WeChat
			}
			orders = append(orders, o)
		}
		seed(t, s, orders...)
		f := OrderFilter{Channel: gateway.Alipay}
		total, err := s.CountOrders(ctx, f)
		if err != nil || total != 192 {
			t.Fatalf("count = %d, %v", total, err)
		}
		seen := map[string]bool{}
		var cur *Cursor
		var prev Cursor
		for {
			page, err := s.ListOrders(ctx, f, cur, Older, 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Orders) == 0 {
				break
			}
			for _, o := range page.Orders {
				c := Cursor{CreatedAt: o.CreatedAt, ID: o.ID}
				if cur != nil && !newerThan(prev, c) {
					t.Fatalf("out of order: %v after %v", c, prev)
				}
				if seen[o.OutTradeNo] || o.Channel != gateway.Alipay {
					t.Fatalf("%s seen twice or wrong channel", o.OutTradeNo)
				}
				seen[o.OutTradeNo] = true
				prev = c
			}
			cur = &page.Last
		}
		if len(seen) != total {
			t.Fatalf("walked %d of %d", len(seen), total)
		}
		// The last page read backwards is the oldest orders, newest first.
		last, err := s.ListOrders(ctx, f, nil, Newer, 10)
		if err != nil || len(last.Orders) != 10 || last.Orders[9].OutTradeNo != "T0001" {
			t.Fatalf("last page: %v %v", last, err)
		}
		// And the page before it, paged from its first row towards newer.
		before, err := s.ListOrders(ctx, f, &last.First, Newer, 10)
		if err != nil || len(before.Orders) != 10 || !newerThan(before.Last, last.First) {
			t.Fatalf("page before last: %v %v", before, err)
		}
	})
}

func TestNumberPrefixListsByNumber(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var orders []Order
		for i := range 30 {
			o := pending(fmt.Sprintf("T%04d", 29-i), 100)
			o.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
			if i%2 == 0 {
				o.Status, o.TradeNo = OrderPaid, fmt.Sprintf("2026112222%04d", i)
			}
			orders = append(orders, o)
		}
		seed(t, s, orders...)
		got, err := s.ListOrders(ctx, OrderFilter{Number: "T001"}, nil, Older, 4)
		if err != nil || len(got.Orders) != 4 || got.Orders[0].OutTradeNo != "T0010" || got.Orders[3].OutTradeNo != "T0013" {
			t.Fatalf("prefix T001 page 1: %+v %v", got.Orders, err)
		}
		next, err := s.ListOrders(ctx, OrderFilter{Number: "T001"}, &got.Last, Older, 100)
		if err != nil || len(next.Orders) != 6 || next.Orders[0].OutTradeNo != "T0014" {
			t.Fatalf("prefix T001 page 2: %+v %v", next.Orders, err)
		}
		if n, err := s.CountOrders(ctx, OrderFilter{Number: "T001"}); err != nil || n != 10 {
			t.Fatalf("count T001 = %d, %v", n, err)
		}
		// No merchant number starts with 2026: the trade numbers are searched.
		tr, err := s.ListOrders(ctx, OrderFilter{Number: "2026112222000", Status: OrderPaid}, nil, Older, 100)
		if err != nil || len(tr.Orders) != 5 || tr.Orders[0].TradeNo != "20261122220000" {
			t.Fatalf("trade number prefix: %+v %v", tr.Orders, err)
		}
		back, err := s.ListOrders(ctx, OrderFilter{Number: "2026112222000"}, &tr.Last, Newer, 2)
		if err != nil || len(back.Orders) != 2 || back.Orders[1].TradeNo != "20261122220006" {
			t.Fatalf("trade number page back: %+v %v", back.Orders, err)
		}
	})
}

func TestOrderCountsFollowImportsAndTransitions(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var orders []Order
		for i := range 250 { // more than one import batch
			o := pending(fmt.Sprintf("C%04d", i), 100)
			if i%5 == 0 {
				o.Channel = gateway.WeChat
			}
			orders = append(orders, o)
		}
		seed(t, s, orders...)
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "C0000", Channel: gateway.WeChat, TradeNo: "X", Amount: 100, Via: ViaQuery}, t0); err != nil {
			t.Fatal(err)
		}
		f, _ := s.BeginRefund(ctx, "C0000", 100, "r", "op", t0)
		if _, err := s.FinishRefund(ctx, f.OutRequestNo, RefundOutcome{Status: gateway.RefundSuccess}, t0); err != nil {
			t.Fatal(err)
		}
		for _, f := range []OrderFilter{{}, {Status: OrderPending}, {Channel: gateway.WeChat}, {Channel: gateway.WeChat, Status: OrderRefunded}, {Status: OrderPaid}} {
			fast, err := s.CountOrders(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			_, conds, args, _ := s.plan(ctx, f)
			q := `SELECT count(*) FROM orders`
			if len(conds) > 0 {
				q += " WHERE " + strings.Join(conds, " AND ")
			}
			var slow int
			if err := s.r.QueryRowContext(ctx, q, args...).Scan(&slow); err != nil {
				t.Fatal(err)
			}
			if fast != slow {
				t.Errorf("%+v: order_counts says %d, the table %d", f, fast, slow)
			}
		}
	})
}

func newerThan(a, b Cursor) bool {
	return a.CreatedAt.After(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID)
}

// TestGroupCommitIsolatesEachWriter: many writers committed together; the
// ones that fail leave no trace and do not take the others down.
func TestGroupCommitIsolatesEachWriter(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var orders []Order
		for i := range 200 {
			orders = append(orders, pending(fmt.Sprintf("G%04d", i), 100))
		}
		seed(t, s, orders...)
		var wg sync.WaitGroup
		errs := make([]error, 200)
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				amount := gateway.Money(100)
				if i%2 == 1 {
					amount = 99 // refused: the order is 1.00
				}
				_, errs[i] = s.MarkPaid(ctx, Payment{OutTradeNo: fmt.Sprintf("G%04d", i), Channel: gateway.Alipay, TradeNo: fmt.Sprint("T", i), Amount: amount, Via: ViaNotify}, t0)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			o, _ := s.GetOrder(ctx, fmt.Sprintf("G%04d", i))
			switch {
			case i%2 == 0 && (err != nil || o.Status != OrderPaid):
				t.Fatalf("%d: %v %s", i, err, o.Status)
			case i%2 == 1 && (!errors.Is(err, ErrAmountMismatch) || o.Status != OrderPending):
				t.Fatalf("%d: %v %s", i, err, o.Status)
			}
		}
		if n, _ := s.CountOrders(ctx, OrderFilter{Status: OrderPaid}); n != 100 {
			t.Fatalf("order_counts says %d paid", n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "G0000"}, t0); err == nil {
			t.Fatal("a write after Close succeeded")
		}
	})
}

// TestGroupCommitRollsBackOnlyTheFailedWriter: writers queued behind a
// busy one are committed as one batch; those that write and then fail must
// leave nothing, and the others everything.
func TestGroupCommitRollsBackOnlyTheFailedWriter(t *testing.T) {
	s := openTemp(t) // the committer is SQLite's (see groupcommit.go)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = s.tx(ctx, func(ctx context.Context, tx *Tx) error {
			close(started)
			<-release // hold the committer so the next writers queue up
			return nil
		})
	}()
	<-started
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.tx(ctx, func(ctx context.Context, tx *Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, operator, action, target, outcome) VALUES (0, 'test', 'write', ?, 'ok')`, fmt.Sprint(i)); err != nil {
					return err
				}
				if i%2 == 1 {
					return fmt.Errorf("writer %d fails after writing", i)
				}
				return nil
			})
		}()
	}
	// Let them all queue behind the held batch, then release it.
	for len(s.commits.jobs) < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	entries, err := s.ListAudit(ctx, AuditFilter{Action: "write"}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, e := range entries {
		kept[e.Target] = true
	}
	for i := range n {
		switch {
		case i%2 == 0 && (errs[i] != nil || !kept[fmt.Sprint(i)]):
			t.Errorf("writer %d: %v, kept %v", i, errs[i], kept[fmt.Sprint(i)])
		case i%2 == 1 && (errs[i] == nil || kept[fmt.Sprint(i)]):
			t.Errorf("writer %d failed but its row is kept (%v) or no error came back", i, kept[fmt.Sprint(i)])
		}
	}
}

func TestPlatformRefundOfADuplicateAndAnAmbiguousTotal(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		seed(t, s, pending("T1", 1000))
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.Alipay, TradeNo: "A1", Amount: 1000, Via: ViaNotify}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "T1", Channel: gateway.WeChat, TradeNo: "W1", Amount: 1000, Via: ViaNotify}, t0); err != nil {
			t.Fatal(err)
		}
		// A console refund of the WeChat (duplicate) payment comes out of it,
		// not out of the order's own payment.
		out, f, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "T1", TradeNo: "W1", OutRequestNo: "C1", Amount: 1000}, t0)
		if err != nil || out != PlatformRefundAdded || f.TradeNo != "W1" || f.Channel != gateway.WeChat {
			t.Fatalf("%s %+v %v", out, f, err)
		}
		o, _ := s.GetOrder(ctx, "T1")
		d, _ := s.DuplicatePayments(ctx, "T1")
		if o.Refunded != 0 || o.Status != OrderPaid || d[0].Refunded != 1000 {
			t.Fatalf("order %+v, duplicate %+v", o, d)
		}
		// Only a cumulative total, while a local refund is pending: which
		// money it covers is ambiguous, so nothing is booked.
		if _, err := s.BeginRefund(ctx, "T1", 300, "r", "op", t0); err != nil {
			t.Fatal(err)
		}
		_, _, err = s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "T1", OutRequestNo: "C2", Total: 500}, t0)
		if !errors.Is(err, ErrRefundConflict) {
			t.Fatalf("ambiguous total: %v", err)
		}
		if o, _ := s.GetOrder(ctx, "T1"); o.Refunded != 0 {
			t.Fatalf("an ambiguous refund was booked: %+v", o)
		}
	})
}

// TestOpenCreatesAPrivateFileAndRefusesAnEmptyOne: a new store and its
// -wal and -shm are 0600 even under umask 0 (checked on a child process in
// internal/cli); an empty file is refused and left as it was; a store
// that could not be made leaves no file behind.
func TestOpenCreatesAPrivateFileAndRefusesAnEmptyOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s, pending("PDMODE00000001", 100))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v; want mode 0600", p, fi.Mode(), err)
		}
	}
	s.Close()

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(empty); !errors.Is(err, ErrEmptyFile) || !strings.Contains(err.Error(), empty) {
		t.Fatalf("empty file: %v; want ErrEmptyFile naming it", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o644 {
		t.Fatalf("the refused file changed: %v %v", fi, err)
	}
	if _, err := os.Stat(empty + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a -wal appeared beside the refused file: %v", err)
	}

	// A file that is not a database is refused, and a file Open made
	// for a store it could not finish is removed.
	if _, err := Open(filepath.Join(dir, "missing-dir", "x.db")); err == nil {
		t.Fatal("a store in a missing folder opened")
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database at all, but long enough to be read as a header ........................................"), 0o600)
	if _, err := Open(junk); err == nil {
		t.Fatal("a junk file opened as a store")
	}
	if b, _ := os.ReadFile(junk); !strings.HasPrefix(string(b), "not a database") {
		t.Fatal("a junk file was overwritten")
	}
}
