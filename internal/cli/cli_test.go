package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs paydesk in-process with args and returns exit code, stdout
// and stderr. Each call has its own streams, so tests run in parallel.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// testWorkspace writes a paydesk.toml for an admin and returns its path.
func testWorkspace(t *testing.T, role string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "paydesk.toml")
	if err := os.WriteFile(cfg, []byte("[store]\npath = \"paydesk.db\"\n[operator]\nname = \"carol\"\nrole = \""+role+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestOrdersCommands(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	csv := filepath.Join(t.TempDir(), "orders.csv")
	os.WriteFile(csv, []byte("out_trade_no,channel,amount,created_at,status,trade_no,subject\n"+
		"PD20261122AAAAAA,alipay,12.30,2026-11-22 10:00:00,PAID,2026112222001,咖啡\n"+
		"PD20261122BBBBBB,wechat,1.00,2026-11-22 11:00:00,,,\n"), 0o644)

	code, out, errOut := runCLI(t, "--config", cfg, "orders", "import", csv)
	if code != 0 || !strings.Contains(out, "imported 2 orders") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "--config", cfg, "orders", "list", "--json")
	var list struct {
		Total  int
		Orders []struct {
			OutTradeNo string `json:"out_trade_no"`
			Amount     string
			Status     string
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("list --json: %d %v %q", code, err, out)
	}
	if list.Total != 2 || list.Orders[0].OutTradeNo != "PD20261122BBBBBB" || list.Orders[1].Amount != "12.30" {
		t.Fatalf("list: %+v", list)
	}
	code, out, _ = runCLI(t, "--config", cfg, "orders", "list", "--status", "paid")
	if code != 0 || !strings.Contains(out, "PD20261122AAAAAA") || strings.Contains(out, "PD20261122BBBBBB") {
		t.Fatalf("list --status paid: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "orders", "show", "PD20261122AAAAAA")
	if code != 0 || !strings.Contains(out, "¥12.30") || !strings.Contains(out, "paid by alipay 2026112222001") {
		t.Fatalf("show: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "orders", "show", "--json", "PD20261122AAAAAA")
	if code != 0 || !strings.Contains(out, `"refundable": "12.30"`) {
		t.Fatalf("show --json: %d %q", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "viewer")
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--config", cfg, "orders", "list", "--status", "bogus"}, 2, "--status"},
		{[]string{"--config", cfg, "orders", "show"}, 2, "takes OUT_TRADE_NO"},
		{[]string{"--config", cfg, "orders", "list", "--nope"}, 2, "unknown flag"},
		{[]string{"--config", cfg, "orders", "show", "NOPE"}, 1, "order not found"},
		{[]string{"--config", cfg, "orders", "import", "/dev/null"}, 1, "carol (viewer) may not import-orders"},
		{[]string{"--config", filepath.Join(t.TempDir(), "missing.toml"), "orders", "list"}, 1, "missing.toml"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d %q; want %d containing %q", c.args, code, errOut, c.code, c.msg)
		}
	}
}
