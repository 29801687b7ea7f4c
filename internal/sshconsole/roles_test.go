package sshconsole

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// TestViewerSessionHasNoMutatingKeys: a viewer's session offers no
// refund, replay, query or resolve keys (help lists none, pressing them
// does nothing), and the session's own service refuses each of them if
// called anyway, auditing the refusal under the viewer's name, via ssh.
func TestViewerSessionHasNoMutatingKeys(t *testing.T) {
	h := startConsole(t, []*person{{name: "victor", role: ops.Viewer}}, harnessOptions{})
	const no = "PDSSHVIEWER001"
	h.paidOrder(t, no, 8800)
	tm := h.open(t, "victor", termOptions{})
	tm.waitText(screenTimeout, "victor (viewer, read-only)")

	// The order: no query or refund key in help, and R opens nothing.
	tm.openOrder(no)
	tm.key("R")
	tm.key("r")
	// Keys are handled in order: once help shows, R and r have been.
	tm.key("?")
	screen := tm.waitText(screenTimeout, "page down", "quit")
	for _, forbidden := range []string{"refund", "query platform", "Refundable  ¥", "Confirm refund", "queried by"} {
		if strings.Contains(screen, forbidden) {
			t.Errorf("the viewer's order screen shows %q:\n%s", forbidden, screen)
		}
	}
	tm.key("?")
	tm.key("esc")
	tm.waitText(screenTimeout, "all orders")

	// The callbacks: no replay keys.
	tm.key("3")
	tm.waitText(screenTimeout, "[3 Notifications]", "APPLIED")
	tm.key("P")
	tm.key("A")
	tm.key("?")
	screen = tm.waitText(screenTimeout, "page down", "quit")
	for _, forbidden := range []string{"replay", "Replay"} {
		if strings.Contains(screen, forbidden) {
			t.Errorf("the viewer's notifications screen shows %q:\n%s", forbidden, screen)
		}
	}
	tm.key("?")

	// The reconciliation: no resolve or ignore keys.
	tm.key("2")
	tm.waitText(screenTimeout, "[2 Reconcile]")
	tm.key("D")
	tm.key("I")
	tm.key("?")
	screen = tm.waitText(screenTimeout, "day before", "quit")
	for _, forbidden := range []string{"resolve", "ignore", "replay", "refund"} {
		if strings.Contains(screen, forbidden) {
			t.Errorf("the viewer's reconcile screen shows %q:\n%s", forbidden, screen)
		}
	}

	// Sent anyway, by the session's own service: refused and audited.
	sessions := h.srv.active()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions", len(sessions))
	}
	svc := sessions[0].svc
	ctx := context.Background()
	ns, err := h.env.Store.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: no}, 0, 10)
	if err != nil || len(ns) == 0 {
		t.Fatalf("no notification of %s: %v", no, err)
	}
	calls := map[ops.Action]error{}
	_, calls[ops.ActRefund] = svc.Refund(ctx, no, 100, "sent anyway")
	_, calls[ops.ActReplay] = svc.ReplayNotification(ctx, ns[0].ID)
	_, calls[ops.ActResolve] = svc.ResolveFinding(ctx, 1, "resolved", "sent anyway")
	_, calls[ops.ActQuery] = svc.QueryTrade(ctx, no)
	for a, err := range calls {
		if !errors.Is(err, ops.ErrForbidden) {
			t.Errorf("%s by the viewer's session: %v; want forbidden", a, err)
		} else if !strings.Contains(err.Error(), "[[ssh.users]] role") {
			t.Errorf("%s refused without saying where the role is set: %v", a, err)
		}
		es, _ := h.env.Store.ListAudit(ctx, store.AuditFilter{Operator: "victor", Action: string(a)}, 0, 10)
		if len(es) != 1 || es[0].Outcome != store.AuditDenied || !strings.HasPrefix(es[0].Via, "ssh 127.0.0.1:") {
			t.Errorf("audit of the refused %s: %+v", a, es)
		}
	}
	if o, _ := h.env.Store.GetOrder(ctx, no); o.Refunded != 0 || o.Status != store.OrderPaid {
		t.Errorf("after the refused refund: %s refunded %s", o.Status, o.Refunded)
	}
}
