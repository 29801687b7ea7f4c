package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// refundForm asks for the amount (defaulting to what is still refundable)
// and the reason, checks them with ops.PlanRefund, and then hands over to a
// confirmation that says exactly what will happen. With dup set it refunds
// that duplicate payment on its own trade (ops.PlanDuplicateRefund,
// ops.RefundDuplicate), never the order's own payment.
type refundForm struct {
	c          *programContext
	owner      viewID
	order      store.Order
	dup        *store.DuplicatePayment
	refundable gateway.Money
	amount     textinput.Model
	reason     textinput.Model
	focus      int // 0 amount, 1 reason
	err        string
	busy       bool
}

// refundPlanMsg is PlanRefund's answer for the open form.
type refundPlanMsg struct {
	plan ops.RefundPlan
	err  error
}

func (refundPlanMsg) forDialog() {}

// refundDoneMsg is the outcome of a confirmed refund, for the view that
// asked (it refreshes the order).
type refundDoneMsg struct {
	owner viewID
	order string
	// duplicate is the trade refunded when it was a duplicate payment.
	duplicate string
	outcome   ops.RefundOutcome
	err       error
}

func (m refundDoneMsg) target() viewID { return m.owner }

// refundToast says what became of a confirmed refund.
func refundToast(m refundDoneMsg) tea.Cmd {
	if m.err != nil {
		if m.duplicate != "" {
			return errToast("refund of the duplicate payment "+m.duplicate+" of "+m.order, m.err)
		}
		return errToast("refund "+m.order, m.err)
	}
	f := m.outcome.Refund
	what := m.order
	if m.duplicate != "" {
		what = fmt.Sprintf("the duplicate payment %s of %s", m.duplicate, m.order)
	}
	text := fmt.Sprintf("refund %s of %s for %s: %s — %s", f.OutRequestNo, f.Amount.Yuan(), what, f.Status, m.outcome.Note)
	switch {
	case f.Status == gateway.RefundSuccess:
		return toastCmd(toastOK, text)
	case f.Status == gateway.RefundFailed:
		return toastCmd(toastErr, text)
	}
	return toastCmd(toastInfo, text)
}

func newRefundForm(c *programContext, owner viewID, o store.Order, refundable gateway.Money) *refundForm {
	f := &refundForm{c: c, owner: owner, order: o, refundable: refundable}
	f.amount = newInput(c.theme, "12.30", 14)
	f.amount.SetValue(refundable.String())
	f.amount.CursorEnd()
	f.reason = newInput(c.theme, "why (sent to the platform and the audit log)", 50)
	f.reason.CharLimit = 256
	f.amount.Focus()
	return f
}

// newDuplicateRefundForm refunds the duplicate payment of a plan read with
// ops.PlanDuplicateRefund; its default amount is what that payment can
// still refund.
func newDuplicateRefundForm(c *programContext, owner viewID, p ops.RefundPlan) *refundForm {
	f := newRefundForm(c, owner, p.Order, p.Refundable)
	d := *p.Duplicate
	f.dup = &d
	return f
}

// validate checks what can be checked without the store; PlanRefund
// checks the rest (and the ceiling again, against pending refunds).
func (f *refundForm) validate() (gateway.Money, string, error) {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(f.amount.Value()), "¥"))
	s = strings.ReplaceAll(s, ",", "")
	amount, err := gateway.ParseMoney(s)
	if err != nil {
		return 0, "", fmt.Errorf("amount %q: want yuan like 12.30 (at most 2 decimals)", f.amount.Value())
	}
	reason := strings.TrimSpace(f.reason.Value())
	switch {
	case amount <= 0:
		return 0, "", fmt.Errorf("the amount must be more than ¥0.00")
	case amount > f.refundable:
		return 0, "", fmt.Errorf("%s is more than the refundable %s", amount.Yuan(), f.refundable.Yuan())
	case reason == "":
		return 0, "", fmt.Errorf("a reason is required (it goes to the platform and the audit log)")
	}
	return amount, reason, nil
}

func (f *refundForm) Update(msg tea.Msg) (dialog, tea.Cmd) {
	switch msg := msg.(type) {
	case refundPlanMsg:
		f.busy = false
		if msg.err != nil {
			f.err = msg.err.Error()
			return f, nil
		}
		return f.confirmation(msg.plan), nil
	case tea.KeyMsg:
		if f.busy {
			if msg.Type == tea.KeyEsc {
				return nil, toastCmd(toastInfo, "refund cancelled; nothing was sent")
			}
			return f, nil
		}
		switch msg.Type {
		case tea.KeyEsc, tea.KeyCtrlC:
			return nil, toastCmd(toastInfo, "refund cancelled; nothing was sent")
		case tea.KeyTab, tea.KeyShiftTab, tea.KeyUp, tea.KeyDown:
			f.setFocus(1 - f.focus)
			return f, nil
		case tea.KeyEnter:
			amount, reason, err := f.validate()
			if err != nil {
				f.err = err.Error()
				if strings.Contains(f.err, "reason") {
					f.setFocus(1)
				}
				return f, nil
			}
			f.err, f.busy = "", true
			return f, f.plan(amount, reason)
		}
		var cmd tea.Cmd
		if f.focus == 0 {
			f.amount, cmd = f.amount.Update(msg)
		} else {
			f.reason, cmd = f.reason.Update(msg)
		}
		return f, cmd
	}
	return f, nil
}

func (f *refundForm) setFocus(i int) {
	f.focus = i
	if i == 0 {
		f.reason.Blur()
		f.amount.Focus()
	} else {
		f.amount.Blur()
		f.reason.Focus()
	}
}

// plan runs ops.PlanRefund (or PlanDuplicateRefund) in a command: it
// checks the role, the order's state and the ceiling including pending
// refunds.
func (f *refundForm) plan(amount gateway.Money, reason string) tea.Cmd {
	c, no, dup := f.c, f.order.OutTradeNo, f.dup
	return func() tea.Msg {
		if dup != nil {
			p, err := c.svc.PlanDuplicateRefund(c.ctx, dup.Channel, dup.TradeNo, amount, reason)
			return refundPlanMsg{plan: p, err: err}
		}
		p, err := c.svc.PlanRefund(c.ctx, no, amount, reason)
		return refundPlanMsg{plan: p, err: err}
	}
}

func (f *refundForm) View(c *programContext) string {
	var b strings.Builder
	o := f.order
	if d := f.dup; d != nil {
		b.WriteString(c.theme.Title.Render("Refund the duplicate payment of " + o.OutTradeNo))
		b.WriteString("\n\n")
		fmt.Fprintf(&b, "Order       %s %s  (%s, trade %s; stays paid)\n", o.Channel, o.Amount.Yuan(), o.Status, dash(o.TradeNo))
		fmt.Fprintf(&b, "Duplicate   %s %s  trade %s\n", d.Channel, d.Amount.Yuan(), d.TradeNo)
	} else {
		b.WriteString(c.theme.Title.Render("Refund " + o.OutTradeNo))
		b.WriteString("\n\n")
		fmt.Fprintf(&b, "Channel     %s\n", o.Channel)
		fmt.Fprintf(&b, "Paid        %s  (%s)\n", o.Amount.Yuan(), o.Status)
	}
	fmt.Fprintf(&b, "Refundable  %s\n\n", f.refundable.Yuan())
	marker := func(i int) string {
		if f.focus == i {
			return "> "
		}
		return "  "
	}
	fmt.Fprintf(&b, "%sAmount  ¥ %s\n", marker(0), f.amount.View())
	fmt.Fprintf(&b, "%sReason    %s\n", marker(1), f.reason.View())
	if f.err != "" {
		b.WriteString("\n" + c.theme.Bad.Render("error: "+f.err) + "\n")
	}
	b.WriteString("\n")
	if f.busy {
		b.WriteString(c.theme.Dim.Render("checking… (esc cancels)"))
	} else {
		b.WriteString(c.theme.Dim.Render("tab switches field · enter continues to confirmation · esc cancels"))
	}
	return dialogBox(c, b.String())
}

// confirmation is the dialog that follows a good plan.
func (f *refundForm) confirmation(p ops.RefundPlan) dialog {
	lines := []string{
		fmt.Sprintf("Order       %s", p.Order.OutTradeNo),
		fmt.Sprintf("Channel     %s", p.Order.Channel),
		fmt.Sprintf("Amount      %s of %s paid", p.Amount.Yuan(), p.Order.Amount.Yuan()),
		fmt.Sprintf("Reason      %s", p.Reason),
		"",
	}
	if d := p.Duplicate; d != nil {
		lines = []string{
			fmt.Sprintf("Order       %s", p.Order.OutTradeNo),
			fmt.Sprintf("Refunds     %s trade %s (the duplicate)", d.Channel, d.TradeNo),
			fmt.Sprintf("Amount      %s of the duplicate's %s", p.Amount.Yuan(), d.Amount.Yuan()),
			fmt.Sprintf("Reason      %s", p.Reason),
			"",
		}
	}
	lines = append(lines, wrap("This will "+p.Describe()+".", 70)...)
	lines = append(lines, wrap("A new refund request is recorded as PENDING before the platform is asked; if no answer comes it stays PENDING and is settled from Refunds (r), never sent twice.", 70)...)
	typed := ""
	if limit := *f.c.opts.RefundConfirmAbove; p.Amount > limit {
		typed = p.Order.OutTradeNo
		lines = append(lines, "", fmt.Sprintf("The amount is above %s.", limit.Yuan()))
	}
	c, owner, no, amount, reason := f.c, f.owner, p.Order.OutTradeNo, p.Amount, p.Reason
	if d := p.Duplicate; d != nil {
		ch, tradeNo := d.Channel, d.TradeNo
		return newConfirm(c.theme, "Confirm refund of a duplicate payment", lines, typed, c.startTask("refunding the duplicate payment of "+no, func(int, func(tea.Msg)) tea.Msg {
			out, err := c.svc.RefundDuplicate(c.ctx, ch, tradeNo, amount, reason)
			return refundDoneMsg{owner: owner, order: no, duplicate: tradeNo, outcome: out, err: err}
		}), "refund cancelled; nothing was sent")
	}
	return newConfirm(c.theme, "Confirm refund", lines, typed, c.startTask("refunding "+no, func(int, func(tea.Msg)) tea.Msg {
		out, err := c.svc.Refund(c.ctx, no, amount, reason)
		return refundDoneMsg{owner: owner, order: no, outcome: out, err: err}
	}), "refund cancelled; nothing was sent")
}
