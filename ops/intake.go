package ops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// Callback is a notification request as it reached the endpoint.
type Callback struct {
	Channel    gateway.Channel
	Header     http.Header
	Body       []byte
	RemoteAddr string
	ReceivedAt time.Time
	// Forbidden: the sender is outside the configured allowlist. The
	// callback is still stored (rule 1), then refused.
	Forbidden bool
	// Oversized: the body passed the endpoint's limit and Body holds only
	// its first bytes. Stored, and rejected.
	Oversized bool
}

// IntakeResult is what became of one callback.
type IntakeResult struct {
	NotificationID int64
	Verify         store.VerifyStatus
	Apply          store.ApplyStatus
	Detail         string
	Notification   *gateway.Notification // nil unless verified
	Reply          gateway.Reply
	// verifyErr is the verification error, so the reply says what the
	// platform's protocol says for that kind of rejection.
	verifyErr error
}

// errNotApplied asks the platform to send again: the notification was
// stored but could not be applied now (unknown order, a transient failure).
var errNotApplied = errors.New("not applied")

// IntakeNotification is the callback path (DESIGN §1): store the raw
// request first, then verify, apply exactly once, record the attempt, and
// answer in the platform's protocol. It is called by `serve` for every
// request, so it is not an operator action and is not role-checked; its
// record is the notification log itself.
func (s *Service) IntakeNotification(ctx context.Context, cb Callback) IntakeResult {
	// Everything after the raw save must finish even if the platform hangs
	// up: a half-applied notification is worse than a late one.
	ctx = context.WithoutCancel(ctx)
	if cb.ReceivedAt.IsZero() {
		cb.ReceivedAt = s.now()
	}
	res := IntakeResult{Verify: store.Unverified, Apply: store.ApplyPending}
	id, err := s.store.SaveRawNotification(ctx, store.RawNotification{
		Channel: cb.Channel, ReceivedAt: cb.ReceivedAt, RemoteAddr: cb.RemoteAddr, Header: cb.Header, Body: cb.Body,
	})
	if err != nil {
		// Not stored means not safe to acknowledge: the platform resends.
		s.log.Error("notification not stored", "channel", cb.Channel, "remote", cb.RemoteAddr, "err", err)
		res.Apply, res.Detail = store.ApplyFailed, "not stored: "+err.Error()
		res.Reply = s.reply(cb.Channel, cb.Body, fmt.Errorf("%w: %v", errNotApplied, err))
		return res
	}
	res.NotificationID = id
	if cb.Forbidden {
		res.Verify, res.Apply, res.Detail = store.Unverified, store.ApplyForbidden, "sender "+cb.RemoteAddr+" is not in [serve] allowed_cidrs"
		s.record(ctx, id, store.AttemptIntake, "", &res)
		res.Reply = gateway.Reply{Status: http.StatusForbidden, ContentType: "text/plain; charset=utf-8", Body: []byte("forbidden")}
		return res
	}
	if cb.Oversized {
		res.Verify, res.Apply, res.Detail = store.Rejected, store.ApplyRejected, fmt.Sprintf("body larger than the %d bytes accepted; stored truncated", len(cb.Body))
		s.record(ctx, id, store.AttemptIntake, "", &res)
		res.Reply = gateway.Reply{Status: http.StatusRequestEntityTooLarge, ContentType: "text/plain; charset=utf-8", Body: []byte("body too large")}
		if _, ok := s.platforms[cb.Channel].(gateway.BodyReplier); ok {
			// A WeChat v2 sender reads only an XML return_code: it is
			// refused in its own protocol, still as 413.
			res.Reply = s.reply(cb.Channel, cb.Body, fmt.Errorf("%w: body too large (%s)", gateway.ErrMalformed, res.Detail))
			res.Reply.Status = http.StatusRequestEntityTooLarge
		}
		return res
	}
	s.process(ctx, id, store.AttemptIntake, "", cb.Channel, cb.Header, cb.Body, cb.ReceivedAt, &res)
	res.Reply = s.reply(cb.Channel, cb.Body, res.replyCause())
	return res
}

// replyCause is nil when the platform should stop sending: the notification
// is applied or permanently classified (duplicate, amount mismatch,
// nothing to do). Rejections and failures ask for a resend.
func (r *IntakeResult) replyCause() error {
	if r.Apply.Settled() {
		return nil
	}
	switch r.Apply {
	case store.ApplyRejected:
		if r.verifyErr != nil {
			return r.verifyErr
		}
		return fmt.Errorf("%w: %s", gateway.ErrMalformed, r.Detail)
	}
	return fmt.Errorf("%w: %s", errNotApplied, r.Detail)
}

// reply answers in the platform's protocol; one that takes several
// protocols on one URL answers in the one body is written in.
func (s *Service) reply(ch gateway.Channel, body []byte, cause error) gateway.Reply {
	if p, ok := s.platforms[ch].(gateway.BodyReplier); ok {
		return p.NotifyReplyTo(body, cause)
	}
	if p, ok := s.platforms[ch]; ok {
		return p.NotifyReply(cause)
	}
	return gateway.Reply{Status: http.StatusServiceUnavailable, ContentType: "text/plain; charset=utf-8", Body: []byte("channel not configured")}
}

// process verifies a stored notification, applies it exactly once and
// records the attempt (kind, by operator), filling res. A payment is applied
// and recorded in one transaction.
func (s *Service) process(ctx context.Context, id int64, kind store.AttemptKind, operator string, ch gateway.Channel,
	header http.Header, body []byte, receivedAt time.Time, res *IntakeResult) {
	p, ok := s.platforms[ch]
	if !ok {
		res.Apply, res.Detail = store.ApplyFailed, fmt.Sprintf("%s is not configured in paydesk.toml", ch)
		s.record(ctx, id, kind, operator, res)
		return
	}
	n, err := p.VerifyNotification(header, body, receivedAt)
	if err != nil {
		if gateway.IsRejection(err) {
			res.Verify, res.Apply = store.Rejected, store.ApplyRejected
		} else {
			res.Apply = store.ApplyFailed
		}
		res.Detail, res.verifyErr = err.Error(), err
		s.record(ctx, id, kind, operator, res)
		return
	}
	res.Verify, res.Notification = store.Verified, &n
	if n.Event != gateway.EventPayment {
		res.Apply, res.Detail = s.apply(ctx, n)
		s.record(ctx, id, kind, operator, res)
		return
	}
	pay := store.Payment{OutTradeNo: n.OutTradeNo, Channel: n.Channel, TradeNo: n.TradeNo, Amount: n.Amount, PaidAt: n.PaidAt,
		Via: store.ViaNotify, Currency: n.Currency}
	_, _, err = s.store.MarkPaidRecording(ctx, pay, id, func(r store.PaymentResult, refused error) store.Attempt {
		res.Apply, res.Detail = s.paymentOutcome(n, r, refused)
		return s.attempt(kind, operator, res)
	})
	if err != nil {
		// Nothing was applied or recorded: record the failure alone.
		res.Apply, res.Detail = store.ApplyFailed, err.Error()
		s.record(ctx, id, kind, operator, res)
	}
}

// paymentOutcome names what applying a verified payment did.
func (s *Service) paymentOutcome(n gateway.Notification, r store.PaymentResult, refused error) (store.ApplyStatus, string) {
	switch {
	case errors.Is(refused, store.ErrAmountMismatch):
		return store.ApplyAmountMismatch, refused.Error()
	case refused != nil:
		return orderErrorStatus(refused)
	}
	switch r.Outcome {
	case store.PaymentApplied:
		if r.Reopened {
			return store.ApplyApplied, "paid after the order was closed locally"
		}
		return store.ApplyApplied, ""
	case store.PaymentAlreadyApplied:
		return store.ApplyDuplicate, "already paid by this trade"
	}
	s.log.Warn("duplicate payment", "channel", n.Channel, "out_trade_no", n.OutTradeNo, "trade_no", n.TradeNo, "paid_by", r.Order.TradeNo)
	return store.ApplyDuplicatePayment, fmt.Sprintf("order already paid by %s %s; %s %s is a second payment", r.Order.Channel, r.Order.TradeNo, n.Channel, n.TradeNo)
}

// apply makes a verified notification's fact true in the store, exactly
// once.
func (s *Service) apply(ctx context.Context, n gateway.Notification) (store.ApplyStatus, string) {
	now := s.now()
	switch n.Event {
	case gateway.EventRefund:
		if n.OutRequestNo == "" {
			return store.ApplyFailed, "refund notification without a request number"
		}
		out, f, err := s.store.RecordPlatformRefund(ctx, store.PlatformRefund{OutTradeNo: n.OutTradeNo, OutRequestNo: n.OutRequestNo,
			TradeNo: n.TradeNo, RefundID: n.RefundID, Amount: n.RefundAmount, Total: n.RefundTotal, RefundedAt: n.RefundedAt}, now)
		switch {
		case errors.Is(err, store.ErrRefundConflict), errors.Is(err, store.ErrRefundCeiling):
			// The platform refunded something that does not fit what we
			// hold: a person must look; resending will not change it.
			return store.ApplyAmountMismatch, err.Error()
		case err != nil:
			// Unknown order, or our side failed (a busy or closed store):
			// the platform sends it again.
			return orderErrorStatus(err)
		}
		switch out {
		case store.PlatformRefundFinished:
			return store.ApplyApplied, "refund " + f.OutRequestNo + " succeeded"
		case store.PlatformRefundKnown:
			return store.ApplyDuplicate, "refund " + f.OutRequestNo + " already recorded"
		default:
			return store.ApplyReview, fmt.Sprintf("refund %s of %s made at the platform, not through paydesk: recorded for review", f.OutRequestNo, f.Amount)
		}
	case gateway.EventClosed:
		changed, err := s.store.MarkClosed(ctx, n.OutTradeNo, now)
		switch {
		case errors.Is(err, store.ErrNotClosable):
			return store.ApplyIgnored, err.Error()
		case err != nil:
			return orderErrorStatus(err)
		case !changed:
			return store.ApplyDuplicate, "already closed"
		}
		return store.ApplyApplied, "closed"
	}
	return store.ApplyIgnored, "nothing to apply for " + n.PlatformState
}

func orderErrorStatus(err error) (store.ApplyStatus, string) {
	if errors.Is(err, store.ErrOrderNotFound) {
		return store.ApplyUnknownOrder, err.Error()
	}
	return store.ApplyFailed, err.Error()
}

// attempt is the record of one processing of a notification.
func (s *Service) attempt(kind store.AttemptKind, operator string, res *IntakeResult) store.Attempt {
	a := store.Attempt{Kind: kind, Operator: operator, At: s.now(), VerifyStatus: res.Verify, ApplyStatus: res.Apply, Detail: res.Detail}
	if res.Verify == store.Rejected {
		a.VerifyError = res.Detail
	}
	if n := res.Notification; n != nil {
		amount := n.Amount
		if n.Event == gateway.EventRefund {
			amount = n.RefundAmount
		}
		a.Event, a.NotifyID, a.OutTradeNo, a.TradeNo, a.OutRequestNo, a.Amount = n.Event, n.NotifyID, n.OutTradeNo, n.TradeNo, n.OutRequestNo, &amount
	}
	return a
}

// record writes the attempt; a failure to write it is logged (the reply
// still goes out: the raw notification is already safe).
func (s *Service) record(ctx context.Context, id int64, kind store.AttemptKind, operator string, res *IntakeResult) {
	if err := s.store.RecordAttempt(ctx, id, s.attempt(kind, operator, res)); err != nil {
		s.log.Error("notification attempt not recorded", "id", id, "err", err)
	}
}

// ResumeInterrupted finishes the notifications a crash left undecided:
// stored (rule 1 held) but never verified or applied, because the process
// died in between. The endpoint calls it on start, before it listens, so a
// kill -9 loses nothing the platform will not resend anyway. Applying is
// exactly-once, so finishing one whose payment did land changes nothing.
func (s *Service) ResumeInterrupted(ctx context.Context) (int, error) {
	done := 0
	var before int64
	for {
		// A page at a time: raw bodies are not all held at once.
		page, err := s.store.ListNotifications(ctx, store.NotificationFilter{Apply: store.ApplyPending}, before, 500)
		if err != nil {
			return done, err
		}
		if len(page) == 0 {
			break
		}
		for _, n := range page {
			res := IntakeResult{NotificationID: n.ID, Verify: store.Unverified, Apply: store.ApplyPending}
			s.process(ctx, n.ID, store.AttemptIntake, "recovery", n.Channel, n.Header, n.Body, n.ReceivedAt, &res)
			done++
		}
		before = page[len(page)-1].ID
	}
	if done > 0 {
		s.log.Warn("finished notifications an interrupted intake left undecided", "count", done)
	}
	return done, nil
}
