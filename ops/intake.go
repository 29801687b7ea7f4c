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
	// callback is still stored (ARCHITECTURE.md §3 rule 1), then refused.
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

// VerifyKey names the key that verified the callback, or the unknown
// serial it named (listed so, the missing key is plain); "" otherwise.
func (r *IntakeResult) VerifyKey() string {
	if r.Notification != nil {
		return r.Notification.VerifiedBy
	}
	var unknown *gateway.UnknownKeyError
	if errors.As(r.verifyErr, &unknown) {
		return "unknown serial " + unknown.Serial
	}
	return ""
}

// errNotApplied asks the platform to send again: the notification was
// stored but could not be applied now (unknown order, a transient failure).
var errNotApplied = errors.New("not applied")

// IntakeNotification is the callback path (ARCHITECTURE.md §2): store the raw
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
	sender, size := senderKey(cb.RemoteAddr), rawSize(cb.Header, cb.Body)
	tier := s.cap.admit(sender, size, cb.ReceivedAt)
	if tier != tierWhole {
		return s.intakeOverCap(ctx, cb, sender, tier)
	}
	res := s.intakeWhole(ctx, cb, nil)
	if res.Verify == store.Verified {
		// Only unverified callbacks count against the sender's cap.
		s.cap.release(sender, size, cb.ReceivedAt, tierWhole)
	}
	return res
}

// intakeWhole stores the whole request, then verifies, applies and
// answers it. verified, when set, is what verifying these very bytes gave
// just before (intakeOverCap), so they are not verified twice.
func (s *Service) intakeWhole(ctx context.Context, cb Callback, verified *gateway.Notification) IntakeResult {
	res := IntakeResult{Verify: store.Unverified, Apply: store.ApplyPending}
	if verified != nil {
		res.Verify, res.Notification = store.Verified, verified
	}
	id, err := s.store.SaveRawNotification(ctx, store.RawNotification{
		Channel: cb.Channel, ReceivedAt: cb.ReceivedAt, RemoteAddr: cb.RemoteAddr, Header: cb.Header, Body: cb.Body,
	})
	if err != nil {
		return s.notStored(cb, err, res)
	}
	res.NotificationID = id
	if s.refusedUnverified(cb, &res) {
		s.record(ctx, id, store.AttemptIntake, "", &res)
		return res
	}
	s.process(ctx, id, store.AttemptIntake, "", cb.Channel, cb.Header, cb.Body, cb.ReceivedAt, &res)
	res.Reply = s.reply(cb.Channel, cb.Body, res.replyCause())
	return res
}

// refusedUnverified classifies a callback refused without verification —
// from outside the allowlist, or larger than accepted (stored truncated) —
// and says so; false for any other.
func (s *Service) refusedUnverified(cb Callback, res *IntakeResult) bool {
	switch {
	case cb.Forbidden:
		res.Verify, res.Apply, res.Detail = store.Unverified, store.ApplyForbidden, "sender "+cb.RemoteAddr+" is not in [serve] allowed_cidrs"
		res.Reply = gateway.Reply{Status: http.StatusForbidden, ContentType: "text/plain; charset=utf-8", Body: []byte("forbidden")}
	case cb.Oversized:
		res.Verify, res.Apply, res.Detail = store.Rejected, store.ApplyRejected, fmt.Sprintf("body larger than the %d bytes accepted; stored truncated", len(cb.Body))
		res.Reply = gateway.Reply{Status: http.StatusRequestEntityTooLarge, ContentType: "text/plain; charset=utf-8", Body: []byte("body too large")}
		if _, ok := s.platforms[cb.Channel].(gateway.BodyReplier); ok {
			// A WeChat v2 sender reads only an XML return_code: it is
			// refused in its own protocol, still as 413.
			res.Reply = s.reply(cb.Channel, cb.Body, fmt.Errorf("%w: body too large (%s)", gateway.ErrMalformed, res.Detail))
			res.Reply.Status = http.StatusRequestEntityTooLarge
		}
	default:
		return false
	}
	return true
}

// notStored answers a callback the store could not take: not stored means
// not safe to acknowledge, so the platform resends.
func (s *Service) notStored(cb Callback, err error, res IntakeResult) IntakeResult {
	s.log.Error("notification not stored", "channel", cb.Channel, "remote", cb.RemoteAddr, "err", err)
	res.Apply, res.Detail = store.ApplyFailed, "not stored: "+err.Error()
	res.Reply = s.reply(cb.Channel, cb.Body, fmt.Errorf("%w: %v", errNotApplied, err))
	return res
}

// intakeOverCap takes a callback from a sender over its cap on unverified
// callbacks (see IntakeCap). It is verified in memory first: a real one is
// stored whole and applied as any other. Otherwise only its first bytes
// are stored (tierFirstBytes), or it is only counted (tierCount); either
// way it is answered as the rejection it is.
func (s *Service) intakeOverCap(ctx context.Context, cb Callback, sender string, tier capTier) IntakeResult {
	res := IntakeResult{Verify: store.Unverified, Apply: store.ApplyFailed}
	switch p, ok := s.platforms[cb.Channel]; {
	case s.refusedUnverified(cb, &res):
	case !ok:
		res.Detail = fmt.Sprintf("%s is not configured in paydesk.toml", cb.Channel)
		res.Reply = s.reply(cb.Channel, cb.Body, nil)
	default:
		n, err := p.VerifyNotification(cb.Header, cb.Body, cb.ReceivedAt)
		if err == nil {
			s.cap.release(sender, 0, cb.ReceivedAt, tier)
			return s.intakeWhole(ctx, cb, &n)
		}
		if gateway.IsRejection(err) {
			res.Verify, res.Apply = store.Rejected, store.ApplyRejected
		}
		res.Detail, res.verifyErr = err.Error(), err
		res.Reply = s.reply(cb.Channel, cb.Body, res.replyCause())
	}
	if tier == tierCount {
		if err := s.store.CountOverflow(ctx, sender, cb.Channel, cb.ReceivedAt, int64(len(cb.Body))); err != nil {
			s.log.Error("unverified callback over the cap not counted", "channel", cb.Channel, "remote", cb.RemoteAddr, "err", err)
		}
		res.Detail += "; not stored, counted: " + sender + " is over its cap of unverified callbacks this minute"
		return res
	}
	header, body := firstOf(cb.Header, cb.Body)
	id, err := s.store.SaveRawNotification(ctx, store.RawNotification{
		Channel: cb.Channel, ReceivedAt: cb.ReceivedAt, RemoteAddr: cb.RemoteAddr, Header: header, Body: body, Size: int64(len(cb.Body)),
	})
	if err != nil {
		return s.notStored(cb, err, res)
	}
	res.NotificationID = id
	res.Detail += fmt.Sprintf("; kept the first %d of %d bytes: %s is over its cap of unverified callbacks this minute", len(body), len(cb.Body), sender)
	s.record(ctx, id, store.AttemptIntake, "", &res)
	return res
}

// processStored verifies and applies a stored notification again (replay,
// crash recovery). One stored as its first bytes only cannot verify, and
// says so rather than blaming its signature.
func (s *Service) processStored(ctx context.Context, n store.Notification, kind store.AttemptKind, operator string, res *IntakeResult) {
	if n.TruncatedFrom > 0 {
		res.Verify, res.Apply = store.Rejected, store.ApplyRejected
		res.Detail = fmt.Sprintf("only the first %d of %d bytes were kept (its sender was over the cap of unverified callbacks): it cannot be verified", len(n.Body), n.TruncatedFrom)
		s.record(ctx, n.ID, kind, operator, res)
		return
	}
	s.process(ctx, n.ID, kind, operator, n.Channel, n.Header, n.Body, n.ReceivedAt, res)
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
	var n gateway.Notification
	var err error
	if res.Verify == store.Verified && res.Notification != nil {
		n = *res.Notification // verified before it was stored
	} else {
		n, err = p.VerifyNotification(header, body, receivedAt)
	}
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
	switch {
	case n.Event == gateway.EventPayment:
		err = s.applyPayment(ctx, id, kind, operator, n, res)
	case n.Event.IsRefund():
		err = s.applyRefund(ctx, id, kind, operator, n, res)
	case n.Event == gateway.EventClosed:
		err = s.applyClose(ctx, id, kind, operator, n, res)
	default:
		res.Apply, res.Detail = store.ApplyIgnored, "nothing to apply for "+n.PlatformState
		s.record(ctx, id, kind, operator, res)
		return
	}
	if err != nil {
		// Nothing was applied or recorded: record the failure alone.
		res.Apply, res.Detail = store.ApplyFailed, err.Error()
		s.record(ctx, id, kind, operator, res)
	}
}

// applyPayment applies a verified payment and records the attempt in one
// transaction; an error means neither happened.
func (s *Service) applyPayment(ctx context.Context, id int64, kind store.AttemptKind, operator string, n gateway.Notification, res *IntakeResult) error {
	pay := store.Payment{OutTradeNo: n.OutTradeNo, Channel: n.Channel, TradeNo: n.TradeNo, Amount: n.Amount, PaidAt: n.PaidAt,
		Via: store.ViaNotify, Currency: n.Currency}
	_, _, err := s.store.MarkPaidRecording(ctx, pay, s.now(), id, func(r store.PaymentResult, refused error) store.Attempt {
		res.Apply, res.Detail = s.paymentOutcome(n, r, refused)
		return s.attempt(kind, operator, res)
	})
	return err
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
	case store.PaymentOtherChannel:
		s.log.Warn("payment on another channel", "channel", n.Channel, "out_trade_no", n.OutTradeNo, "trade_no", n.TradeNo, "order_channel", r.Order.Channel)
		return store.ApplyChannelMismatch, fmt.Sprintf("order %s is a %s order; this %s payment (trade %s) is recorded, not applied: an order is paid on its own channel (refund it if it is not this order's)",
			n.OutTradeNo, r.Order.Channel, n.Channel, n.TradeNo)
	}
	s.log.Warn("duplicate payment", "channel", n.Channel, "out_trade_no", n.OutTradeNo, "trade_no", n.TradeNo, "paid_by", r.Order.TradeNo)
	return store.ApplyDuplicatePayment, fmt.Sprintf("order already paid by %s %s; %s %s is a second payment", r.Order.Channel, r.Order.TradeNo, n.Channel, n.TradeNo)
}

// refundStatusOf is the refund status a refund event reports.
func refundStatusOf(e gateway.Event) gateway.RefundStatus {
	switch e {
	case gateway.EventRefundAbnormal:
		return gateway.RefundAbnormal
	case gateway.EventRefundClosed:
		return gateway.RefundFailed
	}
	return gateway.RefundSuccess
}

// applyRefund makes a verified refund report true in the store exactly
// once, and records the attempt in the same transaction: a refund is never
// moved without its notification saying so, and a crash cannot fall between
// the two.
func (s *Service) applyRefund(ctx context.Context, id int64, kind store.AttemptKind, operator string, n gateway.Notification, res *IntakeResult) error {
	if n.OutRequestNo == "" {
		res.Apply, res.Detail = store.ApplyFailed, "refund notification without a request number"
		s.record(ctx, id, kind, operator, res)
		return nil
	}
	p := store.PlatformRefund{OutTradeNo: n.OutTradeNo, OutRequestNo: n.OutRequestNo, TradeNo: n.TradeNo, RefundID: n.RefundID,
		Status: refundStatusOf(n.Event), Amount: n.RefundAmount, Total: n.RefundTotal, RefundedAt: n.RefundedAt}
	if p.Status != gateway.RefundSuccess {
		p.Note = "platform: " + n.PlatformState
	}
	_, _, _, err := s.store.RecordPlatformRefundRecording(ctx, p, s.now(), id, func(out store.PlatformRefundOutcome, f store.Refund, refused error) store.Attempt {
		res.Apply, res.Detail = refundOutcome(p.Status, out, f, refused)
		return s.attempt(kind, operator, res)
	})
	return err
}

// refundOutcome names what applying a refund report did.
func refundOutcome(reported gateway.RefundStatus, out store.PlatformRefundOutcome, f store.Refund, refused error) (store.ApplyStatus, string) {
	switch {
	case errors.Is(refused, store.ErrRefundConflict), errors.Is(refused, store.ErrRefundCeiling):
		// The platform reports a refund that does not fit what we hold: a
		// person must look; resending will not change it.
		return store.ApplyAmountMismatch, refused.Error()
	case refused != nil:
		// Unknown order: the platform sends it again.
		return orderErrorStatus(refused)
	}
	switch out {
	case store.PlatformRefundFinished:
		switch reported {
		case gateway.RefundAbnormal:
			return store.ApplyApplied, "refund " + f.OutRequestNo + " is ABNORMAL: the money left the merchant but did not reach the buyer; it needs handling (see `paydesk refunds --needs-action`)"
		case gateway.RefundFailed:
			return store.ApplyApplied, "refund " + f.OutRequestNo + " was closed by the platform without being carried out: FAILED, its amount is refundable again"
		}
		return store.ApplyApplied, "refund " + f.OutRequestNo + " succeeded"
	case store.PlatformRefundKnown:
		return store.ApplyDuplicate, fmt.Sprintf("refund %s already recorded as %s", f.OutRequestNo, f.Status)
	case store.PlatformRefundIgnored:
		return store.ApplyIgnored, "closed refund " + f.OutRequestNo + " was not made through paydesk; closing it moved no money"
	}
	if reported == gateway.RefundAbnormal {
		return store.ApplyReview, fmt.Sprintf("ABNORMAL refund %s of %s made at the platform, not through paydesk: recorded for review; it needs handling", f.OutRequestNo, f.Amount)
	}
	return store.ApplyReview, fmt.Sprintf("refund %s of %s made at the platform, not through paydesk: recorded for review", f.OutRequestNo, f.Amount)
}

// applyClose closes the order of a verified close notification and records
// the attempt in the same transaction.
func (s *Service) applyClose(ctx context.Context, id int64, kind store.AttemptKind, operator string, n gateway.Notification, res *IntakeResult) error {
	_, _, err := s.store.MarkClosedRecording(ctx, n.OutTradeNo, s.now(), id, func(changed bool, refused error) store.Attempt {
		switch {
		case errors.Is(refused, store.ErrNotClosable):
			res.Apply, res.Detail = store.ApplyIgnored, refused.Error()
		case refused != nil:
			res.Apply, res.Detail = orderErrorStatus(refused)
		case !changed:
			res.Apply, res.Detail = store.ApplyDuplicate, "already closed"
		default:
			res.Apply, res.Detail = store.ApplyApplied, "closed"
		}
		return s.attempt(kind, operator, res)
	})
	return err
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
		if n.Event.IsRefund() {
			amount = n.RefundAmount
		}
		a.Event, a.NotifyID, a.OutTradeNo, a.TradeNo, a.OutRequestNo, a.Amount = n.Event, n.NotifyID, n.OutTradeNo, n.TradeNo, n.OutRequestNo, &amount
	}
	a.VerifyKey = res.VerifyKey()
	return a
}

// record writes the attempt; a failure to write it is logged (the reply
// still goes out: the raw notification is already safe).
func (s *Service) record(ctx context.Context, id int64, kind store.AttemptKind, operator string, res *IntakeResult) {
	if err := s.store.RecordAttempt(ctx, id, s.attempt(kind, operator, res)); err != nil {
		s.log.Error("notification attempt not recorded", "id", id, "err", err)
	}
}

// StartIntake makes this process a callback taker (the `serve` endpoint):
// it claims intake in the store, so that no other process finishes the
// callbacks this one is deciding, then finishes what interrupted intakes
// left undecided. On SQLite a second taker of the same file is refused
// (store.ErrIntakeTaken): several `serve` processes need PostgreSQL.
func (s *Service) StartIntake(ctx context.Context) (int, error) {
	if err := s.store.ClaimIntake(ctx); err != nil {
		return 0, err
	}
	return s.ResumeInterrupted(ctx)
}

// ResumeInterrupted finishes the notifications a crash left undecided:
// stored (ARCHITECTURE.md §3 rule 1 held) but never verified or applied, because the process
// that took them died in between. The endpoint calls it on start, before it
// listens, so a kill -9 loses nothing the platform will not resend anyway,
// and again now and then, for the callbacks of a replica that died and did
// not come back. Only the callbacks of processes that are gone are touched
// (see store.EachInterrupted): another live `serve` may be deciding its own.
// Applying is exactly-once, so finishing one whose payment did land changes
// nothing.
func (s *Service) ResumeInterrupted(ctx context.Context) (int, error) {
	done, err := s.store.EachInterrupted(ctx, func(n store.Notification) error {
		res := IntakeResult{NotificationID: n.ID, Verify: store.Unverified, Apply: store.ApplyPending}
		s.processStored(ctx, n, store.AttemptIntake, "recovery", &res)
		return nil
	})
	if done > 0 {
		s.log.Warn("finished notifications an interrupted intake left undecided", "count", done)
	}
	return done, err
}
