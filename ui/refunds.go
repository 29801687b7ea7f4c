package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// refundsView lists every refund request newest first. A PENDING one can
// be settled (S): ops.RetryRefund asks the platform about its request
// number and re-sends that same number only if the platform never got it.
type refundsView struct {
	pagedList[store.Refund, store.RefundFilter]
}

type retryDoneMsg struct {
	no  string
	out ops.RefundOutcome
	err error
}

func (retryDoneMsg) target() viewID { return refundsTab }

func newRefundsView(c *programContext) *refundsView {
	v := &refundsView{}
	v.init(c, refundsTab, "pending channel:wechat order:PD2026… 2026-11-22",
		func(r store.Refund) int64 { return r.ID }, (*ops.Service).ListRefunds, parseRefundFilter)
	return v
}

func (v *refundsView) settleKey() key.Binding { return only(v.c.keys.Settle, v.c.can(ops.ActRefund)) }

// watches: a refund is a new row; its outcome comes from an operator
// action (audited) or from the platform's callback (an attempt).
func (v *refundsView) watches(old, now ops.Changes) bool {
	return old.Refunds != now.Refunds || old.Audit != now.Audit || old.Attempts != now.Attempts
}

func (v *refundsView) reloadShown() tea.Cmd { return v.refreshPage() }

func (v *refundsView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listPageMsg[store.Refund]:
		return v, v.pageLoaded(msg, "list refunds")
	case retryDoneMsg:
		cmd := v.refreshPage()
		if msg.err != nil {
			return v, tea.Batch(cmd, errToast("refund "+msg.no, msg.err))
		}
		f := msg.out.Refund
		kind := toastOK
		if f.Status != gateway.RefundSuccess {
			kind = toastInfo
		}
		return v, tea.Batch(cmd, toastCmd(kind, fmt.Sprintf("refund %s: %s — %s", msg.no, f.Status, msg.out.Note)))
	case refundDoneMsg:
		return v, v.refreshPage()
	case tea.KeyMsg:
		if v.filter.active {
			return v, v.filterKey(msg)
		}
		return v, v.updateList(msg)
	case tea.MouseMsg:
		return v, v.wheel(msg)
	}
	return v, nil
}

func (v *refundsView) updateList(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := v.navigate(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, v.c.keys.Enter):
		if r, ok := v.list.selected(); ok {
			return func() tea.Msg { return jumpMsg{to: ordersTab, order: r.OutTradeNo} }
		}
	case key.Matches(msg, v.settleKey()):
		r, ok := v.list.selected()
		if !ok {
			return nil
		}
		if !r.Status.Holds() {
			return toastCmd(toastInfo, fmt.Sprintf("refund %s is %s: only PENDING refunds are re-queried or re-sent (ABNORMAL ones re-queried)", r.OutRequestNo, r.Status))
		}
		c, no := v.c, r.OutRequestNo
		return c.startTask("settling refund "+no, func(int, func(tea.Msg)) tea.Msg {
			out, err := c.svc.RetryRefund(c.ctx, no)
			return retryDoneMsg{no: no, out: out, err: err}
		})
	}
	return nil
}

var refundColumns = []column{
	{title: "", width: 2},
	{title: "CREATED", width: 11},
	{title: "REQUEST_NO", width: 16, flex: true, number: true},
	{title: "ORDER", width: 18, prio: 1, number: true},
	{title: "CH", width: 6, prio: 3},
	{title: "AMOUNT", width: 11, right: true},
	{title: "STATUS", width: 8}, // ABNORMAL, the status that needs a person, whole at any width
	{title: "BY", width: 8, prio: 2},
	{title: "NOTE", width: 12, prio: 4, wideFlex: true},
}

func (v *refundsView) View() string {
	empty := "  No refunds yet."
	if v.c.can(ops.ActRefund) {
		empty += " Refund an order from Orders (select it, R)."
	}
	return v.view(listLook[store.Refund]{
		cols: refundColumns, title: "all refunds", noun: "refunds", empty: empty,
		row: func(r store.Refund, cells []string) rowTone {
			note := r.Error
			if r.NeedsReview {
				note = "review: " + note
			}
			if r.Status.NeedsAction() {
				// 异常退款: say what to do where the row is (the order
				// page and `paydesk refunds` carry the whole text).
				note = "needs action: money left, buyer did not get it; handle in WeChat Pay 交易中心 → 退款管理 (异常退款)"
			}
			if r.Source == store.SourcePlatform {
				note = "platform console " + note
			}
			cells[1], cells[2], cells[3], cells[4] = v.c.local(r.CreatedAt, "01-02 15:04"), r.OutRequestNo, r.OutTradeNo, string(r.Channel)
			cells[5], cells[6], cells[7], cells[8] = r.Amount.Yuan(), string(r.Status), r.Operator, dash(gateway.MaskBuyerIDs(strings.TrimSpace(note)))
			switch {
			case r.Status == gateway.RefundFailed || r.Status.NeedsAction() || r.NeedsReview:
				return toneBad
			case r.Status == gateway.RefundPending:
				return toneWarn
			}
			return tonePlain
		},
		numbers: func(r store.Refund, widest map[string]int) {
			widen(widest, "REQUEST_NO", r.OutRequestNo)
			widen(widest, "ORDER", r.OutTradeNo)
		},
	})
}

func (v *refundsView) ShortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Filter, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open order")), v.settleKey(), k.Help}
}

func (v *refundsView) FullHelp() [][]key.Binding {
	k := v.c.keys
	return [][]key.Binding{k.navHelp(), {k.Filter, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open order")), k.Back, v.settleKey()}, k.globalHelp()}
}
