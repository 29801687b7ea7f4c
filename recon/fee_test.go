package recon_test

import (
	"strings"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

func rate(t *testing.T, s string) gateway.FeeRate {
	t.Helper()
	r, err := gateway.ParseFeeRate(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// withFee is a line with its fee set.
func withFee(l gateway.BillLine, fee gateway.Money) gateway.BillLine {
	l.Fee = fee
	return l
}

func TestFeeMismatchOneByOne(t *testing.T) {
	d := day(t, "2026-11-22")
	when := at(t, "2026-11-22 10:00:00")
	orders := []recon.Order{
		paid("EXACT", "T1", 10000, when),    // 0.6% of 100.00 = 0.60
		paid("ONE_FEN", "T2", 10000, when),  // charged 0.61: rounding, not a finding
		paid("TWO_FEN", "T3", 10000, when),  // charged 0.62: FEE_MISMATCH
		paid("AMOUNT", "T4", 10000, when),   // amount off and fee off: AMOUNT_MISMATCH wins
		paid("NOTIFY", "T5", 5000, when),    // fee off and no notification: FEE_MISMATCH wins
		paid("REFUNDED", "T6", 20000, when), // refund gives back a wrong fee
	}
	orders[4].PaidVia, orders[4].NotifyVerified = recon.PaidViaQuery, false
	s := newStore(orders, nil)
	refunds := []recon.Refund{success("RQ1", "REFUNDED", 5000, when)}
	in := s.input(gateway.Alipay, d, orders, refunds)
	in.FeeRate = rate(t, "0.006")
	lines := []gateway.BillLine{
		withFee(payLine(1, "EXACT", "T1", 10000, when), 60),
		withFee(payLine(2, "ONE_FEN", "T2", 10000, when), 61),
		withFee(payLine(3, "TWO_FEN", "T3", 10000, when), 62),
		withFee(payLine(4, "AMOUNT", "T4", 9000, when), 0),
		withFee(payLine(5, "NOTIFY", "T5", 5000, when), 100),
		withFee(payLine(6, "REFUNDED", "T6", 20000, when), 120),
		withFee(refundLine(7, "REFUNDED", "T6", "RQ1", 5000, when), -10), // the rate gives back 0.30
	}
	cats, res := run(t, in, lines)
	want := []recon.Category{recon.Matched, recon.Matched, recon.FeeMismatch, recon.AmountMismatch,
		recon.FeeMismatch, recon.Matched, recon.FeeMismatch}
	for i, c := range cats {
		if c != want[i] {
			t.Errorf("line %d: %s, want %s", i+1, c, want[i])
		}
	}
	wantCount(t, res, recon.FeeMismatch, 3, 10000+5000-5000)
	var fees []recon.Finding
	for _, f := range res.Findings {
		if f.Category == recon.FeeMismatch {
			fees = append(fees, f)
			if f.Severity != recon.Warning {
				t.Errorf("%s: severity %s, want warning", f.OutTradeNo, f.Severity)
			}
		}
	}
	if !strings.Contains(fees[0].Detail, "charged a fee of ¥1.00 on order NOTIFY") || !strings.Contains(fees[0].Detail, "gives ¥0.30 (¥0.70 off)") {
		t.Errorf("detail: %s", fees[0].Detail)
	}
	if !strings.Contains(fees[1].Detail, "gave back a fee of ¥0.10 with refund RQ1") || !strings.Contains(fees[1].Detail, "gives back ¥0.30") {
		t.Errorf("detail: %s", fees[1].Detail)
	}
	// Expected: 0.60 ×4 (T1–T3, and T4's 90.00 → 0.54) + 0.30 + 1.20 − 0.30.
	if !res.FeeChecked || res.ExpectedFees != 60+60+60+54+30+120-30 {
		t.Errorf("expected fees %s (checked %v)", res.ExpectedFees, res.FeeChecked)
	}
	if res.Fees != 60+61+62+0+100+120-10 {
		t.Errorf("charged fees %s", res.Fees)
	}

	// Without a rate nothing is checked and nothing expected.
	in.FeeRate = gateway.FeeRate{}
	_, res = run(t, in, lines)
	if res.Counts[recon.FeeMismatch].Count != 0 || res.FeeChecked || res.ExpectedFees != 0 {
		t.Errorf("no rate: %+v expected %s", res.Counts[recon.FeeMismatch], res.ExpectedFees)
	}
}
