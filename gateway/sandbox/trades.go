package sandbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Trade is one trade as the simulated platform holds it.
type Trade struct {
	Channel    gateway.Channel
	OutTradeNo string
	TradeNo    string
	Subject    string
	Amount     gateway.Money
	State      gateway.TradeState // NOTPAID, PAID, CLOSED; refunds are in Refunds
	CreatedAt  time.Time
	PaidAt     time.Time
	ClosedAt   time.Time
	BuyerID    string
	NotifyURL  string
	Refunds    []*Refund
	// BookDelay is how much later than the payment (or refund) time the
	// platform's bill books it: the Fault.BookLate in force when it was
	// paid. Zero books at the payment time, as usual.
	BookDelay time.Duration
}

// BookedAt is when the bill books the payment.
func (t *Trade) BookedAt() time.Time { return t.PaidAt.Add(t.BookDelay) }

// RefundBookedAt is when the bill books a refund of the trade.
func (t *Trade) RefundBookedAt(r *Refund) time.Time { return r.SucceededAt.Add(t.BookDelay) }

// RefundMovedAt is when a refund's money leaves the merchant's account, as
// the fund bill books it, and whether it has: when the refund is carried
// out — it succeeds, or goes ABNORMAL (the platform takes the money and the
// buyer's bank refuses it; paying it out later moves nothing more).
func (t *Trade) RefundMovedAt(r *Refund) (time.Time, bool) {
	switch {
	case !r.AbnormalAt.IsZero() && (r.Status == gateway.RefundAbnormal || r.Status == gateway.RefundSuccess):
		return r.AbnormalAt.Add(t.BookDelay), true
	case r.Status == gateway.RefundSuccess:
		return t.RefundBookedAt(r), true
	}
	return time.Time{}, false
}

// Refund is one refund request as the simulated platform holds it.
type Refund struct {
	OutRequestNo string
	RefundID     string
	Amount       gateway.Money
	Reason       string
	Status       gateway.RefundStatus
	CreatedAt    time.Time
	SucceededAt  time.Time
	// AbnormalAt is when the refund went ABNORMAL and ClosedAt when it
	// was closed (zero if never): a bill cut before then still prints it
	// PROCESSING.
	AbnormalAt time.Time
	ClosedAt   time.Time
	// Console marks a refund made in the platform's web console rather than
	// through the API: the merchant's system has no record of it.
	Console bool
	// NotifyURL is where the refund's notifications go, when its request
	// named one (WeChat's notify_url): ahead of the trade's.
	NotifyURL string
}

// Refunded is the sum of the trade's successful refunds, and of those that
// hold money without having refunded it (PROCESSING, and ABNORMAL: the
// money left the merchant and sits with the platform): what the platform's
// ceiling check subtracts from the paid amount.
func (t *Trade) Refunded() (succeeded, held gateway.Money) {
	for _, r := range t.Refunds {
		switch {
		case r.Status == gateway.RefundSuccess:
			succeeded += r.Amount
		case r.Status.Holds():
			held += r.Amount
		}
	}
	return succeeded, held
}

// Refund returns the trade's refund with that request number, or nil.
func (t *Trade) Refund(outRequestNo string) *Refund {
	for _, r := range t.Refunds {
		if r.OutRequestNo == outRequestNo {
			return r
		}
	}
	return nil
}

// clone copies the trade so callers outside the lock never share state.
func (t *Trade) clone() *Trade {
	c := *t
	c.Refunds = make([]*Refund, len(t.Refunds))
	for i, r := range t.Refunds {
		rc := *r
		c.Refunds[i] = &rc
	}
	return &c
}

// Errors of the trade book; each platform side maps them to its own codes.
var (
	ErrNoSuchTrade       = errors.New("no such trade")
	ErrTradeExists       = errors.New("trade already exists")
	ErrNotPaid           = errors.New("trade is not paid")
	ErrRefundTooLarge    = errors.New("refund exceeds the refundable amount")
	ErrRefundNoMismatch  = errors.New("request number reused with a different amount")
	ErrInvalidAmount     = errors.New("amount must be positive")
	ErrNoSuchRefund      = errors.New("no such refund")
	ErrTradeNotPayable   = errors.New("trade is not waiting for payment")
	errUnknownChannel    = errors.New("unknown channel")
	errChannelNotEnabled = errors.New("channel not served by this sandbox")
)

type tradeKey struct {
	ch  gateway.Channel
	out string
}

// TradeSpec describes a trade to create at the simulated platform.
type TradeSpec struct {
	Channel    gateway.Channel
	OutTradeNo string
	Amount     gateway.Money
	Subject    string
	CreatedAt  time.Time // defaults to now
	BuyerID    string    // defaults to a made-up buyer
	NotifyURL  string    // defaults to the channel's configured notify URL
	// TradeNo is the platform's trade number; empty makes a new one in the
	// platform's shape. Tests that reconcile against a bill written by hand
	// set it, so the bill and the notifications name the same trade.
	TradeNo string
}

// CreateTrade creates a trade waiting for payment, as the merchant's
// checkout does before the buyer pays.
func (s *Server) CreateTrade(spec TradeSpec) (*Trade, error) {
	if spec.Amount <= 0 {
		return nil, ErrInvalidAmount
	}
	if spec.OutTradeNo == "" {
		return nil, fmt.Errorf("out_trade_no is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sides[spec.Channel]; !ok {
		return nil, fmt.Errorf("%w: %s", errChannelNotEnabled, spec.Channel)
	}
	k := tradeKey{spec.Channel, spec.OutTradeNo}
	if _, ok := s.trades[k]; ok {
		return nil, fmt.Errorf("%w: %s %s", ErrTradeExists, spec.Channel, spec.OutTradeNo)
	}
	if spec.TradeNo != "" {
		// Queries find trades by trade number too: two trades under one
		// number would make the answer depend on which is found first.
		for _, other := range s.order {
			if other.ch == spec.Channel && s.trades[other].TradeNo == spec.TradeNo {
				return nil, fmt.Errorf("%w: %s trade number %s is %s's", ErrTradeExists, spec.Channel, spec.TradeNo, other.out)
			}
		}
	}
	t := &Trade{
		Channel:    spec.Channel,
		OutTradeNo: spec.OutTradeNo,
		Subject:    spec.Subject,
		Amount:     spec.Amount,
		State:      gateway.TradeNotPaid,
		CreatedAt:  spec.CreatedAt,
		BuyerID:    spec.BuyerID,
		NotifyURL:  spec.NotifyURL,
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	if t.BuyerID == "" {
		t.BuyerID = s.sides[spec.Channel].newBuyerID(s.rand)
	}
	if t.NotifyURL == "" {
		t.NotifyURL = s.cfg.NotifyURL[spec.Channel]
	}
	t.TradeNo = spec.TradeNo
	if t.TradeNo == "" {
		t.TradeNo = s.sides[spec.Channel].newTradeNo(s.rand, t.CreatedAt)
	}
	s.trades[k] = t
	s.order = append(s.order, k)
	return t.clone(), nil
}

// Pay marks a trade paid at the given time (now when zero) and sends the
// payment notification, as the platform does when the buyer pays.
func (s *Server) Pay(ch gateway.Channel, outTradeNo string, at time.Time) (*Trade, error) {
	s.mu.Lock()
	t, ok := s.trades[tradeKey{ch, outTradeNo}]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s %s", ErrNoSuchTrade, ch, outTradeNo)
	}
	if t.State != gateway.TradeNotPaid {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %s %s is %s", ErrTradeNotPayable, ch, outTradeNo, t.State)
	}
	if at.IsZero() {
		at = s.now()
	}
	t.State = gateway.TradePaid
	t.PaidAt = at
	t.BookDelay = s.faultLocked(ch, outTradeNo).BookLate
	snap := t.clone()
	s.mu.Unlock()
	s.notify(Event{Kind: EventPaid, Trade: snap})
	return snap, nil
}

// CloseTrade closes an unpaid trade (the buyer never paid before it expired).
func (s *Server) CloseTrade(ch gateway.Channel, outTradeNo string, at time.Time) (*Trade, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trades[tradeKey{ch, outTradeNo}]
	if !ok {
		return nil, fmt.Errorf("%w: %s %s", ErrNoSuchTrade, ch, outTradeNo)
	}
	if t.State != gateway.TradeNotPaid {
		return nil, fmt.Errorf("%w: %s %s is %s", ErrTradeNotPayable, ch, outTradeNo, t.State)
	}
	if at.IsZero() {
		at = s.now()
	}
	t.State = gateway.TradeClosed
	t.ClosedAt = at
	return t.clone(), nil
}

// Trade returns a copy of one trade.
func (s *Server) Trade(ch gateway.Channel, outTradeNo string) (*Trade, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trades[tradeKey{ch, outTradeNo}]
	if !ok {
		return nil, false
	}
	return t.clone(), true
}

// Trades returns copies of every trade of a channel in creation order.
func (s *Server) Trades(ch gateway.Channel) []*Trade {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Trade
	for _, k := range s.order {
		if k.ch == ch {
			out = append(out, s.trades[k].clone())
		}
	}
	return out
}

// RefundSpec is one refund request, from the API or the web console.
type RefundSpec struct {
	Channel      gateway.Channel
	OutTradeNo   string
	OutRequestNo string
	Amount       gateway.Money
	Reason       string
	At           time.Time // defaults to now
	Console      bool
	// NotifyURL is the refund request's own notify URL (WeChat's
	// notify_url); empty sends its notifications to the trade's.
	NotifyURL string
	// RetryFailed carries out again a request whose number failed before
	// (Alipay: a refund queried without refund_status is re-sent under the
	// same number and amount, and then goes through).
	RetryFailed bool
}

// refund applies a refund request to the book: the ceiling (paid minus
// succeeded and pending refunds) is checked under the same lock that records
// it, and a request number seen before returns the refund made the first
// time, so a retried request never refunds twice. The bool reports whether
// the refund is new.
func (s *Server) refund(spec RefundSpec) (*Trade, *Refund, bool, error) {
	if spec.Amount <= 0 {
		return nil, nil, false, ErrInvalidAmount
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trades[tradeKey{spec.Channel, spec.OutTradeNo}]
	if !ok {
		return nil, nil, false, fmt.Errorf("%w: %s %s", ErrNoSuchTrade, spec.Channel, spec.OutTradeNo)
	}
	f := s.faultLocked(spec.Channel, spec.OutTradeNo)
	if r := t.Refund(spec.OutRequestNo); r != nil {
		if r.Amount != spec.Amount {
			return nil, nil, false, fmt.Errorf("%w: %s was %s, now %s", ErrRefundNoMismatch, spec.OutRequestNo, r.Amount, spec.Amount)
		}
		if r.Status == gateway.RefundFailed && spec.RetryFailed && !f.RefundNotCarriedOut {
			// The same request again, after it was not carried out: this
			// time it goes through, under the ceiling like a new one.
			succeeded, held := t.Refunded()
			if r.Amount > t.Amount-succeeded-held {
				return nil, nil, false, fmt.Errorf("%w: asked %s, refundable %s", ErrRefundTooLarge, r.Amount, t.Amount-succeeded-held)
			}
			at := s.now()
			r.Status, r.SucceededAt = gateway.RefundSuccess, at
			rc := *r
			return t.clone(), &rc, true, nil
		}
		rc := *r
		return t.clone(), &rc, false, nil
	}
	if t.State != gateway.TradePaid {
		return nil, nil, false, fmt.Errorf("%w: %s is %s", ErrNotPaid, spec.OutTradeNo, t.State)
	}
	succeeded, pending := t.Refunded()
	if spec.Amount > t.Amount-succeeded-pending {
		return nil, nil, false, fmt.Errorf("%w: asked %s, refundable %s", ErrRefundTooLarge, spec.Amount, t.Amount-succeeded-pending)
	}
	at := spec.At
	if at.IsZero() {
		at = s.now()
	}
	r := &Refund{
		OutRequestNo: spec.OutRequestNo,
		RefundID:     s.sides[spec.Channel].newRefundID(s.rand, at),
		Amount:       spec.Amount,
		Reason:       spec.Reason,
		Status:       gateway.RefundSuccess,
		CreatedAt:    at,
		SucceededAt:  at,
		Console:      spec.Console,
		NotifyURL:    spec.NotifyURL,
	}
	switch {
	case f.RefundNotCarriedOut:
		r.Status, r.SucceededAt = gateway.RefundFailed, time.Time{}
	case f.RefundPending || f.RefundEnds != "":
		r.Status, r.SucceededAt = gateway.RefundPending, time.Time{}
	}
	t.Refunds = append(t.Refunds, r)
	rc := *r
	return t.clone(), &rc, true, nil
}

// ConsoleRefund makes a refund the way a person does in the platform's web
// console: the platform refunds and notifies, and the merchant's system has
// no record of the request.
func (s *Server) ConsoleRefund(spec RefundSpec) (*Refund, error) {
	spec.Console = true
	if spec.OutRequestNo == "" {
		spec.OutRequestNo = "CONSOLE" + s.randDigits(12)
	}
	t, r, created, err := s.refund(spec)
	if err != nil {
		return nil, err
	}
	if created && r.Status == gateway.RefundSuccess {
		s.notify(Event{Kind: EventRefunded, Trade: t, Refund: r})
	}
	return r, nil
}

// apiRefund is what a platform side calls for a refund request that arrived
// over its API: it applies the request and notifies a new successful
// refund; with the RefundEnds fault, the refund ends (and notifies) just
// after its PROCESSING answer. The bool says whether money moved (or was
// taken on) now, rather than by an earlier request under the number.
func (s *Server) apiRefund(spec RefundSpec) (*Trade, *Refund, bool, error) {
	t, r, created, err := s.refund(spec)
	if err != nil {
		return nil, nil, false, err
	}
	if created && r.Status == gateway.RefundSuccess {
		s.notify(Event{Kind: EventRefunded, Trade: t, Refund: r})
	}
	if f := s.fault(spec.Channel, spec.OutTradeNo); created && r.Status == gateway.RefundPending && f.RefundEnds != "" {
		s.settleLater(spec.Channel, spec.OutTradeNo, r.OutRequestNo, f.RefundEnds)
	}
	return t, r, created, nil
}

// SettleRefund moves a pending refund to SUCCESS (or FAILED) and notifies,
// as the platform does once the bank confirms.
func (s *Server) SettleRefund(ch gateway.Channel, outTradeNo, outRequestNo string, ok bool, at time.Time) error {
	st := gateway.RefundSuccess
	if !ok {
		st = gateway.RefundFailed
	}
	return s.SettleRefundAs(ch, outTradeNo, outRequestNo, st, at)
}

// SettleRefundAs ends a refund the way the platform does, and notifies:
// a PROCESSING refund succeeds (REFUND.SUCCESS), goes ABNORMAL (the money
// left the merchant and the buyer's bank refused it: REFUND.ABNORMAL) or
// is CLOSED (FAILED: never carried out, REFUND.CLOSED); an ABNORMAL one
// succeeds once the merchant has handled it (异常退款). Alipay has no
// refund notification but success.
func (s *Server) SettleRefundAs(ch gateway.Channel, outTradeNo, outRequestNo string, to gateway.RefundStatus, at time.Time) error {
	s.mu.Lock()
	t, found := s.trades[tradeKey{ch, outTradeNo}]
	if !found {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s %s", ErrNoSuchTrade, ch, outTradeNo)
	}
	r := t.Refund(outRequestNo)
	if r == nil || !(r.Status == gateway.RefundPending || (r.Status == gateway.RefundAbnormal && to == gateway.RefundSuccess)) {
		s.mu.Unlock()
		return fmt.Errorf("%w: no refund %s on %s that can become %s", ErrNoSuchRefund, outRequestNo, outTradeNo, to)
	}
	if at.IsZero() {
		at = s.now()
	}
	r.Status = to
	switch to {
	case gateway.RefundSuccess:
		r.SucceededAt = at
	case gateway.RefundAbnormal:
		r.AbnormalAt = at
	case gateway.RefundFailed:
		r.ClosedAt = at
	}
	snap, rc := t.clone(), *r
	s.mu.Unlock()
	kind := map[gateway.RefundStatus]EventKind{gateway.RefundSuccess: EventRefunded, gateway.RefundAbnormal: EventRefundAbnormal, gateway.RefundFailed: EventRefundClosed}[to]
	if kind == "" || (ch == gateway.Alipay && kind != EventRefunded) {
		return nil
	}
	s.notify(Event{Kind: kind, Trade: snap, Refund: &rc})
	return nil
}

// settleLater ends a refund the RefundEnds fault held PROCESSING, after its
// answer went out: the platform's asynchronous outcome and notification.
func (s *Server) settleLater(ch gateway.Channel, outTradeNo, outRequestNo string, to gateway.RefundStatus) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-time.After(10 * time.Millisecond):
		case <-s.ctx.Done():
			return
		}
		if err := s.SettleRefundAs(ch, outTradeNo, outRequestNo, to, time.Time{}); err != nil {
			s.cfg.Logger.Warn("sandbox could not settle a refund", "out_request_no", outRequestNo, "err", err)
		}
	}()
}
