package recon_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

// wechatRefund is a refund row of a WeChat Pay bill: dated when the refund
// was asked for, with 退款状态 as the bill was cut.
func wechatRefund(n int, no, req string, amount gateway.Money, asked string, printed gateway.RefundStatus, t *testing.T) gateway.BillLine {
	l := refundLine(n, no, "4200000101"+no, req, amount, at(t, asked))
	l.State = map[gateway.RefundStatus]string{gateway.RefundSuccess: "SUCCESS", gateway.RefundPending: "PROCESSING",
		gateway.RefundFailed: "CLOSED", "ABNORMAL": "ABNORMAL"}[printed]
	l.RefundStatus = printed
	return l
}

// TestWeChatRefundRowsJudgedByTheirStatus: a WeChat Pay refund row is
// judged by the status the bill printed when it was cut (never updated
// afterwards), not taken for a refund that succeeded; and it pairs with the
// local refund of its request number whatever day that one succeeded on.
func TestWeChatRefundRowsJudgedByTheirStatus(t *testing.T) {
	d := day(t, "2024-05-01")
	asked := "2024-05-01 23:40:00"
	local := func(req string, st gateway.RefundStatus, succeeded string) recon.Refund {
		r := success(req, "M-"+req, 500, time.Time{})
		r.Channel, r.Status, r.RequestedAt = gateway.WeChat, st, at(t, asked)
		if succeeded != "" {
			r.RefundedAt = at(t, succeeded)
		}
		return r
	}
	refunds := []recon.Refund{
		// asked for today, succeeded tomorrow: the bill of today lists it
		local("R-NEXTDAY", gateway.RefundSuccess, "2024-05-02 10:00:00"),
		// PROCESSING on the bill, paydesk learned of its success later
		local("R-PROC-OK", gateway.RefundSuccess, "2024-05-03 09:00:00"),
		// PROCESSING on the bill, and still PENDING here
		local("R-PROC-PENDING", gateway.RefundPending, ""),
		// ABNORMAL on the bill: money left, never reached the buyer
		local("R-ABNORMAL", gateway.RefundPending, ""),
		// CLOSED on the bill and FAILED here: nothing moved, nothing to do
		local("R-CLOSED", gateway.RefundFailed, ""),
		// CLOSED on the bill but paydesk has it succeeded
		local("R-CLOSED-OK", gateway.RefundSuccess, "2024-05-01 23:50:00"),
	}
	lines := []gateway.BillLine{
		wechatRefund(2, "M-R-NEXTDAY", "R-NEXTDAY", 500, asked, gateway.RefundSuccess, t),
		wechatRefund(3, "M-R-PROC-OK", "R-PROC-OK", 500, asked, gateway.RefundPending, t),
		wechatRefund(4, "M-R-PROC-PENDING", "R-PROC-PENDING", 500, asked, gateway.RefundPending, t),
		wechatRefund(5, "M-R-ABNORMAL", "R-ABNORMAL", 500, asked, "ABNORMAL", t),
		wechatRefund(6, "M-R-CLOSED", "R-CLOSED", 500, asked, gateway.RefundFailed, t),
		wechatRefund(7, "M-R-CLOSED-OK", "R-CLOSED-OK", 500, asked, gateway.RefundFailed, t),
	}
	in := newStore(nil, refunds).input(gateway.WeChat, d, nil, refunds)
	in.RefundDating = gateway.RefundsDatedAtRequest
	cats, res := run(t, in, lines)
	want := []recon.Category{recon.Matched, recon.Matched, recon.RefundMismatch, recon.RefundMismatch, recon.Matched, recon.RefundMismatch}
	if !slices.Equal(cats, want) {
		t.Fatalf("got %v, want %v", cats, want)
	}
	byLine := map[int]recon.Finding{}
	for _, f := range res.Findings {
		byLine[f.BillLine] = f
	}
	if f := byLine[4]; f.Severity != recon.Warning || f.PlatformStatus != "PROCESSING" || !strings.Contains(f.Detail, "query it for its outcome") {
		t.Errorf("PROCESSING on both sides: %+v", f)
	}
	if f := byLine[5]; f.Severity != recon.Critical || !strings.Contains(f.Detail, "ABNORMAL") || !strings.Contains(f.Detail, "did not reach the buyer") ||
		!strings.Contains(f.Detail, "abnormal-refund") {
		t.Errorf("ABNORMAL: %+v", f)
	}
	if f := byLine[7]; f.Severity != recon.Critical || !strings.Contains(f.Detail, "CLOSED (not refunded)") {
		t.Errorf("CLOSED but succeeded here: %+v", f)
	}
	if len(res.Findings) != 3 || len(res.Carry) != 0 {
		t.Errorf("findings %+v carry %+v", res.Findings, res.Carry)
	}

	// The next day's run: the refund asked for today and succeeded then is
	// not expected on its bill (it was on today's), so nothing is missing.
	in2 := newStore(nil, refunds).input(gateway.WeChat, day(t, "2024-05-02"), nil, refunds)
	in2.RefundDating = gateway.RefundsDatedAtRequest
	if _, res2 := run(t, in2, nil); len(res2.Findings) != 0 {
		t.Errorf("next day: %+v", res2.Findings)
	}

	// Dated by success (Alipay's rule), the same refund is expected on the
	// day it succeeded: a line the day before is held as cross-day.
	alipay := local("R-NEXTDAY", gateway.RefundSuccess, "2024-05-02 10:00:00")
	alipay.Channel = gateway.Alipay
	line := refundLine(2, "M-R-NEXTDAY", "T", "R-NEXTDAY", 500, at(t, asked))
	line.RefundStatus = gateway.RefundSuccess
	if cats, _ := run(t, newStore(nil, nil).input(gateway.Alipay, d, nil, []recon.Refund{alipay}), []gateway.BillLine{line}); cats[0] != recon.CrossDay {
		t.Errorf("dated by success: %v", cats)
	}
}

// TestWeChatRefundAskedButMissingFromItsBill: a refund paydesk asked for on
// the day and that succeeded (or went ABNORMAL: the money left) must be on
// that day's bill; a pending one need not (the platform may never have had
// it).
func TestWeChatRefundAskedButMissingFromItsBill(t *testing.T) {
	d := day(t, "2024-05-01")
	mk := func(req string, st gateway.RefundStatus) recon.Refund {
		r := success(req, "M-"+req, 300, at(t, "2024-05-03 10:00:00"))
		r.Channel, r.Status, r.RequestedAt = gateway.WeChat, st, at(t, "2024-05-01 12:00:00")
		return r
	}
	refunds := []recon.Refund{mk("R-OK", gateway.RefundSuccess), mk("R-AB", "ABNORMAL"), mk("R-PEND", gateway.RefundPending)}
	in := newStore(nil, refunds).input(gateway.WeChat, d, nil, refunds)
	in.RefundDating = gateway.RefundsDatedAtRequest
	_, res := run(t, in, nil)
	var got []string
	for _, f := range res.Findings {
		if f.Category != recon.RefundMismatch || f.Side != recon.SideLocal {
			t.Errorf("%+v", f)
		}
		got = append(got, f.OutRequestNo)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"R-AB", "R-OK"}) {
		t.Errorf("missing from the bill: %v, want R-AB and R-OK", got)
	}
}
