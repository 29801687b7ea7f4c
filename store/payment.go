package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Payment is a verified fact that a platform received money for an order:
// from a notification, a live query or an import.
type Payment struct {
	OutTradeNo string
	Channel    gateway.Channel
	TradeNo    string
	Amount     gateway.Money
	PaidAt     time.Time
	Via        PaidVia
	// Currency, when set, must be the order's.
	Currency string
}

// PaymentOutcome says what MarkPaid did.
type PaymentOutcome string

const (
	// PaymentApplied: the order went from PENDING (or CLOSED) to PAID.
	PaymentApplied PaymentOutcome = "APPLIED"
	// PaymentAlreadyApplied: the same trade had already paid the order;
	// nothing changed.
	PaymentAlreadyApplied PaymentOutcome = "DUPLICATE"
	// PaymentDuplicate: the order was already paid by another trade: money
	// was received twice. It is recorded in duplicate_payments and the
	// caller records a finding.
	PaymentDuplicate PaymentOutcome = "DUPLICATE_PAYMENT"
	// PaymentOtherChannel: a payment on another channel than the unpaid
	// order's. It is recorded in duplicate_payments (money was received
	// under the order's number and may have to be refunded by its own
	// trade) and not applied: the order stays as it was.
	PaymentOtherChannel PaymentOutcome = "CHANNEL_MISMATCH"
)

// PaymentResult is MarkPaid's report.
type PaymentResult struct {
	Outcome PaymentOutcome
	Order   Order // as it is after the call
	// Reopened: the order had been closed locally, but the buyer paid.
	Reopened bool
	// FirstSeen: for PaymentDuplicate, this duplicate trade was recorded
	// now (false when the same duplicate arrived before).
	FirstSeen bool
}

// ErrAmountMismatch refuses a payment whose amount (or currency) is not
// the order's.
var ErrAmountMismatch = errors.New("paid amount differs from the order amount")

// MarkPaid applies a payment exactly once, at now. Inside one write
// transaction it re-reads the order, locked, and: moves PENDING (or CLOSED)
// to PAID; treats the same trade again as a no-op; records a different
// trade for a paid order as a duplicate payment; records a payment on
// another channel than an unpaid order's without applying it; refuses an
// amount that is not the order's.
func (s *Store) MarkPaid(ctx context.Context, p Payment, now time.Time) (PaymentResult, error) {
	var res PaymentResult
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) (err error) {
		res, err = s.markPaidTx(ctx, tx, p, now)
		return err
	})
	return res, err
}

// MarkPaidRecording is MarkPaid for a notification: in the same
// transaction it records the attempt that attempt makes of the outcome, so
// a payment is never applied without its notification saying so (a crash
// cannot fall between the two). A refusal of the payment (an unknown
// order, another amount) is returned as refused and recorded; err is a
// failure of the transaction itself, which records nothing.
func (s *Store) MarkPaidRecording(ctx context.Context, p Payment, now time.Time, id int64, attempt func(PaymentResult, error) Attempt) (res PaymentResult, refused, err error) {
	refused, err = s.applyRecording(ctx, id, func(ctx context.Context, tx *Tx) (err error) {
		res, err = s.markPaidTx(ctx, tx, p, now)
		return err
	}, func(refused error) Attempt { return attempt(res, refused) }, ErrOrderNotFound, ErrAmountMismatch)
	if err != nil {
		return PaymentResult{}, nil, err
	}
	return res, refused, nil
}

// applyRecording runs apply and records the attempt of notification id in
// one transaction. apply must refuse before it writes: a refusal that is
// one of the classified errors is returned and recorded with nothing else
// changed; any other error fails the transaction, which records nothing.
func (s *Store) applyRecording(ctx context.Context, id int64, apply func(context.Context, *Tx) error,
	attempt func(refused error) Attempt, classified ...error) (refused, err error) {
	err = s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		refused = apply(ctx, tx)
		if refused != nil && !isAny(refused, classified) {
			return refused
		}
		return s.recordAttemptTx(ctx, tx, id, attempt(refused))
	})
	if err != nil {
		return nil, err
	}
	return refused, nil
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// markPaidTx is MarkPaid's work inside a transaction. It refuses before it
// writes anything.
func (s *Store) markPaidTx(ctx context.Context, tx *Tx, p Payment, at time.Time) (res PaymentResult, err error) {
	o, err := scanOrder(s.txQueryRow(ctx, tx, lockOrderSQL, p.OutTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("%w: %s", ErrOrderNotFound, p.OutTradeNo)
	}
	if err != nil {
		return res, err
	}
	now := ms(at)
	unpaid := o.Status == OrderPending || o.Status == OrderClosed
	if unpaid && p.Channel != o.Channel {
		// An order is paid on the channel it was made for; its channel
		// never changes. The same number on the other platform is not
		// proof of the same sale (two systems of the merchant may number
		// alike), and the money sits in another account than the order
		// system books: a person decides (recon reports it). Its amount
		// does not matter: it is not this order's payment.
		first, err := s.insertOtherPayment(ctx, tx, o, p, now)
		if err != nil {
			return res, err
		}
		res.Outcome, res.FirstSeen, res.Order = PaymentOtherChannel, first, o
		return res, nil
	}
	if p.Currency != "" && p.Currency != o.Currency {
		return res, fmt.Errorf("%w: paid in %s, order %s is in %s", ErrAmountMismatch, p.Currency, o.OutTradeNo, o.Currency)
	}
	if p.Amount != o.Amount {
		return res, fmt.Errorf("%w: order %s is %s, payment %s is %s", ErrAmountMismatch, o.OutTradeNo, o.Amount, p.TradeNo, p.Amount)
	}
	switch {
	case unpaid:
		r, err := s.txExec(ctx, tx, markPaidSQL, p.TradeNo, msOrNull(p.PaidAt), p.Via, now, o.ID, o.Status)
		if err != nil {
			return res, err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			// The row was locked above: a changed status here is a bug.
			return res, fmt.Errorf("order %s changed under its lock (%d rows, %v)", o.OutTradeNo, n, err)
		}
		res.Outcome, res.Reopened = PaymentApplied, o.Status == OrderClosed
		o.Status, o.TradeNo, o.PaidAt, o.PaidVia = OrderPaid, p.TradeNo, p.PaidAt, p.Via
	case o.TradeNo == p.TradeNo && o.Channel == p.Channel:
		res.Outcome = PaymentAlreadyApplied
	default:
		first, err := s.insertOtherPayment(ctx, tx, o, p, now)
		if err != nil {
			return res, err
		}
		res.Outcome, res.FirstSeen = PaymentDuplicate, first
	}
	res.Order = o
	return res, nil
}

// insertOtherPayment records a payment of o that is not its payment, once
// per trade; true when it was new.
func (s *Store) insertOtherPayment(ctx context.Context, tx *Tx, o Order, p Payment, now int64) (bool, error) {
	r, err := tx.ExecContext(ctx, `INSERT INTO duplicate_payments (out_trade_no, channel, trade_no, amount, paid_at, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, trade_no) DO NOTHING`,
		o.OutTradeNo, p.Channel, p.TradeNo, int64(p.Amount), msOrNull(p.PaidAt), p.Via, now)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// DuplicatePayment is a payment of an already paid order by another trade.
type DuplicatePayment struct {
	OutTradeNo string          `json:"out_trade_no"`
	Channel    gateway.Channel `json:"channel"`
	TradeNo    string          `json:"trade_no"`
	Amount     gateway.Money   `json:"amount"`
	PaidAt     time.Time       `json:"paid_at,omitzero"`
	Source     PaidVia         `json:"source"`
	CreatedAt  time.Time       `json:"created_at"`
	Refunded   gateway.Money   `json:"refunded"`
}

const duplicateColumns = `out_trade_no, channel, trade_no, amount, paid_at, source, created_at, refunded`

func scanDuplicate(r rowScanner) (DuplicatePayment, error) {
	var d DuplicatePayment
	var paidAt sql.NullInt64
	var created int64
	err := r.Scan(&d.OutTradeNo, &d.Channel, &d.TradeNo, &d.Amount, &paidAt, &d.Source, &created, &d.Refunded)
	d.PaidAt, d.CreatedAt = fromNullMS(paidAt), fromMS(created)
	return d, err
}

// DuplicatePayments lists the duplicate payments of one order.
func (s *Store) DuplicatePayments(ctx context.Context, outTradeNo string) ([]DuplicatePayment, error) {
	return collect(ctx, s.r, `SELECT `+duplicateColumns+` FROM duplicate_payments WHERE out_trade_no = ? ORDER BY id`, scanDuplicate, outTradeNo)
}

// ErrNotClosable refuses to close an order that is not PENDING.
var ErrNotClosable = errors.New("order is not pending")

// MarkClosed closes a PENDING order (the platform closed the unpaid trade).
// Closing a closed order again is a no-op reporting false.
func (s *Store) MarkClosed(ctx context.Context, outTradeNo string, now time.Time) (bool, error) {
	var changed bool
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) (err error) {
		changed, err = markClosedTx(ctx, tx, outTradeNo, now)
		return err
	})
	return changed, err
}

// MarkClosedRecording is MarkClosed for a notification: the attempt is
// recorded in the same transaction. ErrOrderNotFound and ErrNotClosable are
// returned as refused and recorded; err is a failure of the transaction.
func (s *Store) MarkClosedRecording(ctx context.Context, outTradeNo string, now time.Time, id int64,
	attempt func(changed bool, refused error) Attempt) (changed bool, refused, err error) {
	refused, err = s.applyRecording(ctx, id, func(ctx context.Context, tx *Tx) (err error) {
		changed, err = markClosedTx(ctx, tx, outTradeNo, now)
		return err
	}, func(refused error) Attempt { return attempt(changed, refused) }, ErrOrderNotFound, ErrNotClosable)
	return changed, refused, err
}

func markClosedTx(ctx context.Context, tx *Tx, outTradeNo string, now time.Time) (bool, error) {
	var status OrderStatus
	err := tx.QueryRowContext(ctx, `SELECT status FROM orders WHERE out_trade_no = ? FOR UPDATE`, outTradeNo).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("%w: %s", ErrOrderNotFound, outTradeNo)
	case err != nil:
		return false, err
	case status == OrderClosed:
		return false, nil
	case status != OrderPending:
		return false, fmt.Errorf("%w: %s is %s", ErrNotClosable, outTradeNo, status)
	}
	_, err = tx.ExecContext(ctx, `UPDATE orders SET status = 'CLOSED', updated_at = ? WHERE out_trade_no = ? AND status = 'PENDING'`, ms(now), outTradeNo)
	return err == nil, err
}

const (
	selectOrderSQL = `SELECT ` + orderColumns + ` FROM orders WHERE out_trade_no = ?`
	// lockOrderSQL reads an order a transition is about to change: on
	// PostgreSQL it waits for, then holds, the row's lock, so two
	// transitions of one order (on any connection of any host) run one
	// after the other and the second sees what the first did.
	lockOrderSQL = selectOrderSQL + ` FOR UPDATE`
	markPaidSQL  = `UPDATE orders SET status = 'PAID', trade_no = ?, paid_at = ?, paid_via = ?, updated_at = ?
				WHERE id = ? AND status = ?`
)

// hotWrites and hotReads are prepared at open: the statements every
// callback runs.
var (
	hotWrites = []string{insertNotificationRowSQL, insertAttemptSQL, updateNotificationSQL, lockOrderSQL, markPaidSQL}
	hotReads  = []string{selectOrderSQL}
)
