package sshconsole

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// refundToConfirm opens an order's refund form in a session, keeps the
// amount it offers (all that is refundable), gives a reason, and stops at
// the confirmation.
func (tm *term) refundToConfirm(no, reason string) {
	tm.t.Helper()
	tm.openOrder(no)
	tm.key("R")
	tm.waitText(screenTimeout, "Refund "+no, "Refundable")
	tm.key("tab")
	tm.key(reason)
	tm.waitText(screenTimeout, "Reason    "+reason)
	tm.key("enter")
	tm.waitText(screenTimeout, "Confirm refund", "y to confirm")
}

var refundToast = regexp.MustCompile(`(ok: refund RF\w+ of ¥[\d.,]+ for \w+: SUCCESS|error: [^\n]*)`)

// TestTwoSessionsRefundingOneOrderNeverExceedThePaidAmount: two support
// people open the same order at once, each asks to refund all of it and
// confirms at the same moment. One refund goes through; the other is
// refused by the ceiling; the platform refunds the amount once.
func TestTwoSessionsRefundingOneOrderNeverExceedThePaidAmount(t *testing.T) {
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}, {name: "wang.wei", role: ops.Support}}, harnessOptions{})
	const no = "PDSSHTWICE0001"
	const paid gateway.Money = 8800
	h.paidOrder(t, no, paid)
	// The platform answers late, so the first refund is still in flight
	// when the second is asked for.
	h.env.Sandbox.SetFault(gateway.Alipay, no, sandbox.Fault{Delay: 500 * time.Millisecond})
	a := h.open(t, "li.na", termOptions{})
	b := h.open(t, "wang.wei", termOptions{})
	a.refundToConfirm(no, "customer asked (li.na)")
	b.refundToConfirm(no, "customer asked (wang.wei)")
	// Both confirm together.
	if _, err := io.WriteString(a.in, "y"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(b.in, "y"); err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, tm := range []*term{a, b} {
		s := tm.waitFor("the refund's outcome", screenTimeout, refundToast.MatchString)
		outcomes = append(outcomes, refundToast.FindString(s))
	}
	ok := 0
	for _, o := range outcomes {
		if strings.HasPrefix(o, "ok:") {
			ok++
		} else if !strings.Contains(o, "refundable") {
			t.Errorf("the refused refund says %q; want it to name the refundable amount", o)
		}
	}
	if ok != 1 {
		t.Fatalf("outcomes %q; want exactly one refund", outcomes)
	}

	ctx := context.Background()
	rs, err := h.env.Store.ListRefunds(ctx, store.RefundFilter{OutTradeNo: no}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var booked gateway.Money
	for _, r := range rs {
		if r.Status != gateway.RefundFailed {
			booked += r.Amount
		}
	}
	if len(rs) != 1 || booked != paid {
		t.Errorf("refunds of %s: %+v; want one of %s", no, rs, paid)
	}
	if o, _ := h.env.Store.GetOrder(ctx, no); o.Refunded != paid || o.Status != store.OrderRefunded {
		t.Errorf("order after both: %s refunded %s", o.Status, o.Refunded)
	}
	tr, _ := h.env.Sandbox.Trade(gateway.Alipay, no)
	var atPlatform gateway.Money
	for _, r := range tr.Refunds {
		atPlatform += r.Amount
	}
	if atPlatform != paid {
		t.Errorf("the platform refunded %s of %s", atPlatform, paid)
	}
}
