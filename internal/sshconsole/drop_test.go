package sshconsole

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// TestSessionDroppedMidActionLeavesNothingHalfDone: a connection that
// drops while its refund is at the platform leaves that refund to finish
// (it was committed: the platform's answer is recorded and audited under
// the person, via ssh); a connection that drops at the confirmation
// leaves no refund at all; neither disturbs the other session.
func TestSessionDroppedMidActionLeavesNothingHalfDone(t *testing.T) {
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}, {name: "wang.wei", role: ops.Support}, {name: "zhao.min", role: ops.Viewer}}, harnessOptions{})
	const inFlight, unconfirmed = "PDSSHDROP00001", "PDSSHDROP00002"
	h.paidOrder(t, inFlight, 4500)
	h.paidOrder(t, unconfirmed, 6600)
	h.env.Sandbox.SetFault(gateway.Alipay, inFlight, sandbox.Fault{Delay: 2 * time.Second})
	ctx := context.Background()
	bystander := h.open(t, "zhao.min", termOptions{})

	// li.na confirms; her connection drops while the platform works.
	a := h.open(t, "li.na", termOptions{})
	a.refundToConfirm(inFlight, "drop while in flight")
	a.key("y")
	waitUntil(t, "the refund recorded PENDING before the platform call", func() bool {
		rs, _ := h.env.Store.ListRefunds(ctx, store.RefundFilter{OutTradeNo: inFlight}, 0, 10)
		return len(rs) == 1 && rs[0].Status == gateway.RefundPending
	})
	_ = a.client.Close()

	// wang.wei reaches the confirmation of another order; his drops there.
	b := h.open(t, "wang.wei", termOptions{})
	b.refundToConfirm(unconfirmed, "drop before confirming")
	_ = b.client.Close()

	waitUntil(t, "the dropped sessions to end", func() bool { return h.srv.Sessions() == 1 })
	waitUntil(t, "the in-flight refund to finish", func() bool {
		o, _ := h.env.Store.GetOrder(ctx, inFlight)
		return o.Status == store.OrderRefunded
	})
	rs, _ := h.env.Store.ListRefunds(ctx, store.RefundFilter{OutTradeNo: inFlight}, 0, 10)
	if len(rs) != 1 || rs[0].Status != gateway.RefundSuccess || rs[0].Amount != 4500 || rs[0].Operator != "li.na" {
		t.Errorf("the in-flight refund: %+v", rs)
	}
	// The audit record follows the refund's own transaction.
	var es []store.AuditEntry
	waitUntil(t, "the in-flight refund's audit record", func() bool {
		es, _ = h.env.Store.ListAudit(ctx, store.AuditFilter{Operator: "li.na", Action: string(ops.ActRefund), Target: inFlight}, 0, 10)
		return len(es) > 0
	})
	if len(es) != 1 || es[0].Outcome != store.AuditOK || !strings.Contains(es[0].Detail, "SUCCESS") || !strings.HasPrefix(es[0].Via, "ssh ") {
		t.Errorf("audit of the in-flight refund: %+v", es)
	}

	if rs, _ := h.env.Store.ListRefunds(ctx, store.RefundFilter{OutTradeNo: unconfirmed}, 0, 10); len(rs) != 0 {
		t.Errorf("a refund nobody confirmed was made: %+v", rs)
	}
	if o, _ := h.env.Store.GetOrder(ctx, unconfirmed); o.Status != store.OrderPaid || o.Refunded != 0 {
		t.Errorf("the unconfirmed order is %s, refunded %s", o.Status, o.Refunded)
	}
	if tr, _ := h.env.Sandbox.Trade(gateway.Alipay, unconfirmed); len(tr.Refunds) != 0 {
		t.Errorf("the platform refunded the unconfirmed order: %+v", tr.Refunds)
	}

	// The bystander's console went on as if nothing happened.
	bystander.key("j")
	bystander.key("k")
	bystander.key("5")
	bystander.waitText(screenTimeout, "[5 Audit]", "li.na@ssh")
}

// waitUntil polls cond until it holds, failing after screenTimeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(screenTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still waiting for %s", screenTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
