package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// RefundPlan is what a refund will do, shown before the operator confirms.
type RefundPlan struct {
	Order      store.Order   `json:"order"`
	Amount     gateway.Money `json:"amount"`
	Reason     string        `json:"reason"`
	Ceiling    store.Ceiling `json:"-"`
	Refundable gateway.Money `json:"refundable"`
	// After is the order's state if the refund succeeds.
	After store.OrderStatus `json:"after"`
	// Duplicate is set for the refund of a duplicate payment.
	Duplicate *store.DuplicatePayment `json:"duplicate,omitempty"`
}

// Describe says in one sentence what confirming will do.
func (p RefundPlan) Describe() string {
	if d := p.Duplicate; d != nil {
		return fmt.Sprintf("refund %s of the duplicate %s payment %s of order %s (paid twice; the order's own %s payment stays) to the buyer",
			p.Amount.Yuan(), d.Channel, d.TradeNo, p.Order.OutTradeNo, p.Order.Channel)
	}
	return fmt.Sprintf("refund %s of %s order %s (paid %s, refundable %s) to the buyer; the order becomes %s",
		p.Amount.Yuan(), p.Order.Channel, p.Order.OutTradeNo, p.Order.Amount.Yuan(), p.Refundable.Yuan(), p.After)
}

// ErrRefundInput marks a refund request that cannot be made as asked.
var ErrRefundInput = errors.New("invalid refund")

// PlanRefund checks a refund without doing it: the order must be paid and
// the amount within the ceiling (checked again when the refund begins).
func (s *Service) PlanRefund(ctx context.Context, outTradeNo string, amount gateway.Money, reason string) (RefundPlan, error) {
	if err := s.allow(ctx, ActRefund, outTradeNo); err != nil {
		return RefundPlan{}, err
	}
	reason = strings.TrimSpace(reason)
	c, o, err := s.store.RefundCeiling(ctx, outTradeNo)
	if err != nil {
		return RefundPlan{}, err
	}
	p := RefundPlan{Order: o, Amount: amount, Reason: reason, Ceiling: c, Refundable: c.Remaining()}
	switch {
	case !o.Status.IsPaid():
		return p, fmt.Errorf("%w: %s is %s, not paid", ErrRefundInput, outTradeNo, o.Status)
	case amount <= 0:
		return p, fmt.Errorf("%w: the amount must be positive", ErrRefundInput)
	case amount > p.Refundable:
		return p, fmt.Errorf("%w: %s is more than the refundable %s (%s)", ErrRefundInput, amount.Yuan(), p.Refundable.Yuan(), ceilingText(c))
	}
	if err := checkReason(reason); err != nil {
		return p, err
	}
	req := gateway.RefundRequest{OutTradeNo: o.OutTradeNo, TradeNo: o.TradeNo, Amount: amount, Total: o.Amount, Currency: o.Currency, Reason: reason}
	if err := s.checkRefundFields(o.Channel, req); err != nil {
		return p, err
	}
	p.After = store.OrderPartiallyRefunded
	if o.Refunded+amount == o.Amount {
		p.After = store.OrderRefunded
	}
	return p, nil
}

// RefundOutcome is what happened to a refund request.
type RefundOutcome struct {
	Refund store.Refund `json:"refund"`
	// Unknown: the platform's answer never came (timeout, 5xx). The refund
	// stays PENDING; `refund --retry` queries it or re-sends the same
	// request number, which can never refund twice.
	Unknown bool   `json:"unknown"`
	Note    string `json:"note"`
}

// Refund refunds part or all of a paid order (ARCHITECTURE.md §3 rule 4): the PENDING refund
// and its fresh request number are recorded, under the ceiling, before the
// platform is called; the platform's answer finishes it; an unknown answer
// leaves it PENDING.
func (s *Service) Refund(ctx context.Context, outTradeNo string, amount gateway.Money, reason string) (RefundOutcome, error) {
	plan, err := s.PlanRefund(ctx, outTradeNo, amount, reason)
	if err != nil {
		s.auditPlanError(ctx, outTradeNo, fmt.Sprintf("refund %s", amount), err)
		return RefundOutcome{}, err
	}
	p, ok := s.platforms[plan.Order.Channel]
	if !ok {
		err := fmt.Errorf("%s is not configured in paydesk.toml; cannot refund %s", plan.Order.Channel, outTradeNo)
		s.auditResult(ctx, ActRefund, outTradeNo, "", err)
		return RefundOutcome{}, err
	}
	f, err := s.store.BeginRefund(ctx, outTradeNo, amount, plan.Reason, s.operator.Name, s.now())
	if err != nil {
		s.auditResult(ctx, ActRefund, outTradeNo, fmt.Sprintf("refund %s", amount), err)
		return RefundOutcome{}, err
	}
	out, err := s.sendRefund(ctx, p, f)
	s.auditResult(ctx, ActRefund, outTradeNo, fmt.Sprintf("refund %s %s of %s: %s", f.OutRequestNo, out.Refund.Status, amount, out.Note), err)
	return out, err
}

// refundRequest is what the platform is asked for a refund: against the
// order's trade, or against the duplicate payment's own trade.
func (s *Service) refundRequest(ctx context.Context, f store.Refund) (gateway.RefundRequest, error) {
	req := gateway.RefundRequest{OutTradeNo: f.OutTradeNo, OutRequestNo: f.OutRequestNo, Amount: f.Amount, Reason: f.Reason, Currency: "CNY"}
	if f.TradeNo != "" {
		d, _, err := s.store.DuplicateCeiling(ctx, f.Channel, f.TradeNo)
		if err != nil {
			return req, err
		}
		req.TradeNo, req.Total = d.TradeNo, d.Amount
		return req, nil
	}
	o, err := s.store.GetOrder(ctx, f.OutTradeNo)
	if err != nil {
		return req, err
	}
	req.TradeNo, req.Total, req.Currency = o.TradeNo, o.Amount, o.Currency
	return req, nil
}

// sendRefund sends (or re-sends, with the same request number) a PENDING
// refund and records what the platform said.
func (s *Service) sendRefund(ctx context.Context, p gateway.Platform, f store.Refund) (RefundOutcome, error) {
	// The platform call and what follows must not be cut short by an
	// impatient caller: an answer that arrives must be recorded.
	ctx = context.WithoutCancel(ctx)
	req, err := s.refundRequest(ctx, f)
	if err != nil {
		return RefundOutcome{Refund: f}, err
	}
	r, err := p.Refund(ctx, req)
	switch {
	case errors.Is(err, gateway.ErrUnknownOutcome):
		now := s.now()
		_ = s.store.MarkRefundUnknown(ctx, f.OutRequestNo, err.Error(), now)
		f.Error, f.UnknownAt = err.Error(), now
		return RefundOutcome{Refund: f, Unknown: true,
			Note: fmt.Sprintf("the outcome is unknown (%v); refund %s stays PENDING: run `paydesk refund --retry %s`%s, which asks the platform and re-sends the same number only if it never got it",
				err, f.OutRequestNo, f.OutRequestNo, s.waitText())}, nil
	case err != nil:
		done, ferr := s.store.FinishRefund(ctx, f.OutRequestNo, store.RefundOutcome{Status: gateway.RefundFailed, Error: err.Error()}, s.now())
		if ferr != nil {
			return RefundOutcome{Refund: f}, errors.Join(err, ferr)
		}
		return RefundOutcome{Refund: done, Note: "the platform refused: " + err.Error()}, fmt.Errorf("refund %s refused: %w", f.OutRequestNo, err)
	}
	return s.finishFromPlatform(ctx, f, r)
}

// finishFromPlatform records a platform answer about a refund.
func (s *Service) finishFromPlatform(ctx context.Context, f store.Refund, r gateway.RefundResult) (RefundOutcome, error) {
	switch r.Status {
	case gateway.RefundSuccess, gateway.RefundFailed, gateway.RefundAbnormal:
		if r.Status != gateway.RefundFailed && r.Amount != 0 && r.Amount != f.Amount {
			return RefundOutcome{Refund: f}, fmt.Errorf("refund %s: the platform reports %s %s, we asked %s: left %s for review", f.OutRequestNo, r.Status, r.Amount, f.Amount, f.Status)
		}
		done, err := s.store.FinishRefund(ctx, f.OutRequestNo, store.RefundOutcome{Status: r.Status, RefundID: r.RefundID, RefundedAt: r.RefundedAt,
			Error: failText(r)}, s.now())
		if err != nil {
			return RefundOutcome{Refund: f}, err
		}
		note := "refunded"
		switch r.Status {
		case gateway.RefundFailed:
			note = "the platform says the refund failed: " + r.PlatformState
		case gateway.RefundAbnormal:
			note = RefundAction(done)
		}
		return RefundOutcome{Refund: done, Note: note}, nil
	}
	_ = s.store.NoteRefundAttempt(ctx, f.OutRequestNo, "", s.now())
	return RefundOutcome{Refund: f, Note: fmt.Sprintf("accepted, processing at the platform (%s); it completes by notification or `paydesk refund --retry %s`", r.PlatformState, f.OutRequestNo)}, nil
}

func failText(r gateway.RefundResult) string {
	if r.Status == gateway.RefundFailed || r.Status == gateway.RefundAbnormal {
		return "platform: " + r.PlatformState
	}
	return ""
}

// ErrRefundTooSoon refuses a refund query that would come too soon after
// the refund's outcome became unknown to be trusted.
var ErrRefundTooSoon = errors.New("too soon to ask the platform about this refund")

// RetryRefund settles a PENDING refund: it asks the platform about the
// request number; if the platform never received it (or, Alipay, reports it
// without a refund_status: not received or failed), it re-sends the same
// number and amount, so at most one refund can ever come of it. An ABNORMAL
// refund is only asked about, never re-sent: its money already left.
func (s *Service) RetryRefund(ctx context.Context, outRequestNo string) (RefundOutcome, error) {
	if err := s.allow(ctx, ActRefund, outRequestNo); err != nil {
		return RefundOutcome{}, err
	}
	out, err := s.retryRefund(ctx, outRequestNo)
	target := outRequestNo
	if out.Refund.OutTradeNo != "" {
		target = out.Refund.OutTradeNo
	}
	s.auditResult(ctx, ActRefund, target, fmt.Sprintf("retry %s: %s %s", outRequestNo, out.Refund.Status, out.Note), err)
	return out, err
}

func (s *Service) retryRefund(ctx context.Context, outRequestNo string) (RefundOutcome, error) {
	f, err := s.store.GetRefund(ctx, outRequestNo)
	if err != nil {
		return RefundOutcome{}, err
	}
	if !f.Status.Holds() {
		return RefundOutcome{Refund: f, Note: "already " + string(f.Status)}, nil
	}
	p, ok := s.platforms[f.Channel]
	if !ok {
		return RefundOutcome{Refund: f}, fmt.Errorf("%s is not configured in paydesk.toml", f.Channel)
	}
	if !f.UnknownAt.IsZero() {
		// A query moments after an unanswered refund can miss a refund the
		// platform is still booking; taken as "not received", it would
		// send the request again on stale evidence.
		if wait := f.UnknownAt.Add(s.refundQueryAfter).Sub(s.now()); wait > 0 {
			return RefundOutcome{Refund: f}, fmt.Errorf("%w: refund %s's outcome became unknown %s ago; the platform's refund query is trusted %s after ([refund] query_after): try again in %s",
				ErrRefundTooSoon, f.OutRequestNo, s.now().Sub(f.UnknownAt).Round(time.Second), s.refundQueryAfter, wait.Round(time.Second))
		}
	}
	r, qerr := p.QueryRefund(context.WithoutCancel(ctx), f.OutTradeNo, f.OutRequestNo)
	switch {
	case errors.Is(qerr, gateway.ErrRefundNotFound) && f.Status == gateway.RefundPending:
		out, err := s.sendRefund(ctx, p, f)
		out.Note = "the platform had not received it, or it failed there; re-sent with the same number and amount: " + out.Note
		return out, err
	case qerr != nil:
		return RefundOutcome{Refund: f, Unknown: true, Note: fmt.Sprintf("the refund query failed; still %s: %v", f.Status, qerr)}, nil
	}
	return s.finishFromPlatform(ctx, f, r)
}

// waitText is the hint of how long a retry should wait, when it must.
func (s *Service) waitText() string {
	if s.refundQueryAfter <= 0 {
		return ""
	}
	return fmt.Sprintf(" in %s or later", s.refundQueryAfter)
}

// PlanDuplicateRefund checks the refund of a duplicate payment (the second
// payment of an order, on trade tradeNo of channel ch) without doing it.
// Once the payment is found, the plan comes back filled in (Duplicate,
// Order, Ceiling, Refundable) even with an ErrRefundInput refusal, so a
// form can ask with no amount yet to learn what it may default to.
func (s *Service) PlanDuplicateRefund(ctx context.Context, ch gateway.Channel, tradeNo string, amount gateway.Money, reason string) (RefundPlan, error) {
	if err := s.allow(ctx, ActRefund, tradeNo); err != nil {
		return RefundPlan{}, err
	}
	d, c, err := s.store.DuplicateCeiling(ctx, ch, tradeNo)
	if err != nil {
		return RefundPlan{}, err
	}
	o, err := s.store.GetOrder(ctx, d.OutTradeNo)
	if err != nil {
		return RefundPlan{}, err
	}
	reason = strings.TrimSpace(reason)
	p := RefundPlan{Order: o, Amount: amount, Reason: reason, Ceiling: c, Refundable: c.Remaining(), After: o.Status, Duplicate: &d}
	switch {
	case amount <= 0:
		return p, fmt.Errorf("%w: the amount must be positive", ErrRefundInput)
	case amount > p.Refundable:
		return p, fmt.Errorf("%w: %s is more than the %s the duplicate payment %s can still refund", ErrRefundInput, amount.Yuan(), p.Refundable.Yuan(), tradeNo)
	}
	if err := checkReason(reason); err != nil {
		return p, err
	}
	req := gateway.RefundRequest{OutTradeNo: d.OutTradeNo, TradeNo: d.TradeNo, Amount: amount, Total: d.Amount, Currency: o.Currency, Reason: reason}
	if err := s.checkRefundFields(ch, req); err != nil {
		return p, err
	}
	return p, nil
}

// RefundDuplicate returns the money of a duplicate payment to the buyer,
// refunding its own trade (ARCHITECTURE.md §3 rule 4 applies to it alone: the order's own
// payment is untouched).
func (s *Service) RefundDuplicate(ctx context.Context, ch gateway.Channel, tradeNo string, amount gateway.Money, reason string) (RefundOutcome, error) {
	plan, err := s.PlanDuplicateRefund(ctx, ch, tradeNo, amount, reason)
	target := plan.Order.OutTradeNo
	if target == "" {
		target = tradeNo
	}
	if err != nil {
		s.auditPlanError(ctx, target, fmt.Sprintf("refund duplicate %s %s", tradeNo, amount), err)
		return RefundOutcome{}, err
	}
	p, ok := s.platforms[ch]
	if !ok {
		err := fmt.Errorf("%s is not configured in paydesk.toml", ch)
		s.auditResult(ctx, ActRefund, target, "", err)
		return RefundOutcome{}, err
	}
	f, err := s.store.BeginDuplicateRefund(ctx, ch, tradeNo, amount, plan.Reason, s.operator.Name, s.now())
	if err != nil {
		s.auditResult(ctx, ActRefund, target, fmt.Sprintf("refund duplicate %s %s", tradeNo, amount), err)
		return RefundOutcome{}, err
	}
	out, err := s.sendRefund(ctx, p, f)
	s.auditResult(ctx, ActRefund, target, fmt.Sprintf("refund %s of duplicate payment %s %s %s: %s", f.OutRequestNo, ch, tradeNo, out.Refund.Status, out.Note), err)
	return out, err
}

// auditPlanError audits a refund refused while planning, once: a refusal
// by role was audited as denied when it was made.
func (s *Service) auditPlanError(ctx context.Context, target, detail string, err error) {
	if !errors.Is(err, ErrForbidden) {
		s.auditResult(ctx, ActRefund, target, detail, err)
	}
}

// ListRefunds returns refunds newest first.
func (s *Service) ListRefunds(ctx context.Context, f store.RefundFilter, beforeID int64, limit int) ([]store.Refund, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return nil, err
	}
	return s.store.ListRefunds(ctx, f, beforeID, limit)
}

// ListAudit returns the operator log newest first.
func (s *Service) ListAudit(ctx context.Context, f store.AuditFilter, beforeID int64, limit int) ([]store.AuditEntry, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return nil, err
	}
	return s.store.ListAudit(ctx, f, beforeID, limit)
}

// checkReason applies what paydesk requires of a refund reason; each
// platform's own length limit is checked by checkRefundFields.
func checkReason(reason string) error {
	if reason == "" {
		return fmt.Errorf("%w: a reason is required (it goes to the platform and the audit log)", ErrRefundInput)
	}
	return nil
}

// checkRefundFields checks a refund request against the platform's
// documented field lengths before anything is recorded, so a request the
// platform could never accept leaves no PENDING refund behind.
func (s *Service) checkRefundFields(ch gateway.Channel, req gateway.RefundRequest) error {
	rc, ok := s.platforms[ch].(gateway.RefundChecker)
	if !ok {
		return nil
	}
	if err := rc.CheckRefund(req); err != nil {
		return fmt.Errorf("%w: %w", ErrRefundInput, err)
	}
	return nil
}

// ceilingText spells a ceiling in yuan for people.
func ceilingText(c store.Ceiling) string {
	s := fmt.Sprintf("paid %s, refunded %s, pending %s", c.Paid.Yuan(), c.Succeeded.Yuan(), c.Pending.Yuan())
	if c.Abnormal != 0 {
		s += fmt.Sprintf(", abnormal %s (money that left and did not reach the buyer: not refundable again)", c.Abnormal.Yuan())
	}
	return s
}
