package sshconsole

import (
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/ops"
)

// TestRefundInOneSessionShowsInAnother: li.na refunds an order in her
// session; wang.wei, looking at the Orders view in his, sees it become
// REFUNDED within a few seconds without pressing a key (the console's live
// refresh on the store's change counters).
func TestRefundInOneSessionShowsInAnother(t *testing.T) {
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}, {name: "wang.wei", role: ops.Viewer}}, harnessOptions{})
	const no = "PDSSHLIVE00001"
	h.paidOrder(t, no, 3300)
	watcher := h.open(t, "wang.wei", termOptions{})
	rowOf := func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, no) {
				return l
			}
		}
		return ""
	}
	watcher.waitFor(no+" listed as PAID", screenTimeout, func(s string) bool { return strings.Contains(rowOf(s), " PAID") })

	a := h.open(t, "li.na", termOptions{})
	a.refundToConfirm(no, "live refresh")
	a.key("y")
	a.waitMatchToast()

	// No key pressed in the watcher's session from here on.
	watcher.waitFor(no+" listed as REFUNDED", 5*time.Second, func(s string) bool { return strings.Contains(rowOf(s), "REFUNDED") })
}

// waitMatchToast waits for a refund's outcome toast and fails on an error.
func (tm *term) waitMatchToast() {
	tm.t.Helper()
	s := tm.waitFor("the refund's outcome", screenTimeout, refundToast.MatchString)
	if m := refundToast.FindString(s); !strings.HasPrefix(m, "ok:") {
		tm.t.Fatalf("the refund failed: %s", m)
	}
}
