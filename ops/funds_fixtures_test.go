package ops_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// fundService is a service over a fresh store at db (an SQLite path or a
// PostgreSQL URL) with the contracted rates of testdata/funds (0.6% on both
// platforms), acting as an admin, on the morning after the fixture day.
func fundService(t *testing.T, db string) *ops.Service {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rate, _ := gateway.ParseFeeRate("0.006")
	svc, err := ops.New(ops.Options{Store: st, Operator: ops.Operator{Name: "fin", Role: ops.Admin}, BillsDir: filepath.Join(t.TempDir(), "bills"),
		Now:      func() time.Time { return time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) },
		FeeRates: map[gateway.Channel]gateway.FeeRate{gateway.Alipay: rate, gateway.WeChat: rate}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportOrders(context.Background(), testdataPath("funds", "orders.csv")); err != nil {
		t.Fatal(err)
	}
	return svc
}

var fundDay = time.Date(2026, 11, 22, 12, 0, 0, 0, gateway.Shanghai)

// wantFund is one expected finding of a fund run.
type wantFund struct {
	category recon.Category
	severity recon.Severity
	key      string // out_trade_no, out_request_no or flow number
	local    gateway.Money
	platform gateway.Money
	detail   string
}

func findFund(fs []store.Finding, w wantFund) (store.Finding, int) {
	var hit store.Finding
	n := 0
	for _, f := range fs {
		if f.Category == string(w.category) && (f.OutTradeNo == w.key || f.OutRequestNo == w.key || f.FlowNo == w.key) {
			hit = f
			n++
		}
	}
	return hit, n
}

// TestFundReconHandMadeBills runs each platform's hand-made day of
// testdata/funds: the trade run first (the fee check, FEE_MISMATCH on the
// one line charged off the rate), then the fund run against the kept trade
// bill and the imported orders, every fund category checked one by one and
// the withdrawals totalled. On both engines.
func TestFundReconHandMadeBills(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ch          gateway.Channel
		trade, fund string
		feeLine     string // the one trade line FEE_MISMATCH
		expected    gateway.Money
		charged     gateway.Money
		want        []wantFund
		matched     recon.CategoryTotal
		withdrawals gateway.Money
		fundFees    [2]gateway.Money // expected, charged
	}{
		{
			ch: gateway.Alipay, trade: "alipay_trade_20261122.csv", fund: "alipay_fund_20261122.csv", feeLine: "PDAF07FEE",
			// 0.6% of 100, 20, 80, 50, 200, 12 and back 0.18 on the refund of 30.
			expected: 60 + 12 + 48 + 30 + 120 + 7 - 18, charged: 60 + 12 + 48 + 30 + 150 + 7 - 18,
			want: []wantFund{
				{recon.FundMissing, recon.Critical, "PDAF03MISSING", 5000 - 30, 0, "短款"},
				{recon.FundMissing, recon.Warning, "PDAF06LATE", 1200 - 7, 0, "within 10 minutes of midnight"},
				{recon.FundAmountMismatch, recon.Critical, "PDAF04AMOUNT", 2000 - 12, 1900 - 12, "¥19.00 of ¥20.00 payment coming in"},
				{recon.FundUnexpected, recon.Critical, "20261122100000000009", 0, 10000, "长款"},
				{recon.FundUnexpected, recon.Critical, "20261122100000000010", 0, -800, "deduction or chargeback"},
				{recon.Withdrawal, recon.Info, "20261122100000000013", 0, -30000, "sent ¥300.00 to the bank"},
				{recon.Withdrawal, recon.Info, "20261122100000000014", 0, -5000, "sent ¥50.00 to the bank"},
			},
			// PDAF01MATCH, PDAF05REFUND's payment and refund, PDAF07FEE.
			matched:     recon.CategoryTotal{Count: 4, Amount: (10000 - 60) + (8000 - 48) + (-3000 + 18) + (20000 - 150)},
			withdrawals: -35000,
			fundFees:    [2]gateway.Money{60 + 30 + 12 + 48 + 150 + 7 - 18, 60 + 12 + 48 + 150 - 18},
		},
		{
			ch: gateway.WeChat, trade: "wechat_trade_20261122.txt", fund: "wechat_fund_20261122.txt", feeLine: "PDWF04FEE",
			expected: 60 + 35 + 40 + 90 + 53 - 18, charged: 60 + 35 + 40 + 120 + 53 - 18,
			want: []wantFund{
				{recon.FundMissing, recon.Critical, "PDWF03MISSING", 6600 - 40, 0, "短款"},
				{recon.FundAmountMismatch, recon.Critical, "PDWF05AMOUNT", 8800 - 53, 8800 - 63, "-¥0.63 of fees"},
				{recon.FundUnexpected, recon.Critical, "1000000101202611220000000501", 0, 6660, "长款"},
				{recon.FundUnexpected, recon.Critical, "1000000101202611220000000402", 0, -1200, "deduction or chargeback"},
				{recon.Withdrawal, recon.Info, "1000000101202611220000000401", 0, -100000, "sent ¥1,000.00 to the bank"},
			},
			// PDWF01MATCH, PDWF02MATCH, PDWF04FEE, and the refund netted of
			// the fee it gives back.
			matched:     recon.CategoryTotal{Count: 4, Amount: (10000 - 60) + (5880 - 35) + (15000 - 120) + (-3000 + 18)},
			withdrawals: -100000,
			fundFees:    [2]gateway.Money{60 + 35 + 40 + 120 + 53 - 18, 60 + 35 + 120 + 63 - 18},
		},
	} {
		t.Run(string(c.ch), func(t *testing.T) {
			t.Parallel()
			dbtest.Engines(t, func(t *testing.T, db string) {
				ctx := context.Background()
				svc := fundService(t, db)
				trade, err := svc.RunRecon(ctx, ops.ReconRequest{Channel: c.ch, Day: fundDay, BillFile: testdataPath("funds", c.trade)}, nil)
				if err != nil {
					t.Fatal(err)
				}
				fs, _ := svc.Findings(ctx, store.FindingFilter{RunID: trade.ID, Category: string(recon.FeeMismatch)})
				if len(fs) != 1 || fs[0].OutTradeNo != c.feeLine || fs[0].Severity != "warning" {
					t.Errorf("FEE_MISMATCH: %+v", fs)
				}
				if trade.ExpectedFees == nil || *trade.ExpectedFees != c.expected || trade.Fees != c.charged || trade.FeeRate != "0.006" {
					t.Errorf("trade run fees: expected %v charged %s rate %q", trade.ExpectedFees, trade.Fees, trade.FeeRate)
				}

				run, err := svc.RunFundRecon(ctx, ops.ReconRequest{Channel: c.ch, Day: fundDay, BillFile: testdataPath("funds", c.fund)}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if run.Kind != store.BillFunds || run.Bill.Kind != store.BillFunds || run.Bill.FundStated == nil || *run.Bill.FundStated != *run.Bill.FundComputed {
					t.Fatalf("fund run %+v bill %+v", run, run.Bill)
				}
				findings, err := svc.Findings(ctx, store.FindingFilter{RunID: run.ID})
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range c.want {
					f, n := findFund(findings, w)
					if n != 1 {
						t.Errorf("%s %s: %d findings", w.category, w.key, n)
						continue
					}
					if f.Severity != string(w.severity) || f.LocalAmount != w.local || f.PlatformAmount != w.platform || !strings.Contains(f.Detail, w.detail) {
						t.Errorf("%s %s:\n got %s %s/%s %q\nwant %s %s/%s %q", w.category, w.key, f.Severity, f.LocalAmount, f.PlatformAmount, f.Detail,
							w.severity, w.local, w.platform, w.detail)
					}
				}
				if len(findings) != len(c.want) {
					t.Errorf("%d findings, want %d: %+v", len(findings), len(c.want), findings)
				}
				if got := run.Counts[string(recon.FundMatched)]; got != (store.CategoryTotal{Count: c.matched.Count, Amount: c.matched.Amount}) {
					t.Errorf("FUND_MATCHED %+v, want %+v", got, c.matched)
				}
				if got := run.Counts[string(recon.Withdrawal)].Amount; got != c.withdrawals {
					t.Errorf("withdrawals total %s, want %s", got, c.withdrawals)
				}
				if run.ExpectedFees == nil || *run.ExpectedFees != c.fundFees[0] || run.Fees != c.fundFees[1] {
					t.Errorf("fund run fees: expected %v charged %s, want %s / %s", run.ExpectedFees, run.Fees, c.fundFees[0], c.fundFees[1])
				}
				// The trade run is still the day's current trade run: a fund
				// run replaces only fund runs.
				if tr, _ := svc.ReconRun(ctx, trade.ID); tr.Superseded != 0 {
					t.Errorf("the fund run replaced the trade run")
				}
			})
		})
	}
}

// TestFundBillFileIsParsedWhileKept: a fund bill given as a file is parsed
// while its copy is kept, as a trade bill is. A file touched while its
// movements are matched is refused with a message naming it, and leaves no
// fund run and no copy of it behind; left alone, it is kept byte for byte.
func TestFundBillFileIsParsedWhileKept(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, db string) {
		ctx := context.Background()
		svc := fundService(t, db)
		trade, err := svc.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fundDay, BillFile: testdataPath("funds", "alipay_trade_20261122.csv")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		keptFiles := func() []string {
			files, err := filepath.Glob(filepath.Join(filepath.Dir(trade.Bill.Path), "*"))
			if err != nil {
				t.Fatal(err)
			}
			return files
		}
		path, src := copyOfTestdata(t, "funds", "alipay_fund_20261122.csv")

		touched := false
		_, err = svc.RunFundRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fundDay, BillFile: path}, touchOnMatch(t, path, &touched))
		if !touched || err == nil || !strings.Contains(err.Error(), "alipay_fund_20261122.csv changed while it was read") {
			t.Fatalf("a fund bill touched while read: touched %v, error %v", touched, err)
		}
		if runs, _ := svc.ReconRuns(ctx, 10); len(runs) != 1 {
			t.Fatalf("the refused fund run left %d runs; want the trade run alone", len(runs))
		}
		if files := keptFiles(); len(files) != 1 || files[0] != trade.Bill.Path {
			t.Fatalf("the refused fund run left %v in the workspace", files)
		}

		run, err := svc.RunFundRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fundDay, BillFile: path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := os.ReadFile(run.Bill.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(src)
		if !bytes.Equal(kept, src) || run.Bill.SHA256 != hex.EncodeToString(sum[:]) || run.Bill.Source != "file" || run.Bill.Kind != store.BillFunds {
			t.Fatalf("kept %d bytes (sha256 %s, source %q, kind %q); the file has %d", len(kept), run.Bill.SHA256, run.Bill.Source, run.Bill.Kind, len(src))
		}
		if files := keptFiles(); len(files) != 2 {
			t.Fatalf("files in the workspace: %v", files)
		}
	})
}

// TestFundRunRefusesAChangedTradeBill: the kept trade bill a fund run
// takes its bookings from is parsed beside the matcher and its hash checked
// at its end. Changed since its run (a byte more, or cut short), the fund
// run is refused with a message naming it, saves nothing and keeps no copy
// of its fund bill.
func TestFundRunRefusesAChangedTradeBill(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		change func([]byte) []byte
		says   string
	}{
		"a byte more": {func(b []byte) []byte { return append(b, '\n') }, "has changed since the run"},
		"cut short":   {func(b []byte) []byte { return b[:len(b)/2] }, "alipay_trade_20261122.csv:8: bad bill row"}, // the parser's own error
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			svc := fundService(t, dbtest.SQLiteFile(t))
			trade, err := svc.RunRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fundDay, BillFile: testdataPath("funds", "alipay_trade_20261122.csv")}, nil)
			if err != nil {
				t.Fatal(err)
			}
			kept, err := os.ReadFile(trade.Bill.Path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(trade.Bill.Path, c.change(kept), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = svc.RunFundRecon(ctx, ops.ReconRequest{Channel: gateway.Alipay, Day: fundDay, BillFile: testdataPath("funds", "alipay_fund_20261122.csv")}, nil)
			if err == nil || !strings.Contains(err.Error(), "which the fund run expects bookings from") || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("a changed trade bill: %v; want it to say %q", err, c.says)
			}
			if runs, _ := svc.ReconRuns(ctx, 10); len(runs) != 1 {
				t.Errorf("the refused fund run left %d runs; want the trade run alone", len(runs))
			}
			if files, _ := filepath.Glob(filepath.Join(filepath.Dir(trade.Bill.Path), "*")); len(files) != 1 {
				t.Errorf("the refused fund run left %v in the workspace", files)
			}
		})
	}
}
