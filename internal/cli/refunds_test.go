package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// TestRefundsAndNotificationsShowWhatNeedsAction: an ABNORMAL refund and a
// callback verified by a platform certificate, as the store holds them
// after the real path; the listings and --json say what to do and which
// key verified.
func TestRefundsAndNotificationsShowWhatNeedsAction(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	st, err := store.Open(filepath.Join(filepath.Dir(cfg), "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	if _, err := st.ImportOrders(ctx, at, func(im *store.OrderImporter) error {
		return im.Insert(ctx, store.Order{OutTradeNo: "PD20261122ABNORM", Channel: gateway.WeChat, Amount: 5000, Status: store.OrderPending, CreatedAt: at})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkPaid(ctx, store.Payment{OutTradeNo: "PD20261122ABNORM", Channel: gateway.WeChat, TradeNo: "4200001", Amount: 5000, Via: store.ViaNotify}, time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := st.BeginRefund(ctx, "PD20261122ABNORM", 3000, "returned", "carol", at)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinishRefund(ctx, f.OutRequestNo, store.RefundOutcome{Status: gateway.RefundAbnormal, RefundID: "5030001", Error: "platform: ABNORMAL"}, at); err != nil {
		t.Fatal(err)
	}
	id, _ := st.SaveRawNotification(ctx, store.RawNotification{Channel: gateway.WeChat, ReceivedAt: at, Body: []byte("{}"),
		Header: map[string][]string{"Wechatpay-Serial": {"5157F09EFDC096DE15EBE81A47057A7232F1B8E1"}}})
	amount := gateway.Money(3000)
	if err := st.RecordAttempt(ctx, id, store.Attempt{Kind: store.AttemptIntake, At: at, VerifyStatus: store.Verified, ApplyStatus: store.ApplyApplied,
		Event: gateway.EventRefundAbnormal, OutTradeNo: "PD20261122ABNORM", OutRequestNo: f.OutRequestNo, Amount: &amount,
		VerifyKey: "platform certificate 5157F09EFDC096DE15EBE81A47057A7232F1B8E1"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errOut := runCLI(t, "--config", cfg, "refunds", "--needs-action", "--json")
	var rows []struct {
		OutRequestNo string `json:"out_request_no"`
		Status       string
		NeedsAction  bool `json:"needs_action"`
		Action       string
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != 0 || len(rows) != 1 || rows[0].Status != "ABNORMAL" ||
		!rows[0].NeedsAction || !strings.Contains(rows[0].Action, "异常退款") || !strings.Contains(rows[0].Action, "5030001/apply-abnormal-refund") {
		t.Fatalf("refunds --needs-action --json: %d %v %s %s", code, err, out, errOut)
	}
	code, out, _ = runCLI(t, "--config", cfg, "refunds")
	if code != 0 || !strings.Contains(out, "! ") || !strings.Contains(out, "needs action: 退款异常") {
		t.Fatalf("refunds: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "orders", "show", "PD20261122ABNORM")
	if code != 0 || !strings.Contains(out, "held by an ABNORMAL refund") || !strings.Contains(out, "needs action\n! refund "+f.OutRequestNo) {
		t.Fatalf("orders show: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "orders", "show", "--json", "PD20261122ABNORM")
	if code != 0 || !strings.Contains(out, `"actions": [`) || !strings.Contains(out, `"refundable": "20.00"`) {
		t.Fatalf("orders show --json: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "notify", "list")
	if code != 0 || !strings.Contains(out, "KEY") || !strings.Contains(out, "platform certificate 5157F09EFDC096DE15EBE81A47057A7232F1B8E1") {
		t.Fatalf("notify list: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "notify", "show", "--json", "1")
	var shown struct {
		VerifyKey  string `json:"verify_key"`
		Event      string
		Headers    map[string][]string
		AttemptLog []struct {
			VerifyKey string `json:"verify_key"`
		} `json:"attempt_log"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || code != 0 || shown.Event != "REFUND_ABNORMAL" ||
		!strings.HasPrefix(shown.VerifyKey, "platform certificate ") || len(shown.AttemptLog) != 1 || shown.AttemptLog[0].VerifyKey != shown.VerifyKey ||
		shown.Headers["Wechatpay-Serial"] == nil {
		t.Fatalf("notify show --json: %d %v %s", code, err, out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "notify", "show", "1")
	if code != 0 || !strings.Contains(out, "verified by   platform certificate") {
		t.Fatalf("notify show: %d %s", code, out)
	}
	if code, _, errOut := runCLI(t, "--config", cfg, "refunds", "--status", "weird"); code != 2 || !strings.Contains(errOut, "--status") {
		t.Fatalf("bad --status: %d %s", code, errOut)
	}
}
