package ui

import (
	"context"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// TestAbnormalRefundShowsWhatToDo: an ABNORMAL refund is marked as needing
// action in the Refunds list, and the order page says what to do.
func TestAbnormalRefundShowsWhatToDo(t *testing.T) {
	f := newFixture(t, ops.Admin, true)
	ctx := context.Background()
	r, err := f.st.BeginRefund(ctx, "PD20261122A1B2C3", 100, "returned", "alice", pinnedClock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.FinishRefund(ctx, r.OutRequestNo, store.RefundOutcome{Status: gateway.RefundAbnormal, Error: "platform: ABNORMAL"}, pinnedClock()); err != nil {
		t.Fatal(err)
	}
	m := newModel(t, f, testOptions(), 160, 40)
	press(t, m, "4")
	// STATUS is 7 wide (goldens kept as they are): ABNORMAL shows cut, its
	// row marked and its note saying it needs action.
	mustContain(t, m.View(), "ABNORM…", ">! ", "needs actio")
	press(t, m, "enter")
	mustContain(t, m.View(), "Needs action (1)", "refund "+r.OutRequestNo, "held by an ABNORMAL refund")
}
