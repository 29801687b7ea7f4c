package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
}

// Describe says in one sentence what confirming will do.
func (p RefundPlan) Describe() string {
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
		return p, fmt.Errorf("%w: %s is more than the refundable %s (paid %s, refunded %s, pending %s)",
			ErrRefundInput, amount.Yuan(), p.Refundable.Yuan(), c.Paid.Yuan(), c.Succeeded.Yuan(), c.Pending.Yuan())
	case reason == "":
		return p, fmt.Errorf("%w: a reason is required (it goes to the platform and the audit log)", ErrRefundInput)
	case len(reason) > 256:
		return p, fmt.Errorf("%w: the reason is %d bytes; the platforms accept 256", ErrRefundInput, len(reason))
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

// Refund refunds part or all of a paid order (rule 4): the PENDING refund
// and its fresh request number are recorded, under the ceiling, before the
// platform is called; the platform's answer finishes it; an unknown answer
// leaves it PENDING.
func (s *Service) Refund(ctx context.Context, outTradeNo string, amount gateway.Money, reason string) (RefundOutcome, error) {
	plan, err := s.PlanRefund(ctx, outTradeNo, amount, reason)
	if err != nil {
		s.auditResult(ctx, ActRefund, outTradeNo, fmt.Sprintf("refund %s", amount), err)
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
	out, err := s.sendRefund(ctx, p, plan.Order, f)
	s.auditResult(ctx, ActRefund, outTradeNo, fmt.Sprintf("refund %s %s of %s: %s", f.OutRequestNo, out.Refund.Status, amount, out.Note), err)
	return out, err
}

// sendRefund sends (or re-sends, with the same request number) a PENDING
// refund and records what the platform said.
func (s *Service) sendRefund(ctx context.Context, p gateway.Platform, o store.Order, f store.Refund) (RefundOutcome, error) {
	// The platform call and what follows must not be cut short by an
	// impatient caller: an answer that arrives must be recorded.
	ctx = context.WithoutCancel(ctx)
	r, err := p.Refund(ctx, gateway.RefundRequest{OutTradeNo: o.OutTradeNo, TradeNo: o.TradeNo, OutRequestNo: f.OutRequestNo,
		Amount: f.Amount, Total: o.Amount, Currency: o.Currency, Reason: f.Reason})
	switch {
	case errors.Is(err, gateway.ErrUnknownOutcome):
		_ = s.store.NoteRefundAttempt(ctx, f.OutRequestNo, err.Error(), s.now())
		f.Error = err.Error()
		return RefundOutcome{Refund: f, Unknown: true,
			Note: fmt.Sprintf("the platform did not answer (%v); refund %s stays PENDING: run `paydesk refund --retry %s`", err, f.OutRequestNo, f.OutRequestNo)}, nil
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
	case gateway.RefundSuccess, gateway.RefundFailed:
		if r.Status == gateway.RefundSuccess && r.Amount != 0 && r.Amount != f.Amount {
			return RefundOutcome{Refund: f}, fmt.Errorf("refund %s: the platform refunded %s, we asked %s: left PENDING for review", f.OutRequestNo, r.Amount, f.Amount)
		}
		done, err := s.store.FinishRefund(ctx, f.OutRequestNo, store.RefundOutcome{Status: r.Status, RefundID: r.RefundID, RefundedAt: r.RefundedAt,
			Error: failText(r)}, s.now())
		if err != nil {
			return RefundOutcome{Refund: f}, err
		}
		note := "refunded"
		if r.Status == gateway.RefundFailed {
			note = "the platform says the refund failed: " + r.PlatformState
		}
		return RefundOutcome{Refund: done, Note: note}, nil
	}
	_ = s.store.NoteRefundAttempt(ctx, f.OutRequestNo, "", s.now())
	return RefundOutcome{Refund: f, Note: fmt.Sprintf("accepted, processing at the platform (%s); it completes by notification or `paydesk refund --retry %s`", r.PlatformState, f.OutRequestNo)}, nil
}

func failText(r gateway.RefundResult) string {
	if r.Status == gateway.RefundFailed {
		return "platform: " + r.PlatformState
	}
	return ""
}

// RetryRefund settles a PENDING refund: it asks the platform about the
// request number; if the platform never received it, it re-sends the same
// number (so at most one refund can ever come of it).
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
	if f.Status != gateway.RefundPending {
		return RefundOutcome{Refund: f, Note: "already " + string(f.Status)}, nil
	}
	o, err := s.store.GetOrder(ctx, f.OutTradeNo)
	if err != nil {
		return RefundOutcome{Refund: f}, err
	}
	p, ok := s.platforms[f.Channel]
	if !ok {
		return RefundOutcome{Refund: f}, fmt.Errorf("%s is not configured in paydesk.toml", f.Channel)
	}
	r, qerr := p.QueryRefund(context.WithoutCancel(ctx), f.OutTradeNo, f.OutRequestNo)
	switch {
	case errors.Is(qerr, gateway.ErrRefundNotFound):
		out, err := s.sendRefund(ctx, p, o, f)
		out.Note = "the platform had not received it; re-sent with the same number: " + out.Note
		return out, err
	case qerr != nil:
		return RefundOutcome{Refund: f, Unknown: true, Note: "the refund query failed; still PENDING: " + qerr.Error()}, nil
	}
	return s.finishFromPlatform(ctx, f, r)
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
