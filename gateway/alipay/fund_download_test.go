package alipay_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// TestDownloadFundBill asks for bill_type signcustomer through the SDK,
// streams the zip as served, and reads its 账务明细 held to the merchant and
// the day: payments and their 收费, a refund and the fee it gives back, the
// fund faults, movements of no trade.
func TestDownloadFundBill(t *testing.T) {
	ctx := context.Background()
	clk := newClock(testkit.Time(t, "2026-11-22T15:00:00+08:00"))
	s, c := start(t, false, clk, nil)
	paid(t, s, "PDF1", 10000, testkit.Time(t, "2026-11-22T09:00:00+08:00"))
	paid(t, s, "PDF2", 5000, testkit.Time(t, "2026-11-22T10:00:00+08:00"))
	paid(t, s, "PDF3", 2000, testkit.Time(t, "2026-11-22T11:00:00+08:00"))
	wrong := gateway.Money(77)
	s.SetFault(gateway.Alipay, "PDF2", sandbox.Fault{Fee: &wrong})
	s.SetFault(gateway.Alipay, "PDF3", sandbox.Fault{NoFundMovement: true})
	if _, err := s.ConsoleRefund(sandbox.RefundSpec{Channel: gateway.Alipay, OutTradeNo: "PDF1", OutRequestNo: "RQF1", Amount: 2500,
		At: testkit.Time(t, "2026-11-22T12:00:00+08:00")}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFundMovement(gateway.Alipay, sandbox.FundMovement{Time: testkit.Time(t, "2026-11-22T13:00:00+08:00"), Amount: -800, Remark: "保证金扣款"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFundMovement(gateway.Alipay, sandbox.FundMovement{Time: testkit.Time(t, "2026-11-22T14:00:00+08:00"), Amount: -30000, Kind: gateway.FundWithdrawal}); err != nil {
		t.Fatal(err)
	}
	clk.Set(testkit.Time(t, "2026-11-23T09:00:00+08:00"))
	var buf bytes.Buffer
	bf, err := c.DownloadFundBill(ctx, testkit.Time(t, "2026-11-22T12:00:00+08:00"), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(bf.Name, "_20261122.csv.zip") || bf.Size != int64(buf.Len()) || !bytes.HasPrefix(buf.Bytes(), []byte("PK\x03\x04")) {
		t.Fatalf("bill file %+v (%d bytes)", bf, buf.Len())
	}
	// Alipay makes a day's file once: a later download is the same bytes
	// (its #导出时间 included), so it is kept as the same bill.
	clk.Set(testkit.Time(t, "2026-11-23T09:00:07+08:00"))
	var again bytes.Buffer
	if _, err := c.DownloadFundBill(ctx, testkit.Time(t, "2026-11-22T12:00:00+08:00"), &again); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Fatalf("a second download differs (%d bytes, %v)", again.Len(), err)
	}
	lines, fr, err := readFundsWith(bf.Name, buf.Bytes(), gateway.BillOptions{Merchant: s.AlipayPID(), Day: testkit.Time(t, "2026-11-22T12:00:00+08:00")})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind   gateway.FundKind
		amount gateway.Money
		order  string
	}{
		{gateway.FundPayment, 10000, "PDF1"}, {gateway.FundFee, -60, "PDF1"},
		{gateway.FundPayment, 5000, "PDF2"}, {gateway.FundFee, -77, "PDF2"},
		{gateway.FundRefund, -2500, "PDF1"}, {gateway.FundFee, 15, "PDF1"},
		{gateway.FundOther, -800, ""}, {gateway.FundWithdrawal, -30000, ""},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d movements: %+v", len(lines), lines)
	}
	for i, w := range want {
		if lines[i].Kind != w.kind || lines[i].Amount != w.amount || lines[i].OutTradeNo != w.order {
			t.Errorf("movement %d: %+v, want %+v", i, lines[i], w)
		}
	}
	tr, _ := s.Trade(gateway.Alipay, "PDF1")
	if lines[1].TradeNo != tr.TradeNo || lines[5].TradeNo != tr.TradeNo || lines[0].Balance != sandbox.AlipayFundOpening+10000 {
		t.Errorf("trade numbers and balance: %+v %+v", lines[1], lines[0])
	}
	if st := fr.Stated(); st.Income != 3 || st.Expense != 5 || st.IncomeAmount != 15015 {
		t.Errorf("stated %+v", st)
	}
}
