package store

import (
	"context"
	"errors"
	"testing"

	"github.com/paydesk/paydesk/gateway"
)

func saveRun(t *testing.T, s *Store, kind, sha string, fs ...Finding) Run {
	t.Helper()
	bill := Bill{Channel: gateway.Alipay, Day: "2026-11-22", Kind: kind, Source: "file", FileName: sha + ".csv", Path: "/dev/null",
		SHA256: sha, CreatedAt: t0}
	if kind == BillFunds {
		bill.FundStated, bill.FundComputed = &gateway.FundTotals{Income: 1, IncomeAmount: 100}, &gateway.FundTotals{Income: 1, IncomeAmount: 100}
	}
	run, err := s.SaveRun(context.Background(), bill, Run{Channel: gateway.Alipay, Day: "2026-11-22", Kind: kind, Operator: "alice",
		StartedAt: t0, FinishedAt: t0, Counts: map[string]CategoryTotal{}}, fs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRun(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func finding(cat, order string) Finding {
	return Finding{Channel: gateway.Alipay, FirstDay: "2026-11-22", Category: cat, Severity: "critical", Kind: "PAYMENT", OutTradeNo: order}
}

// A re-run replaces the current findings of its kind and keeps the
// replaced run's own (to compare the two); resolutions carry over by
// fingerprint; trade and fund runs of a day never replace each other. On
// both engines.
func TestRunsKeepTheirFindingsAndKindsStayApart(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r1 := saveRun(t, s, BillTrade, "a1", finding("MISSING_LOCAL", "A"), finding("MISSING_LOCAL", "B"))
		f1, _ := s.ListFindings(ctx, FindingFilter{RunID: r1.ID})
		if _, err := s.ResolveFinding(ctx, f1[0].ID, "ignored", "a test order", "bob", t0); err != nil {
			t.Fatal(err)
		}
		funds := saveRun(t, s, BillFunds, "f1", Finding{Channel: gateway.Alipay, FirstDay: "2026-11-22", Category: "FUND_UNEXPECTED",
			Severity: "critical", Kind: "OTHER", FlowNo: "FL1"})
		if funds.Kind != BillFunds || funds.Bill.Kind != BillFunds || funds.Bill.FundStated.IncomeAmount != 100 {
			t.Fatalf("fund run %+v bill %+v", funds, funds.Bill)
		}
		r2 := saveRun(t, s, BillTrade, "a2", finding("MISSING_LOCAL", "A"), finding("AMOUNT_MISMATCH", "C"))

		r1, _ = s.GetRun(ctx, r1.ID)
		if r1.Superseded != r2.ID {
			t.Errorf("run 1 superseded by %d, want %d", r1.Superseded, r2.ID)
		}
		if f, _ := s.GetRun(ctx, funds.ID); f.Superseded != 0 {
			t.Errorf("a trade run replaced the fund run")
		}
		old, _ := s.ListFindings(ctx, FindingFilter{RunID: r1.ID})
		cur, _ := s.ListFindings(ctx, FindingFilter{RunID: r2.ID})
		if len(old) != 2 || len(cur) != 2 {
			t.Fatalf("old %d, current %d findings", len(old), len(cur))
		}
		if cur[0].OutTradeNo != "A" || cur[0].Resolution != "ignored" || cur[0].Note != "a test order" || cur[1].Resolution != "" {
			t.Errorf("resolution not carried: %+v", cur)
		}
		if prev, ok, err := s.PreviousRun(ctx, r2); err != nil || !ok || prev.ID != r1.ID {
			t.Errorf("previous of run 2: %d %v %v", prev.ID, ok, err)
		}
		if _, ok, _ := s.PreviousRun(ctx, funds); ok {
			t.Error("the fund run has no previous run")
		}
		if c, err := s.CurrentRunOf(ctx, gateway.Alipay, "2026-11-22", BillFunds); err != nil || c.ID != funds.ID {
			t.Errorf("current fund run: %d %v", c.ID, err)
		}
		if b, ok, err := s.TradeBillOf(ctx, gateway.Alipay, "2026-11-22"); err != nil || !ok || b.SHA256 != "a2" {
			t.Errorf("trade bill of the day: %+v %v %v", b, ok, err)
		}
		// The suspense of the next day comes from the trade run, never the
		// fund run saved after it.
		if carry, day, err := s.SuspenseBefore(ctx, gateway.Alipay, "2026-11-23", 3); err != nil || day != "2026-11-22" || string(carry) != "[]" {
			t.Errorf("suspense: %s %s %v", carry, day, err)
		}

		// A finding of a replaced run cannot be resolved; a batch with one bad
		// finding changes nothing.
		if _, err := s.ResolveFinding(ctx, old[1].ID, "resolved", "x", "bob", t0); !errors.Is(err, ErrFindingReplaced) {
			t.Errorf("resolving a replaced run's finding: %v", err)
		}
		_, err := s.ApplyResolutions(ctx, []Resolution{{FindingID: cur[1].ID, Resolution: "resolved", Note: "refunded"}, {FindingID: 999999, Resolution: "resolved"}}, "bob", t0)
		if !errors.Is(err, ErrFindingNotFound) {
			t.Errorf("batch with an unknown finding: %v", err)
		}
		if f, _ := s.GetFinding(ctx, cur[1].ID); f.Resolution != "" {
			t.Errorf("a failed batch changed finding %d: %+v", f.ID, f)
		}
		fs, err := s.ApplyResolutions(ctx, []Resolution{{FindingID: cur[1].ID, Resolution: "resolved", Note: "refunded"}, {FindingID: cur[0].ID, Resolution: ""}}, "bob", t0)
		if err != nil || fs[0].Resolution != "resolved" || fs[0].Resolver != "bob" || fs[1].Resolution != "" || fs[1].Resolver != "" || !fs[1].ResolvedAt.IsZero() {
			t.Errorf("batch: %+v %v", fs, err)
		}
	})
}
