package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
)

func TestExportCommands(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.csv")
	os.WriteFile(orders, []byte("out_trade_no,channel,amount,created_at,status,trade_no,paid_at\n"+
		"PDCLI00001,alipay,12.30,2026-11-22 10:00:00,PAID,2026112222001400000001,2026-11-22 10:00:30\n"), 0o644)
	if code, out, errOut := runCLI(t, "--config", cfg, "orders", "import", orders); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	var buf bytes.Buffer
	bw := sandbox.NewAlipayBillCSV(&buf, "20880000000000000156", day)
	bw.Add(sandbox.AlipayBillRow{TradeNo: "2026112222001400000001", OutTradeNo: "PDCLI00001", Amount: 1230, Fee: 7,
		CreatedAt: day.Add(10 * time.Hour), FinishedAt: day.Add(10*time.Hour + 30*time.Second)})
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	bill := filepath.Join(dir, "bill.csv")
	os.WriteFile(bill, buf.Bytes(), 0o644)
	code, out, errOut := runCLI(t, "--config", cfg, "recon", "run", "--channel", "alipay", "--date", "2026-11-22", "--bill", bill, "--json")
	var run struct{ ID int64 }
	if err := json.Unmarshal([]byte(out), &run); code != 0 || err != nil || run.ID == 0 {
		t.Fatalf("recon run: %d %v %q %q", code, err, out, errOut)
	}
	id := strconv.FormatInt(run.ID, 10)

	report := filepath.Join(dir, "report.xlsx")
	code, out, errOut = runCLI(t, "--config", cfg, "export", "recon", id, "-o", report)
	if code != 0 || !strings.Contains(out, "wrote "+report) || !strings.Contains(out, "Summary, Findings, Lines") {
		t.Fatalf("export recon: %d %q %q", code, out, errOut)
	}
	// Not a terminal: an existing file is refused with exit 1 and kept.
	before, _ := os.ReadFile(report)
	code, _, errOut = runCLI(t, "--config", cfg, "export", "recon", id, "-o", report)
	if code != 1 || !strings.Contains(errOut, "report.xlsx exists; nothing was written (pass --force to replace it)") {
		t.Fatalf("existing file: %d %q", code, errOut)
	}
	if after, _ := os.ReadFile(report); !bytes.Equal(before, after) {
		t.Fatal("the refused export changed the file")
	}
	if code, _, errOut = runCLI(t, "--config", cfg, "export", "recon", id, "-o", report, "--force"); code != 0 {
		t.Fatalf("--force: %d %q", code, errOut)
	}

	code, out, errOut = runCLI(t, "--config", cfg, "export", "orders", "--status", "paid", "--channel", "alipay", "-o", filepath.Join(dir, "orders.xlsx"), "--json")
	var res struct {
		Rows   int
		Sheets []string
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Rows != 1 {
		t.Fatalf("export orders: %d %v %q %q", code, err, out, errOut)
	}
	for _, args := range [][]string{
		{"export", "notifications", "--failed", "-o", filepath.Join(dir, "n.xlsx")},
		{"export", "audit", "-o", filepath.Join(dir, "audit.xlsx")},
	} {
		if code, out, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...); code != 0 || !strings.Contains(out, "wrote") {
			t.Fatalf("%v: %d %q %q", args, code, out, errOut)
		}
	}

	// --by filters the audit export; the global --operator still names who
	// exports, and the export is audited under that name.
	auditAs := func(args ...string) int {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...)
		var r struct{ Rows int }
		if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
			t.Fatalf("%v: %d %v %q %q", args, code, err, out, errOut)
		}
		return r.Rows
	}
	auditAs("--operator", "auditor", "export", "audit", "--by", "carol", "-o", filepath.Join(dir, "carol.xlsx"), "--json")
	if n := auditAs("export", "audit", "--by", "auditor", "--action", "export", "-o", filepath.Join(dir, "auditor.xlsx"), "--json"); n != 1 {
		t.Errorf("exports audited under auditor: %d rows, want the one made with --operator auditor", n)
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"export", "recon", id}, 2, "-o FILE.xlsx is required"},
		{[]string{"export", "recon", id, "-o", filepath.Join(dir, "x.csv")}, 2, "must end in .xlsx"},
		{[]string{"export", "recon", "abc", "-o", filepath.Join(dir, "x.xlsx")}, 2, "want a run number"},
		{[]string{"export", "orders", "--status", "lost", "-o", filepath.Join(dir, "x.xlsx")}, 2, "--status"},
		{[]string{"export", "recon", "999", "-o", filepath.Join(dir, "x.xlsx")}, 1, "run not found"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--config", cfg}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.xlsx")); err == nil {
		t.Error("a failed export left a file")
	}
}
