package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/internal/testkit"
)

// TestReconFundsDiffAndImport drives the finance commands end to end on
// testdata/funds: recon run (the fee check), recon funds, recon diff after
// a re-run, and import-resolutions refusing a bad file with the cell named.
func TestReconFundsDiffAndImport(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("[recon]\nfee_rate_alipay = \"0.6%\"\n")
	f.Close()
	if code, out, errOut := runCLI(t, "--config", cfg, "orders", "import", testkit.Testdata("funds", "orders.csv")); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	day := []string{"--channel", "alipay", "--date", "2026-11-22"}
	code, out, errOut := runCLI(t, append([]string{"--config", cfg, "recon", "run", "--bill", testkit.Testdata("funds", "alipay_trade_20261122.csv")}, day...)...)
	if code != 0 || !strings.Contains(squash(out), "fees charged ¥2.89, expected ¥2.59 at rate 0.6% (difference ¥0.30)") ||
		!strings.Contains(squash(out), "FEE_MISMATCH 1 ¥200.00 warning") {
		t.Fatalf("recon run: %d\n%s%s", code, out, errOut)
	}

	args := append([]string{"--config", cfg, "recon", "funds", "--bill", testkit.Testdata("funds", "alipay_fund_20261122.csv")}, day...)
	code, out, errOut = runCLI(t, append(args, "--json")...)
	var run struct {
		ID       int64
		Kind     string
		Findings []struct {
			Category string
			Change   string
		}
		Changes struct{ Summary string }
	}
	if err := json.Unmarshal([]byte(out), &run); code != 0 || err != nil || run.Kind != "funds" || len(run.Findings) != 7 || run.Changes.Summary != "7 new" {
		t.Fatalf("recon funds: %d %v %+v\n%s", code, err, run, errOut)
	}
	code, out, _ = runCLI(t, args...)
	for _, want := range []string{"fund run ", "stated 6 in 499.18, 8 out 390.70", "withdrawals -¥350.00",
		"FUND_UNEXPECTED 2 ¥92.00 critical", "WITHDRAWAL 2 -¥350.00 info", "长款 = FUND_UNEXPECTED", "短款 = FUND_MISSING",
		"changes since run " + strconv.FormatInt(run.ID, 10) + ": 7 still open",
		"FUND_UNEXPECTED critical 20261122100000000009 0.00 100.00 open"} {
		if !strings.Contains(squash(out), want) {
			t.Errorf("recon funds lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count("\n"+squash(out), "\n= "); n != 7 {
		t.Errorf("%d rows marked still open, want 7", n)
	}
	code, out, _ = runCLI(t, "--config", cfg, "recon", "diff", strconv.FormatInt(run.ID, 10), strconv.FormatInt(run.ID+1, 10))
	if code != 0 || !strings.Contains(out, "7 still open") {
		t.Errorf("recon diff: %d\n%s", code, out)
	}
	if code, _, errOut = runCLI(t, "--config", cfg, "recon", "diff", "x"); code != 2 {
		t.Errorf("diff x: %d %q", code, errOut)
	}

	report := filepath.Join(t.TempDir(), "funds.xlsx")
	if code, out, errOut = runCLI(t, "--config", cfg, "export", "recon", strconv.FormatInt(run.ID+1, 10), "-o", report); code != 0 ||
		!strings.Contains(out, "Summary, Findings, Movements") {
		t.Fatalf("export fund run: %d %q %q", code, out, errOut)
	}
	x, err := excelize.OpenFile(report)
	if err != nil {
		t.Fatal(err)
	}
	x.SetCellValue("Findings", "A2", "not-a-number")
	x.Save()
	x.Close()
	code, _, errOut = runCLI(t, "--config", cfg, "recon", "import-resolutions", report)
	if code != 1 || !strings.Contains(errOut, `Findings!A2: finding id "not-a-number" is not a number`) {
		t.Errorf("bad import: %d %q", code, errOut)
	}
}

// squash collapses runs of spaces, so assertions do not depend on how
// tabwriter pads columns.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}
