package store

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// DuplicatePaymentsPaidBetween lists duplicate payments whose payment (or,
// without a payment time, recording) falls within [start, end).
func (s *Store) DuplicatePaymentsPaidBetween(ctx context.Context, start, end time.Time) ([]DuplicatePayment, error) {
	return collect(ctx, s.r, `SELECT `+duplicateColumns+` FROM duplicate_payments
		WHERE coalesce(paid_at, created_at) >= ? AND coalesce(paid_at, created_at) < ? ORDER BY id`, scanDuplicate, ms(start), ms(end))
}

// RefundsBetween lists a channel's refunds that succeeded within [start,
// end), and those still pending that were asked for by then.
func (s *Store) RefundsBetween(ctx context.Context, ch gateway.Channel, start, end time.Time) ([]Refund, error) {
	return s.refundsWhere(ctx, `channel = ? AND
		((status = 'SUCCESS' AND refunded_at >= ? AND refunded_at < ?) OR (status = 'PENDING' AND created_at < ?))`,
		ch, ms(start), ms(end), ms(end))
}

// RefundsMovedBetween lists a channel's refunds whose money left the
// merchant's account within [start, end) (Refund.MovedAt): those that went
// ABNORMAL then (whatever came of them since), and those that succeeded then
// without going ABNORMAL first. A fund-flow run expects their movements.
func (s *Store) RefundsMovedBetween(ctx context.Context, ch gateway.Channel, start, end time.Time) ([]Refund, error) {
	return s.refundsWhere(ctx, `channel = ? AND
		((status = 'SUCCESS' AND abnormal_at IS NULL AND refunded_at >= ? AND refunded_at < ?) OR
		 (status IN ('SUCCESS', 'ABNORMAL') AND abnormal_at >= ? AND abnormal_at < ?))`,
		ch, ms(start), ms(end), ms(start), ms(end))
}

// RefundsRequestedBetween returns the refunds of a channel asked for in
// [start, end), whatever their status, and the ones still PENDING that were
// asked for before end: the refunds a bill that dates refunds by request
// (WeChat Pay's) is expected to list on that day. A refund is dated by
// Refund.RequestedAt.
func (s *Store) RefundsRequestedBetween(ctx context.Context, ch gateway.Channel, start, end time.Time) ([]Refund, error) {
	return s.refundsWhere(ctx, `channel = ? AND
		((`+requestedAt+` >= ? AND `+requestedAt+` < ?) OR (status = 'PENDING' AND created_at < ?))`,
		ch, ms(start), ms(end), ms(end))
}

// requestedAt is Refund.RequestedAt in SQL.
const requestedAt = `(CASE WHEN refunded_at IS NOT NULL AND refunded_at < created_at THEN refunded_at ELSE created_at END)`

func (s *Store) refundsWhere(ctx context.Context, where string, args ...any) ([]Refund, error) {
	return collect(ctx, s.r, `SELECT `+refundColumns+` FROM refunds WHERE `+where, scanRefund, args...)
}

// VerifiedPaymentNotices returns which of the orders received a payment
// notification that verified and was applied (or found already applied): a
// verified one that could not be applied is a failure of the callback path.
func (s *Store) VerifiedPaymentNotices(ctx context.Context, outTradeNos []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(outTradeNos) > 0 {
		batch := outTradeNos[:min(500, len(outTradeNos))]
		outTradeNos = outTradeNos[len(batch):]
		args := make([]any, len(batch))
		for i, n := range batch {
			args[i] = n
		}
		err := eachRow(ctx, s.r, `SELECT DISTINCT out_trade_no FROM notifications WHERE out_trade_no IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",")+`) AND verify_status = 'VERIFIED' AND event = 'PAYMENT'
			AND apply_status IN `+deliveredStatuses, markTrue(out), args...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// markTrue reads rows of one string into a set.
func markTrue(set map[string]bool) func(*sql.Rows) error {
	return func(rows *sql.Rows) error {
		var n string
		err := rows.Scan(&n)
		set[n] = true
		return err
	}
}

// FailedNotificationOrders returns the orders named by notifications
// received since then that were verified but not applied: the orders whose
// callback path failed.
func (s *Store) FailedNotificationOrders(ctx context.Context, since time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	err := eachRow(ctx, s.r, `SELECT DISTINCT out_trade_no FROM notifications WHERE apply_status IN `+failedStatuses+`
		AND out_trade_no <> '' AND received_at >= ?`, markTrue(out), ms(since))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PaidOrder is an order as reconciliation reads it: only the columns a
// match needs, so a million-order day loads in a fraction of the time full
// Orders would take.
type PaidOrder struct {
	OutTradeNo string
	Channel    gateway.Channel
	Amount     gateway.Money
	Status     OrderStatus
	TradeNo    string
	PaidVia    PaidVia
	// PaidAt is when the order was paid; CreatedAt, set only for an order
	// without a payment time, is what the day's scan dated it by.
	PaidAt    time.Time
	CreatedAt time.Time
	// NotifyVerified: a payment notification for the order verified and
	// was applied (or found already applied).
	NotifyVerified bool
}

// EachPaidOrder calls fn for every order paid on channel ch within [start,
// end): by paid_at, or by created_at for paid orders imported without a
// payment time. It streams, so a million-order day is never a slice. Only
// the columns a match needs are read; the short strings (channel, status,
// paid_via) are mapped to their constants instead of being allocated per
// row; and the day is read in slices on several reader connections at
// once: row iteration is the run's biggest cost at a million orders, and it
// parallelizes. On SQLite the slices are read beneath database/sql
// (scanPaidSQLite). fn is called from one goroutine at a time, in no
// particular order; the *PaidOrder is fn's only until it returns, its
// strings stay valid.
func (s *Store) EachPaidOrder(ctx context.Context, ch gateway.Channel, start, end time.Time, fn func(*PaidOrder) error) error {
	scan := s.scanPaidSQL
	if s.engine == SQLite {
		scan = s.scanPaidSQLite
	}
	return eachPaidSlice(ctx, ch, start, end, scan, fn)
}

// paidSlice is one part of a day's scan: the orders paid within [from,
// to), or (unpaidTime) the paid orders without a payment time created
// within it.
type paidSlice struct {
	ch         gateway.Channel
	from, to   time.Time
	unpaidTime bool
}

// paidScanner reads one slice and sends its rows in batches.
type paidScanner func(ctx context.Context, sl paidSlice, q *paidQueue) error

// paidBatch is a batch of rows and the bytes their strings point into.
type paidBatch struct {
	orders []PaidOrder
	text   []byte
}

// paidBatchRows is how many rows a batch holds, paidBatchText how many
// bytes of numbers: a batch and its text stay within the CPU's caches, and
// the consumer hands them back to be filled again (no garbage per row).
const (
	paidBatchRows = 1024
	paidBatchText = 96 << 10
)

// paidQueue carries batches from the scanners to EachPaidOrder's caller
// and back.
type paidQueue struct {
	full chan *paidBatch
	free chan *paidBatch
}

func newPaidQueue(n int) *paidQueue {
	return &paidQueue{full: make(chan *paidBatch, n), free: make(chan *paidBatch, 2*n)}
}

// get returns an empty batch.
func (q *paidQueue) get() *paidBatch {
	select {
	case b := <-q.free:
		b.orders, b.text = b.orders[:0], b.text[:0]
		return b
	default:
		return &paidBatch{orders: make([]PaidOrder, 0, paidBatchRows), text: make([]byte, 0, paidBatchText)}
	}
}

// room reports whether b takes one more row with n bytes of numbers.
func (b *paidBatch) room(n int) bool {
	return len(b.orders) < cap(b.orders) && len(b.text)+n <= cap(b.text)
}

func (q *paidQueue) send(ctx context.Context, b *paidBatch) error {
	select {
	case q.full <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *paidQueue) recycle(b *paidBatch) {
	clear(b.orders) // drop the strings a generic scan allocated
	select {
	case q.free <- b:
	default:
	}
}

// eachPaidSlice runs the slices of [start, end) on scan at once and calls
// fn with every row, from this goroutine.
func eachPaidSlice(ctx context.Context, ch gateway.Channel, start, end time.Time, scan paidScanner, fn func(*PaidOrder) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slices := max(2, runtime.GOMAXPROCS(0))
	q := newPaidQueue(2 * slices)
	errs := make(chan error, slices+1)
	var wg sync.WaitGroup
	step := end.Sub(start) / time.Duration(slices)
	parts := make([]paidSlice, 0, slices+1)
	for i := range slices {
		from, to := start.Add(time.Duration(i)*step), start.Add(time.Duration(i+1)*step)
		if i == slices-1 {
			to = end
		}
		parts = append(parts, paidSlice{ch: ch, from: from, to: to})
	}
	parts = append(parts, paidSlice{ch: ch, from: start, to: end, unpaidTime: true})
	for _, sl := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- scan(ctx, sl, q)
		}()
	}
	go func() {
		wg.Wait()
		close(q.full)
	}()
	var fnErr error
	for b := range q.full {
		if fnErr != nil {
			continue // drain so the scanners can finish
		}
		for i := range b.orders {
			if fnErr = fn(&b.orders[i]); fnErr != nil {
				cancel()
				break
			}
		}
		q.recycle(b)
	}
	close(errs)
	for err := range errs {
		if err != nil && fnErr == nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return fnErr
}

// scanPaidSQL reads a slice through database/sql: the engine-neutral path,
// and the reference the SQLite path is tested against.
func (s *Store) scanPaidSQL(ctx context.Context, sl paidSlice, q *paidQueue) error {
	// notify_verified is looked up only for orders not paid by a
	// notification (OR short-circuits), inside the same query: paid via
	// notify means a verified notification was applied.
	cols := `out_trade_no, channel, amount, status, coalesce(trade_no, ''), coalesce(paid_via, ''), created_at, coalesce(paid_at, 0), ` + notifyVerifiedSQL
	byPaid := `SELECT ` + cols + ` FROM orders WHERE paid_at >= ? AND paid_at < ? AND channel = ?`
	unpaidTime := `SELECT ` + cols + ` FROM orders WHERE created_at >= ? AND created_at < ? AND channel = ? AND paid_at IS NULL
		AND status IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')`
	query := byPaid
	if sl.unpaidTime {
		query = unpaidTime
	}
	b := q.get()
	var chB, statusB, viaB sql.RawBytes
	var created, paid int64
	err := eachRow(ctx, s.r, query, func(rows *sql.Rows) error {
		var o PaidOrder
		if err := rows.Scan(&o.OutTradeNo, &chB, &o.Amount, &statusB, &o.TradeNo, &viaB, &created, &paid, &o.NotifyVerified); err != nil {
			return err
		}
		o.Channel, o.Status, o.PaidVia = internChannel(chB), internStatus(statusB), PaidVia(internVia(viaB))
		if paid != 0 {
			o.PaidAt = fromMS(paid)
		} else {
			o.CreatedAt = fromMS(created)
		}
		b.orders = append(b.orders, o)
		if !b.room(0) {
			if err := q.send(ctx, b); err != nil {
				return err
			}
			b = q.get()
		}
		return nil
	}, ms(sl.from), ms(sl.to), sl.ch)
	if err != nil {
		return err
	}
	if len(b.orders) > 0 {
		return q.send(ctx, b)
	}
	return nil
}

// notifyVerifiedSQL says whether a verified payment notification for the
// order was applied (or found already applied).
var notifyVerifiedSQL = `(paid_via = 'notify' OR EXISTS (SELECT 1 FROM notifications n WHERE n.out_trade_no = orders.out_trade_no
	AND n.verify_status = 'VERIFIED' AND n.event = 'PAYMENT' AND n.apply_status IN ` + deliveredStatuses + `))`

func internChannel(b []byte) gateway.Channel {
	for _, c := range gateway.Channels {
		if string(b) == string(c) {
			return c
		}
	}
	return gateway.Channel(b)
}

func internStatus(b []byte) OrderStatus {
	for _, st := range OrderStatuses {
		if string(b) == string(st) {
			return st
		}
	}
	return OrderStatus(b)
}

func internVia(b []byte) string {
	for _, v := range []PaidVia{ViaNotify, ViaQuery, ViaImport} {
		if string(b) == string(v) {
			return string(v)
		}
	}
	return string(b)
}
