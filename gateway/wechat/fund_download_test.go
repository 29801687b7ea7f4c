package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// TestDownloadFundBill fetches the BASIC account's 资金账单 from the sandbox
// through the official SDK, and checks it against the same day's trade
// bill: a payment and its fee, a refund netted of the fee it gives back,
// the fund faults (a wrong fee in both bills, a trade whose money never
// moved), and movements of no trade.
func TestDownloadFundBill(t *testing.T) {
	s := testkit.StartSandbox(t)
	c := newClient(t, s)
	ctx := context.Background()
	day := yesterday()
	paidTrade(t, s, "F-1", 10000, day.Add(-2*time.Hour))
	paidTrade(t, s, "F-2", 5000, day.Add(-time.Hour))
	paidTrade(t, s, "F-3", 2000, day)
	wrong := gateway.Money(99)
	s.SetFault(gateway.WeChat, "F-2", sandbox.Fault{Fee: &wrong})
	s.SetFault(gateway.WeChat, "F-3", sandbox.Fault{NoFundMovement: true})
	if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.WeChat, OutTradeNo: "F-1", OutRequestNo: "F-1-R", Amount: 3000, At: day.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []sandbox.FundMovement{
		{Time: day.Add(2 * time.Hour), Amount: -1200, Remark: "交易赔付扣款"},
		{Time: day.Add(3 * time.Hour), Amount: -50000, Kind: gateway.FundWithdrawal, Remark: "自动提现"},
	} {
		if err := s.AddFundMovement(gateway.WeChat, m); err != nil {
			t.Fatal(err)
		}
	}

	var buf bytes.Buffer
	f, err := c.DownloadFundBill(ctx, day, &buf)
	if err != nil {
		t.Fatal(err)
	}
	// The text as the platform made it: its BOM first (the SHA1 the
	// answer states covers it).
	if f.Size != int64(buf.Len()) || !strings.Contains(f.Name, "fundflowbill") || !bytes.HasPrefix(buf.Bytes(), []byte(sandbox.WeChatBillBOM+"记账时间,")) {
		t.Fatalf("bill file %+v: %q", f, buf.Bytes()[:min(buf.Len(), 20)])
	}
	_, got, err := readFundsWith(t, f.Name, buf.Bytes(), gateway.BillOptions{Merchant: s.Keys().WeChatMchID, Day: day})
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := s.Trade(gateway.WeChat, "F-1")
	want := []struct {
		kind   gateway.FundKind
		amount gateway.Money
		order  string
	}{
		{gateway.FundPayment, 10000, "F-1"}, {gateway.FundFee, -60, "F-1"},
		{gateway.FundPayment, 5000, "F-2"}, {gateway.FundFee, -99, "F-2"}, // the wrong fee, as the trade bill books it
		{gateway.FundRefund, -3000 + 18, ""}, // the refund less the fee it gives back
		{gateway.FundOther, -1200, ""},
		{gateway.FundWithdrawal, -50000, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d movements, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].Amount != w.amount || got[i].OutTradeNo != w.order {
			t.Errorf("movement %d: %+v, want %+v", i, got[i], w)
		}
	}
	if r := got[4]; r.RefundID != f1.Refund("F-1-R").RefundID || r.OutRequestNo != "F-1-R" || r.Remark != "退款总金额30.00元;含手续费0.18元" {
		t.Errorf("refund movement %+v", r)
	}

	// The trade bill books F-2's fee as the fund bill takes it, and F-3,
	// whose money never moved.
	buf.Reset()
	tf, err := c.DownloadBill(ctx, day, &buf)
	if err != nil {
		t.Fatal(err)
	}
	lines := readBill(t, tf.Name, &buf)
	fees := map[string]gateway.Money{}
	for _, l := range lines {
		if l.Kind == gateway.LinePayment {
			fees[l.OutTradeNo] = l.Fee
		}
	}
	if fees["F-1"] != 60 || fees["F-2"] != 99 || fees["F-3"] != 12 {
		t.Errorf("trade bill fees %v", fees)
	}

	if _, err := c.DownloadFundBill(ctx, time.Now(), io.Discard); !errors.Is(err, gateway.ErrBillNotReady) {
		t.Fatalf("today's fund bill: %v", err)
	}
	if _, err := c.DownloadFundBill(ctx, day.AddDate(0, 0, -5), io.Discard); !errors.Is(err, gateway.ErrBillNotReady) {
		t.Fatalf("a day without movements: %v", err)
	}
}
