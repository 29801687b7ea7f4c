package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// RefundSource says where a refund was decided.
type RefundSource string

const (
	// SourceLocal: an operator asked paydesk to refund.
	SourceLocal RefundSource = "local"
	// SourcePlatform: someone refunded in the platform's web console and
	// paydesk learned of it from a notification.
	SourcePlatform RefundSource = "platform"
)

// Refund is one refund request.
type Refund struct {
	ID           int64                `json:"-"`
	OutRequestNo string               `json:"out_request_no"`
	OutTradeNo   string               `json:"out_trade_no"`
	Channel      gateway.Channel      `json:"channel"`
	Amount       gateway.Money        `json:"amount"`
	Reason       string               `json:"reason"`
	Status       gateway.RefundStatus `json:"status"`
	RefundID     string               `json:"refund_id,omitempty"`
	// TradeNo is set for the refund of a duplicate payment: the trade it
	// returns money from (not the order's own trade).
	TradeNo     string       `json:"trade_no,omitempty"`
	Source      RefundSource `json:"source"`
	NeedsReview bool         `json:"needs_review"`
	Operator    string       `json:"operator"`
	Error       string       `json:"error,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	RefundedAt  time.Time    `json:"refunded_at,omitzero"`
	// UnknownAt is when the platform's answer about this refund last
	// failed to come (a timeout, a 5xx, WeChat's 429 or SYSTEM_ERROR).
	UnknownAt time.Time `json:"outcome_unknown_at,omitzero"`
	// AbnormalAt is when paydesk first recorded the refund ABNORMAL: its
	// money had left the merchant's account by then, and its later payout
	// (SUCCESS) moves nothing more. Kept once the refund succeeds.
	AbnormalAt time.Time `json:"abnormal_at,omitzero"`
}

// MovedAt is when the refund's money left the merchant's account as far as
// paydesk knows: when it went ABNORMAL (the platform had taken the money;
// the buyer's bank refused it), else when it succeeded; zero while it has
// not.
func (f Refund) MovedAt() time.Time {
	switch {
	case !f.AbnormalAt.IsZero() && (f.Status == gateway.RefundAbnormal || f.Status == gateway.RefundSuccess):
		return f.AbnormalAt
	case f.Status == gateway.RefundSuccess:
		return f.RefundedAt
	}
	return time.Time{}
}

// RequestedAt is the earliest time the refund is known to have existed:
// when paydesk asked for it, or, for one made in the platform's console
// that paydesk learned of afterwards, its success time. It dates the
// refund on bills that date refunds by request.
func (f Refund) RequestedAt() time.Time {
	if !f.RefundedAt.IsZero() && f.RefundedAt.Before(f.CreatedAt) {
		return f.RefundedAt
	}
	return f.CreatedAt
}

// Errors of refund transitions.
var (
	ErrNotRefundable     = errors.New("order is not paid")
	ErrRefundCeiling     = errors.New("refund exceeds the refundable amount")
	ErrRefundNotFound    = errors.New("refund not found")
	ErrRefundNotPending  = errors.New("refund is no longer pending")
	ErrInvalidRefundSize = errors.New("refund amount must be positive")
)

const refundColumns = `id, out_request_no, out_trade_no, channel, amount, reason, status, refund_id, trade_no, source, needs_review, operator, error, created_at, updated_at, refunded_at, unknown_at, abnormal_at`

func scanRefund(r rowScanner) (Refund, error) {
	var f Refund
	var created, updated int64
	var refunded, unknown, abnormal sql.NullInt64
	err := r.Scan(&f.ID, &f.OutRequestNo, &f.OutTradeNo, &f.Channel, &f.Amount, &f.Reason, &f.Status, &f.RefundID, &f.TradeNo,
		&f.Source, &f.NeedsReview, &f.Operator, &f.Error, &created, &updated, &refunded, &unknown, &abnormal)
	f.CreatedAt, f.UpdatedAt, f.RefundedAt, f.UnknownAt = fromMS(created), fromMS(updated), fromNullMS(refunded), fromNullMS(unknown)
	f.AbnormalAt = fromNullMS(abnormal)
	return f, err
}

// Ceiling is what an order can still refund: paid, minus refunds that
// succeeded, minus refunds whose outcome is still pending, minus ABNORMAL
// refunds (their money left the merchant; it is not refundable again).
type Ceiling struct {
	Paid, Succeeded, Pending gateway.Money
	Abnormal                 gateway.Money
}

// Remaining is the refundable amount now.
func (c Ceiling) Remaining() gateway.Money { return c.Paid - c.Succeeded - c.Pending - c.Abnormal }

// String spells the ceiling out: "paid 10.00, refunded 2.00, pending 1.00,
// abnormal 3.00" (abnormal only when there is some).
func (c Ceiling) String() string {
	s := fmt.Sprintf("paid %s, refunded %s, pending %s", c.Paid, c.Succeeded, c.Pending)
	if c.Abnormal != 0 {
		s += fmt.Sprintf(", abnormal %s", c.Abnormal)
	}
	return s
}

// heldSumsSQL sums the refunds that hold part of a ceiling without having
// refunded it (gateway.RefundStatus.Holds), PENDING and ABNORMAL apart.
const heldSumsSQL = `SELECT CAST(coalesce(sum(CASE WHEN status = 'PENDING' THEN amount END), 0) AS BIGINT),
	CAST(coalesce(sum(CASE WHEN status = 'ABNORMAL' THEN amount END), 0) AS BIGINT) FROM refunds`

func ceilingTx(ctx context.Context, q querier, o Order) (Ceiling, error) {
	c := Ceiling{Succeeded: o.Refunded}
	if o.Status.IsPaid() {
		c.Paid = o.Amount
	}
	err := q.QueryRowContext(ctx, heldSumsSQL+` WHERE out_trade_no = ? AND trade_no = '' AND status IN ('PENDING', 'ABNORMAL')`,
		o.OutTradeNo).Scan(&c.Pending, &c.Abnormal)
	return c, err
}

// RefundCeiling reads an order's refund ceiling (for showing; BeginRefund
// checks it again inside its transaction).
func (s *Store) RefundCeiling(ctx context.Context, outTradeNo string) (Ceiling, Order, error) {
	o, err := s.GetOrder(ctx, outTradeNo)
	if err != nil {
		return Ceiling{}, Order{}, err
	}
	c, err := ceilingTx(ctx, s.r, o)
	return c, o, err
}

// BeginRefund records a new PENDING refund with a fresh request number,
// after checking, in the same transaction, that it fits under the ceiling.
// Two concurrent calls can never both pass the check on the same money.
func (s *Store) BeginRefund(ctx context.Context, outTradeNo string, amount gateway.Money, reason, operator string, now time.Time) (Refund, error) {
	if amount <= 0 {
		return Refund{}, ErrInvalidRefundSize
	}
	var f Refund
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		// The order's lock is held until commit: a concurrent refund of the
		// same order, from any connection, waits here and then counts this
		// one as pending.
		o, err := scanOrder(tx.QueryRowContext(ctx, lockOrderSQL, outTradeNo))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrOrderNotFound, outTradeNo)
		}
		if err != nil {
			return err
		}
		if !o.Status.IsPaid() {
			return fmt.Errorf("%w: %s is %s", ErrNotRefundable, outTradeNo, o.Status)
		}
		c, err := ceilingTx(ctx, tx, o)
		if err != nil {
			return err
		}
		if amount > c.Remaining() {
			return fmt.Errorf("%w: asked %s, refundable %s (%s)", ErrRefundCeiling, amount, c.Remaining(), c)
		}
		f = Refund{
			OutRequestNo: newRequestNo(now), OutTradeNo: outTradeNo, Channel: o.Channel, Amount: amount,
			Reason: reason, Status: gateway.RefundPending, Source: SourceLocal, Operator: operator,
			CreatedAt: now.UTC().Truncate(time.Millisecond), UpdatedAt: now.UTC().Truncate(time.Millisecond),
		}
		return tx.QueryRowContext(ctx, `INSERT INTO refunds (out_request_no, out_trade_no, channel, amount, reason, status, source, operator, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'PENDING', 'local', ?, ?, ?) RETURNING id`,
			f.OutRequestNo, outTradeNo, o.Channel, int64(amount), reason, operator, ms(now), ms(now)).Scan(&f.ID)
	})
	return f, err
}

// requestNoAlphabet avoids letters that read alike (I/1, O/0) because
// support staff read request numbers out over the phone.
const requestNoAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newRequestNo makes an out_request_no: "RF", the UTC date, and 12 random
// characters (60 bits), so it is unique without a sequence and cannot be
// guessed. Alipay allows 64 characters, WeChat 64.
func newRequestNo(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = requestNoAlphabet[int(b[i])%len(requestNoAlphabet)]
	}
	return "RF" + now.UTC().Format("20060102") + string(b)
}

// RefundOutcome is a platform's answer that moves a refund on: SUCCESS,
// FAILED, or ABNORMAL (the money left, the buyer did not get it).
type RefundOutcome struct {
	Status     gateway.RefundStatus
	RefundID   string
	RefundedAt time.Time
	Error      string // why it failed, or what the platform said
}

// refundMoves is the refund state machine (ARCHITECTURE.md §4): a PENDING
// refund ends SUCCESS, FAILED or ABNORMAL; an ABNORMAL one can still end
// SUCCESS once the merchant has had WeChat Pay pay it out. Nothing else
// moves: SUCCESS and FAILED are final, and an ABNORMAL refund is never
// taken as FAILED (its money left the account).
var refundMoves = map[gateway.RefundStatus][]gateway.RefundStatus{
	gateway.RefundPending:  {gateway.RefundSuccess, gateway.RefundFailed, gateway.RefundAbnormal},
	gateway.RefundAbnormal: {gateway.RefundSuccess},
}

func canMoveRefund(from, to gateway.RefundStatus) bool {
	for _, s := range refundMoves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// FinishRefund records what the platform answered about a refund (a refund
// answer or query). A success adds the amount to the order's refunded total
// and moves the order to PARTIALLY_REFUNDED or REFUNDED. Reporting the
// recorded status again is a no-op (a notification and a query may both
// report it); a move the state machine does not allow is
// ErrRefundNotPending.
func (s *Store) FinishRefund(ctx context.Context, outRequestNo string, out RefundOutcome, now time.Time) (Refund, error) {
	if out.Status == gateway.RefundPending || out.Status == "" {
		return Refund{}, fmt.Errorf("finish refund %s: status %q is not an outcome", outRequestNo, out.Status)
	}
	var f Refund
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		f, err = lockRefund(ctx, tx, outRequestNo)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrRefundNotFound, outRequestNo)
		}
		if err != nil {
			return err
		}
		if f.Status == out.Status {
			return nil
		}
		if !canMoveRefund(f.Status, out.Status) {
			return fmt.Errorf("%w: %s is %s, platform now says %s", ErrRefundNotPending, outRequestNo, f.Status, out.Status)
		}
		return moveRefundTx(ctx, tx, &f, out, now)
	})
	return f, err
}

// moveRefundTx writes a refund's move to out.Status: a success is added to
// what the refund comes out of (under its ceiling); the other moves change
// the refund alone (a PENDING and an ABNORMAL refund hold the same part of
// the ceiling, and a FAILED one holds none).
func moveRefundTx(ctx context.Context, tx *Tx, f *Refund, out RefundOutcome, now time.Time) error {
	f.Status, f.Error, f.UpdatedAt = out.Status, out.Error, now.UTC().Truncate(time.Millisecond)
	if out.RefundID != "" {
		f.RefundID = out.RefundID
	}
	if out.Status == gateway.RefundSuccess {
		f.RefundedAt = out.RefundedAt
		if f.RefundedAt.IsZero() {
			f.RefundedAt = now
		}
		if err := addRefundedTo(ctx, tx, *f, now); err != nil {
			return err
		}
	}
	if out.Status == gateway.RefundAbnormal && f.AbnormalAt.IsZero() {
		f.AbnormalAt = f.UpdatedAt
	}
	_, err := tx.ExecContext(ctx, `UPDATE refunds SET status = ?, refund_id = ?, error = ?, updated_at = ?, refunded_at = ?, abnormal_at = ? WHERE id = ?`,
		f.Status, f.RefundID, f.Error, ms(now), msOrNull(f.RefundedAt), msOrNull(f.AbnormalAt), f.ID)
	return err
}

// lockRefund reads a refund for a transition. The lock taken is its order's
// (see lockOrderSQL), always before the refund's own: every transition of an
// order, its refunds and its duplicate payments takes that one lock first,
// so two of them never wait on each other in opposite order.
func lockRefund(ctx context.Context, tx *Tx, outRequestNo string) (Refund, error) {
	f, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundColumns+` FROM refunds WHERE out_request_no = ?`, outRequestNo))
	if err != nil {
		return f, err
	}
	if err := lockOrder(ctx, tx, f.OutTradeNo); err != nil {
		return f, err
	}
	return scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundColumns+` FROM refunds WHERE out_request_no = ? FOR UPDATE`, outRequestNo))
}

// lockOrder takes an order's lock (see lockOrderSQL) without reading it; an
// order that does not exist locks nothing.
func lockOrder(ctx context.Context, tx *Tx, outTradeNo string) error {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE out_trade_no = ? FOR UPDATE`, outTradeNo).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// addRefundedTx adds a succeeded refund to its order's total.
func addRefundedTx(ctx context.Context, tx *Tx, outTradeNo string, amount gateway.Money, now time.Time) error {
	r, err := tx.ExecContext(ctx, `UPDATE orders SET refunded = refunded + ?,
		status = CASE WHEN refunded + ? >= amount THEN 'REFUNDED' ELSE 'PARTIALLY_REFUNDED' END, updated_at = ?
		WHERE out_trade_no = ? AND status IN ('PAID', 'PARTIALLY_REFUNDED') AND refunded + ? <= amount`,
		int64(amount), int64(amount), ms(now), outTradeNo, int64(amount))
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: %s cannot take a further refund of %s", ErrRefundCeiling, outTradeNo, amount)
	}
	return nil
}

// addRefundedTo adds a succeeded refund to what it refunds: the duplicate
// payment it names, or else its order.
func addRefundedTo(ctx context.Context, tx *Tx, f Refund, now time.Time) error {
	if f.TradeNo == "" {
		return addRefundedTx(ctx, tx, f.OutTradeNo, f.Amount, now)
	}
	r, err := tx.ExecContext(ctx, `UPDATE duplicate_payments SET refunded = refunded + ? WHERE channel = ? AND trade_no = ? AND refunded + ? <= amount`,
		int64(f.Amount), f.Channel, f.TradeNo, int64(f.Amount))
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: duplicate payment %s %s cannot take a further refund of %s", ErrRefundCeiling, f.Channel, f.TradeNo, f.Amount)
	}
	return nil
}

// ErrRefundConflict means a refund the platform reports does not fit the
// local record (another order, another amount, an ambiguous total): a
// person must look, and resending the notification will not change it.
var ErrRefundConflict = errors.New("the platform's refund does not fit the local record")

// ErrNoDuplicate is returned for a trade that is not a recorded duplicate.
var ErrNoDuplicate = errors.New("no such duplicate payment")

// DuplicateCeiling reads what a duplicate payment can still refund.
func (s *Store) DuplicateCeiling(ctx context.Context, ch gateway.Channel, tradeNo string) (DuplicatePayment, Ceiling, error) {
	return duplicateCeilingTx(ctx, s.r, ch, tradeNo)
}

func duplicateCeilingTx(ctx context.Context, q querier, ch gateway.Channel, tradeNo string) (DuplicatePayment, Ceiling, error) {
	var d DuplicatePayment
	var paidAt sql.NullInt64
	var created int64
	var c Ceiling
	// An empty channel finds the trade on either platform (a refund
	// notification names the trade, and trade numbers do not collide).
	err := q.QueryRowContext(ctx, `SELECT out_trade_no, channel, trade_no, amount, paid_at, source, created_at, refunded FROM duplicate_payments
		WHERE (channel = ? OR ? = '') AND trade_no = ? LIMIT 1`, ch, ch, tradeNo).Scan(&d.OutTradeNo, &d.Channel, &d.TradeNo, &d.Amount, &paidAt, &d.Source, &created, &c.Succeeded)
	if errors.Is(err, sql.ErrNoRows) {
		return d, c, fmt.Errorf("%w: %s %s", ErrNoDuplicate, ch, tradeNo)
	}
	if err != nil {
		return d, c, err
	}
	d.PaidAt, d.CreatedAt, d.Refunded = fromNullMS(paidAt), fromMS(created), c.Succeeded
	c.Paid = d.Amount
	err = q.QueryRowContext(ctx, heldSumsSQL+` WHERE channel = ? AND trade_no = ? AND status IN ('PENDING', 'ABNORMAL')`,
		d.Channel, tradeNo).Scan(&c.Pending, &c.Abnormal)
	return d, c, err
}

// BeginDuplicateRefund records a PENDING refund of a duplicate payment,
// under that payment's own ceiling, in one transaction.
func (s *Store) BeginDuplicateRefund(ctx context.Context, ch gateway.Channel, tradeNo string, amount gateway.Money, reason, operator string, now time.Time) (Refund, error) {
	if amount <= 0 {
		return Refund{}, ErrInvalidRefundSize
	}
	var f Refund
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		d, _, err := duplicateCeilingTx(ctx, tx, ch, tradeNo)
		if err != nil {
			return err
		}
		// The order's lock guards its duplicate payments too (lockRefund):
		// read the ceiling again under it.
		if err := lockOrder(ctx, tx, d.OutTradeNo); err != nil {
			return err
		}
		d, c, err := duplicateCeilingTx(ctx, tx, ch, tradeNo)
		if err != nil {
			return err
		}
		if amount > c.Remaining() {
			return fmt.Errorf("%w: asked %s, the duplicate payment %s can refund %s (%s)",
				ErrRefundCeiling, amount, tradeNo, c.Remaining(), c)
		}
		at := now.UTC().Truncate(time.Millisecond)
		f = Refund{OutRequestNo: newRequestNo(now), OutTradeNo: d.OutTradeNo, Channel: ch, Amount: amount, Reason: reason,
			Status: gateway.RefundPending, TradeNo: tradeNo, Source: SourceLocal, Operator: operator, CreatedAt: at, UpdatedAt: at}
		return tx.QueryRowContext(ctx, `INSERT INTO refunds (out_request_no, out_trade_no, channel, amount, reason, status, trade_no, source, operator, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'PENDING', ?, 'local', ?, ?, ?) RETURNING id`,
			f.OutRequestNo, f.OutTradeNo, ch, int64(amount), reason, tradeNo, operator, ms(now), ms(now)).Scan(&f.ID)
	})
	return f, err
}

// PlatformRefund is a refund the platform reports that paydesk may not know.
type PlatformRefund struct {
	OutTradeNo string
	// TradeNo is the platform trade refunded, when the notification says:
	// a refund of a duplicate payment names the duplicate's trade.
	TradeNo      string
	OutRequestNo string
	RefundID     string
	// Status is what the platform reports: SUCCESS (the default), ABNORMAL
	// (the money left, the buyer did not get it) or FAILED (WeChat CLOSED:
	// nothing moved).
	Status gateway.RefundStatus
	// Amount is this refund's amount. Zero when the platform states only
	// the trade's cumulative refunded Total (Alipay's refund_fee).
	Amount     gateway.Money
	Total      gateway.Money
	RefundedAt time.Time
	// Note is kept on the refund as what the platform said ("platform:
	// REFUND.CLOSED").
	Note string
}

// PlatformRefundOutcome says what RecordPlatformRefund did.
type PlatformRefundOutcome string

const (
	// PlatformRefundFinished: a local refund moved to what the platform
	// reports (a PENDING one succeeded, failed or went ABNORMAL; an
	// ABNORMAL one succeeded).
	PlatformRefundFinished PlatformRefundOutcome = "FINISHED"
	// PlatformRefundKnown: the refund was already recorded so.
	PlatformRefundKnown PlatformRefundOutcome = "KNOWN"
	// PlatformRefundAdded: paydesk had no such refund; it is now recorded
	// with source "platform" and flagged for review.
	PlatformRefundAdded PlatformRefundOutcome = "ADDED"
	// PlatformRefundIgnored: a closed refund paydesk never had; closing it
	// moved no money, so there is nothing to record.
	PlatformRefundIgnored PlatformRefundOutcome = "IGNORED"
)

// RecordPlatformRefund applies a verified refund report from the platform
// exactly once: it moves the matching local refund to what the platform
// reports, or records one the store lacks (made in the platform's console)
// so the order's ceiling is right, flagged for review rather than dropped.
func (s *Store) RecordPlatformRefund(ctx context.Context, p PlatformRefund, now time.Time) (PlatformRefundOutcome, Refund, error) {
	var outcome PlatformRefundOutcome
	var f Refund
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) (err error) {
		outcome, f, err = recordPlatformRefundTx(ctx, tx, p, now)
		return err
	})
	return outcome, f, err
}

// RecordPlatformRefundRecording is RecordPlatformRefund for a notification:
// the attempt that attempt makes of the outcome is recorded in the same
// transaction, so a refund is never moved without its notification saying
// so. A refusal of the report (ErrRefundConflict, ErrRefundCeiling,
// ErrOrderNotFound) is returned as refused and recorded; err is a failure of
// the transaction itself, which records nothing.
func (s *Store) RecordPlatformRefundRecording(ctx context.Context, p PlatformRefund, now time.Time, id int64,
	attempt func(PlatformRefundOutcome, Refund, error) Attempt) (outcome PlatformRefundOutcome, f Refund, refused, err error) {
	refused, err = s.applyRecording(ctx, id, func(ctx context.Context, tx *Tx) (err error) {
		outcome, f, err = recordPlatformRefundTx(ctx, tx, p, now)
		return err
	}, func(refused error) Attempt { return attempt(outcome, f, refused) },
		ErrRefundConflict, ErrRefundCeiling, ErrOrderNotFound)
	return outcome, f, refused, err
}

// recordPlatformRefundTx is RecordPlatformRefund's work. It refuses before
// it writes anything.
func recordPlatformRefundTx(ctx context.Context, tx *Tx, p PlatformRefund, now time.Time) (PlatformRefundOutcome, Refund, error) {
	if p.Status == "" {
		p.Status = gateway.RefundSuccess
	}
	// The order first, then the refund (see lockRefund).
	if err := lockOrder(ctx, tx, p.OutTradeNo); err != nil {
		return "", Refund{}, err
	}
	f, err := scanRefund(tx.QueryRowContext(ctx, `SELECT `+refundColumns+` FROM refunds WHERE out_request_no = ? FOR UPDATE`, p.OutRequestNo))
	switch {
	case err == nil:
		return knownPlatformRefundTx(ctx, tx, f, p, now)
	case !errors.Is(err, sql.ErrNoRows):
		return "", f, err
	case p.Status == gateway.RefundFailed:
		return PlatformRefundIgnored, Refund{OutRequestNo: p.OutRequestNo, OutTradeNo: p.OutTradeNo, Status: p.Status}, nil
	}
	o, err := scanOrder(tx.QueryRowContext(ctx, lockOrderSQL, p.OutTradeNo))
	if errors.Is(err, sql.ErrNoRows) {
		return "", f, fmt.Errorf("%w: %s", ErrOrderNotFound, p.OutTradeNo)
	}
	if err != nil {
		return "", f, err
	}
	// What the refund comes out of: the order's own payment, or the
	// duplicate payment whose trade the platform names.
	channel, trade, refunded := o.Channel, "", o.Refunded
	ceiling, err := ceilingTx(ctx, tx, o)
	if err != nil {
		return "", f, err
	}
	if p.TradeNo != "" && o.TradeNo != "" && p.TradeNo != o.TradeNo {
		d, c, err := duplicateCeilingTx(ctx, tx, "", p.TradeNo)
		if err != nil && !errors.Is(err, ErrNoDuplicate) {
			return "", f, err
		}
		if err == nil {
			channel, trade, refunded, ceiling = d.Channel, d.TradeNo, c.Succeeded, c
		}
	}
	if p.Amount == 0 {
		// Only the cumulative total is known: this refund is what the
		// total adds to what is already recorded refunded. A pending
		// local refund makes that ambiguous (it may be part of the
		// total): a person settles it first, then replays.
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM refunds WHERE out_trade_no = ? AND trade_no = ? AND status = 'PENDING'`,
			o.OutTradeNo, trade).Scan(&pending); err != nil {
			return "", f, err
		}
		if pending > 0 {
			return "", f, fmt.Errorf("%w: refund %s states only the refunded total %s while %d local refund(s) of %s are pending: settle them (paydesk refund --retry), then replay",
				ErrRefundConflict, p.OutRequestNo, p.Total, pending, o.OutTradeNo)
		}
		p.Amount = p.Total - refunded
		if p.Amount <= 0 {
			return "", f, fmt.Errorf("%w: refund %s: the platform's refunded total %s adds nothing to the %s already recorded", ErrRefundConflict, p.OutRequestNo, p.Total, refunded)
		}
	}
	if p.Status == gateway.RefundAbnormal && p.Amount > ceiling.Remaining() {
		return "", f, fmt.Errorf("%w: abnormal refund %s of %s at the platform does not fit what %s can still refund (%s)",
			ErrRefundCeiling, p.OutRequestNo, p.Amount, o.OutTradeNo, ceiling)
	}
	at := now.UTC().Truncate(time.Millisecond)
	f = Refund{OutRequestNo: p.OutRequestNo, OutTradeNo: o.OutTradeNo, Channel: channel, TradeNo: trade, Amount: p.Amount,
		Reason: "refunded at the platform", Status: p.Status, RefundID: p.RefundID, Source: SourcePlatform, Error: p.Note,
		NeedsReview: true, CreatedAt: at, UpdatedAt: at}
	if p.Status == gateway.RefundSuccess {
		f.RefundedAt = p.RefundedAt
		if err := addRefundedTo(ctx, tx, f, now); err != nil {
			return "", f, err
		}
	}
	if p.Status == gateway.RefundAbnormal {
		f.AbnormalAt = at
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO refunds (out_request_no, out_trade_no, channel, amount, reason, status, refund_id, trade_no, source, needs_review, error, created_at, updated_at, refunded_at, abnormal_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'platform', 1, ?, ?, ?, ?, ?) RETURNING id`,
		f.OutRequestNo, f.OutTradeNo, f.Channel, int64(f.Amount), f.Reason, f.Status, f.RefundID, f.TradeNo, f.Error, ms(now), ms(now), msOrNull(f.RefundedAt), msOrNull(f.AbnormalAt)).Scan(&f.ID)
	if err != nil {
		return "", f, err
	}
	return PlatformRefundAdded, f, nil
}

// knownPlatformRefundTx applies a platform report about a refund paydesk
// has. The platform's word that money moved overrules a refusal paydesk
// took as definite: a FAILED refund the platform reports SUCCESS or
// ABNORMAL moved money after all (and must fit under the ceiling again).
func knownPlatformRefundTx(ctx context.Context, tx *Tx, f Refund, p PlatformRefund, now time.Time) (PlatformRefundOutcome, Refund, error) {
	if p.Amount == 0 {
		p.Amount = f.Amount // a known request: its amount is ours
	}
	switch {
	case f.OutTradeNo != p.OutTradeNo:
		return "", f, fmt.Errorf("%w: refund %s belongs to order %s, the platform says %s", ErrRefundConflict, p.OutRequestNo, f.OutTradeNo, p.OutTradeNo)
	case f.Status == p.Status:
		return PlatformRefundKnown, f, nil
	case f.Amount != p.Amount:
		return "", f, fmt.Errorf("%w: refund %s is %s locally, the platform refunded %s", ErrRefundConflict, p.OutRequestNo, f.Amount, p.Amount)
	case f.Status == gateway.RefundFailed && p.Status == gateway.RefundAbnormal:
		c, err := refundCeilingTx(ctx, tx, f)
		if err != nil {
			return "", f, err
		}
		if f.Amount > c.Remaining() {
			return "", f, fmt.Errorf("%w: refund %s, FAILED here, is ABNORMAL at the platform, and %s no longer fits (%s)",
				ErrRefundCeiling, f.OutRequestNo, f.Amount, c)
		}
	case f.Status == gateway.RefundFailed && p.Status == gateway.RefundSuccess:
	case !canMoveRefund(f.Status, p.Status):
		return "", f, fmt.Errorf("%w: refund %s is %s here; the platform now reports %s", ErrRefundConflict, p.OutRequestNo, f.Status, p.Status)
	}
	err := moveRefundTx(ctx, tx, &f, RefundOutcome{Status: p.Status, RefundID: p.RefundID, RefundedAt: p.RefundedAt, Error: p.Note}, now)
	return PlatformRefundFinished, f, err
}

// refundCeilingTx reads the ceiling a refund comes out of: its duplicate
// payment's, or its order's.
func refundCeilingTx(ctx context.Context, tx *Tx, f Refund) (Ceiling, error) {
	if f.TradeNo != "" {
		_, c, err := duplicateCeilingTx(ctx, tx, f.Channel, f.TradeNo)
		return c, err
	}
	o, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE out_trade_no = ?`, f.OutTradeNo))
	if err != nil {
		return Ceiling{}, err
	}
	return ceilingTx(ctx, tx, o)
}

// GetRefund returns one refund by request number.
func (s *Store) GetRefund(ctx context.Context, outRequestNo string) (Refund, error) {
	f, err := scanRefund(s.r.QueryRowContext(ctx, `SELECT `+refundColumns+` FROM refunds WHERE out_request_no = ?`, outRequestNo))
	if errors.Is(err, sql.ErrNoRows) {
		return Refund{}, fmt.Errorf("%w: %s", ErrRefundNotFound, outRequestNo)
	}
	return f, err
}

// RefundFilter narrows a refund listing.
type RefundFilter struct {
	OutTradeNo string
	Status     gateway.RefundStatus
	Channel    gateway.Channel
	Since      time.Time
	Until      time.Time
}

// ListRefunds returns refunds newest first, before the refund with id
// beforeID (0: from the newest).
func (s *Store) ListRefunds(ctx context.Context, f RefundFilter, beforeID int64, limit int) ([]Refund, error) {
	q := `SELECT ` + refundColumns + ` FROM refunds WHERE 1=1`
	var args []any
	if f.OutTradeNo != "" {
		q += ` AND out_trade_no = ?`
		args = append(args, f.OutTradeNo)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Channel != "" {
		q += ` AND channel = ?`
		args = append(args, f.Channel)
	}
	if !f.Since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		q += ` AND created_at < ?`
		args = append(args, ms(f.Until))
	}
	if beforeID > 0 {
		q += ` AND id < ?`
		args = append(args, beforeID)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	return collect(ctx, s.r, q, scanRefund, args...)
}

// NoteRefundAttempt records what the last platform call about a PENDING
// refund said without changing its status.
func (s *Store) NoteRefundAttempt(ctx context.Context, outRequestNo, note string, now time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE refunds SET error = ?, updated_at = ? WHERE out_request_no = ? AND status = 'PENDING'`, note, ms(now), outRequestNo)
		return err
	})
}

// MarkRefundUnknown records that the platform's answer about a PENDING
// refund did not come (a timeout, a 5xx, WeChat's 429 or SYSTEM_ERROR): the
// refund stays PENDING, and now is when its outcome became unknown, from
// which a refund query waits (ops: [refund] query_after).
func (s *Store) MarkRefundUnknown(ctx context.Context, outRequestNo, note string, now time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE refunds SET error = ?, updated_at = ?, unknown_at = ? WHERE out_request_no = ? AND status = 'PENDING'`,
			note, ms(now), ms(now), outRequestNo)
		return err
	})
}
