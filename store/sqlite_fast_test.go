package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// The SQLite fast paths (scan_sqlite.go, import_sqlite.go) against the
// engine-neutral ones they stand for.

// scanAll reads a day through one scanner, sorted, strings copied.
func scanAll(t *testing.T, ctx context.Context, ch gateway.Channel, start, end time.Time, scan paidScanner) []PaidOrder {
	t.Helper()
	var out []PaidOrder
	err := eachPaidSlice(ctx, ch, start, end, scan, func(o *PaidOrder) error {
		c := *o
		c.OutTradeNo, c.TradeNo = strings.Clone(o.OutTradeNo), strings.Clone(o.TradeNo)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b PaidOrder) int { return strings.Compare(a.OutTradeNo, b.OutTradeNo) })
	return out
}

// The day's orders read beneath database/sql are exactly those the
// database/sql query reads, field for field, after every kind of
// transition an order goes through: imports paid, unpaid and paid without
// a time, payments by notification and by query, notifications verified,
// rejected and duplicated, payments by another trade, refunds partial and
// full, closes; on both channels and across day boundaries.
func TestSQLiteScanEqualsGenericScan(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(18, 1))
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	var orders []Order
	for i := range 600 {
		o := Order{OutTradeNo: fmt.Sprintf("SC%05d", i), Channel: gateway.Channels[r.IntN(2)], Amount: gateway.Money(100 + r.IntN(9000)),
			Status: OrderPending, CreatedAt: day.Add(time.Duration(r.IntN(3*24*3600)-24*3600) * time.Second)}
		switch r.IntN(4) {
		case 0: // imported paid
			o.Status, o.TradeNo, o.PaidAt = OrderPaid, "T"+o.OutTradeNo, o.CreatedAt.Add(time.Minute)
		case 1: // imported paid without a payment time
			o.Status, o.TradeNo = OrderPaid, "T"+o.OutTradeNo
		}
		orders = append(orders, o)
	}
	seed(t, s, orders...)
	check := func(step string) {
		t.Helper()
		for _, ch := range gateway.Channels {
			for d := -1; d <= 1; d++ {
				start := day.AddDate(0, 0, d)
				want := scanAll(t, ctx, ch, start, start.AddDate(0, 0, 1), s.scanPaidSQL)
				got := scanAll(t, ctx, ch, start, start.AddDate(0, 0, 1), s.scanPaidSQLite)
				if !slices.Equal(got, want) {
					t.Fatalf("after %s, %s %s: the SQLite scan read %d orders, the generic one %d:\n%v\n%v",
						step, ch, start.Format(time.DateOnly), len(got), len(want), got, want)
				}
			}
		}
	}
	check("the import")
	now := day.Add(30 * time.Hour)
	for round := range 6 {
		for range 80 {
			o := orders[r.IntN(len(orders))]
			paidAt := day.Add(time.Duration(r.IntN(48*3600)-12*3600) * time.Second)
			switch r.IntN(7) {
			case 0, 1: // a notification: verified and applied, or rejected
				id, err := s.SaveRawNotification(ctx, RawNotification{Channel: o.Channel, ReceivedAt: now, Body: []byte(o.OutTradeNo)})
				if err != nil {
					t.Fatal(err)
				}
				if r.IntN(3) == 0 {
					err = s.RecordAttempt(ctx, id, Attempt{Kind: AttemptIntake, At: now, VerifyStatus: Rejected, ApplyStatus: ApplyRejected,
						Event: gateway.EventPayment, OutTradeNo: o.OutTradeNo})
				} else {
					_, _, err = s.MarkPaidRecording(ctx, Payment{OutTradeNo: o.OutTradeNo, Channel: o.Channel, TradeNo: "N" + o.OutTradeNo,
						Amount: o.Amount, PaidAt: paidAt, Via: ViaNotify}, now, id, func(res PaymentResult, refused error) Attempt {
						return Attempt{Kind: AttemptIntake, At: now, VerifyStatus: Verified, ApplyStatus: ApplyApplied,
							Event: gateway.EventPayment, OutTradeNo: o.OutTradeNo, TradeNo: "N" + o.OutTradeNo}
					})
				}
				if err != nil {
					t.Fatal(err)
				}
			case 2: // a live query, by the recorded trade or another
				trade := "Q" + o.OutTradeNo
				if r.IntN(2) == 0 {
					trade += "-again"
				}
				if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: o.OutTradeNo, Channel: o.Channel, TradeNo: trade, Amount: o.Amount,
					PaidAt: paidAt, Via: ViaQuery}, now); err != nil && !errors.Is(err, ErrAmountMismatch) {
					t.Fatal(err)
				}
			case 3, 4: // a refund, part or all, that succeeds or fails
				amount := o.Amount / gateway.Money(1+r.IntN(2))
				f, err := s.BeginRefund(ctx, o.OutTradeNo, amount, "test", "op", now)
				if err != nil {
					continue // not paid, or nothing left to refund
				}
				out := RefundOutcome{Status: gateway.RefundSuccess, RefundedAt: paidAt.Add(time.Hour)}
				if r.IntN(4) == 0 {
					out = RefundOutcome{Status: gateway.RefundFailed, Error: "no"}
				}
				if _, err := s.FinishRefund(ctx, f.OutRequestNo, out, now); err != nil {
					t.Fatal(err)
				}
			case 5:
				if _, err := s.MarkClosed(ctx, o.OutTradeNo, now); err != nil && !errors.Is(err, ErrNotClosable) {
					t.Fatal(err)
				}
			case 6: // a duplicate payment by notification of a paid order
				if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: o.OutTradeNo, Channel: o.Channel, TradeNo: "D" + o.OutTradeNo,
					Amount: o.Amount, PaidAt: paidAt, Via: ViaNotify}, now); err != nil && !errors.Is(err, ErrAmountMismatch) {
					t.Fatal(err)
				}
			}
		}
		check(fmt.Sprintf("round %d of transitions", round+1))
	}
}

// An import into an empty table past bulkAfter drops the indexes and
// builds them again: afterwards the table has the very indexes it had,
// consistent with its rows, and the counts; a bulk import that fails
// leaves the table empty and its indexes in place.
func TestSQLiteBulkImportKeepsEveryIndex(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	indexes := func() []string {
		var out []string
		rows, err := s.w.db.QueryContext(ctx, `SELECT name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			rows.Scan(&v)
			out = append(out, v)
		}
		return out
	}
	before := indexes()
	n := bulkAfter + 7*rawImportBatch + 31
	gen := func(i int) Order {
		o := pending(fmt.Sprintf("BK%07d", (i*7919)%n), gateway.Money(100+i%999))
		o.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		if i%3 == 0 {
			o.Status, o.TradeNo, o.PaidAt = OrderPaid, fmt.Sprintf("T%07d", i), o.CreatedAt.Add(time.Minute)
		}
		return o
	}
	// A duplicate well past bulkAfter: nothing stays.
	_, err := s.ImportOrders(ctx, t0, func(im *OrderImporter) error {
		for i := range n {
			o := gen(i)
			if i == n-5 {
				o.OutTradeNo = gen(12).OutTradeNo
			}
			if err := im.Insert(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	var rowErr *ImportRowError
	if !errors.As(err, &rowErr) || !errors.Is(err, ErrDuplicateOrder) || rowErr.Index != n-5 || !strings.Contains(err.Error(), "appears twice in this import") {
		t.Fatalf("a repeated number at row %d: %v", n-5, err)
	}
	if c, _ := s.CountOrders(ctx, OrderFilter{}); c != 0 || !slices.Equal(indexes(), before) {
		t.Fatalf("a failed bulk import left %d orders, indexes %v (want %v)", c, indexes(), before)
	}
	got, err := s.ImportOrders(ctx, t0, func(im *OrderImporter) error {
		for i := range n {
			if err := im.Insert(ctx, gen(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("import: %d, %v", got, err)
	}
	if after := indexes(); !slices.Equal(after, before) {
		t.Fatalf("indexes after the bulk import:\n%v\nwant\n%v", after, before)
	}
	var check string
	if err := s.w.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check: %q %v", check, err)
	}
	paid, _ := s.CountOrders(ctx, OrderFilter{Status: OrderPaid})
	all, _ := s.CountOrders(ctx, OrderFilter{})
	if all != n || paid != (n+2)/3 {
		t.Fatalf("counts: %d orders, %d paid; want %d, %d", all, paid, n, (n+2)/3)
	}
	// The next import is not into an empty table: a number already stored
	// is named as such, at its row.
	_, err = s.ImportOrders(ctx, t0, func(im *OrderImporter) error {
		for i := range rawImportBatch + 250 {
			o := pending(fmt.Sprintf("NEW%04d", i), 100)
			if i == rawImportBatch+170 {
				o.OutTradeNo = gen(3).OutTradeNo
			}
			if err := im.Insert(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.As(err, &rowErr) || rowErr.Index != rawImportBatch+170 || !strings.Contains(err.Error(), "already in the database") {
		t.Fatalf("a stored number at row %d: %v", rawImportBatch+170, err)
	}
}

// The SQLite import does not have SQLite evaluate the orders table's CHECK
// constraints (checkRow does, in Go): every row a constraint refuses, the
// import refuses at its row, and the same row is refused by the table
// itself, so the two say the same.
func TestImportChecksMatchTheTable(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	bad := map[string]func(*Order){
		"channel":   func(o *Order) { o.Channel = "paypal" },
		"amount":    func(o *Order) { o.Amount = 0 },
		"status":    func(o *Order) { o.Status = "SHIPPED" },
		"refunded":  func(o *Order) { o.Refunded = o.Amount + 1 },
		"negative":  func(o *Order) { o.Refunded = -1 },
		"negative2": func(o *Order) { o.Amount = -5 },
	}
	for name, spoil := range bad {
		for _, at := range []int{0, 57, rawImportBatch + 3} { // in a full batch and in the last, partial one
			_, err := s.ImportOrders(ctx, t0, func(im *OrderImporter) error {
				for i := range rawImportBatch + 10 {
					o := pending(fmt.Sprintf("CK%s%04d", name, i), 100)
					if i == at {
						spoil(&o)
					}
					if err := im.Insert(ctx, o); err != nil {
						return err
					}
				}
				return nil
			})
			var rowErr *ImportRowError
			if !errors.As(err, &rowErr) || rowErr.Index != at || !strings.Contains(err.Error(), "CHECK constraint failed") {
				t.Fatalf("%s at row %d: %v", name, at, err)
			}
		}
		o := pending("CK"+name, 100)
		spoil(&o)
		_, err := s.w.db.ExecContext(ctx, `INSERT INTO orders (out_trade_no, channel, amount, status, refunded, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)`,
			o.OutTradeNo, string(o.Channel), int64(o.Amount), string(o.Status), int64(o.Refunded))
		if err == nil || !strings.Contains(err.Error(), "CHECK constraint failed") {
			t.Fatalf("%s: the table itself accepted the row: %v", name, err)
		}
	}
	if n, _ := s.CountOrders(ctx, OrderFilter{}); n != 0 {
		t.Fatalf("%d orders left by refused imports", n)
	}
	var create string
	if err := s.w.db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'orders'`).Scan(&create); err != nil {
		t.Fatal(err)
	}
	if got := tableChecks(create); got != ordersTableCheck {
		t.Fatalf("the orders table checks %s, the import %s", got, ordersTableCheck)
	}
}
