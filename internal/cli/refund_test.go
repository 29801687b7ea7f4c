package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// runCLIIn is runCLI with stdin (answers to a confirmation).
func runCLIIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// sandboxWorkspace starts a sandbox and writes the paydesk.toml a merchant
// would use against it, run by an admin, with extra appended.
func sandboxWorkspace(t *testing.T, extra string) (string, *sandbox.Server) {
	t.Helper()
	return sandboxWorkspaceAs(t, "dana", "admin", extra)
}

// sandboxWorkspaceAs writes the sandbox's client files and a paydesk.toml
// for an operator of the given role, with extra config appended.
func sandboxWorkspaceAs(t *testing.T, name, role, extra string) (string, *sandbox.Server) {
	t.Helper()
	sb := testkit.StartSandbox(t)
	dir := t.TempDir()
	files, err := sb.WriteClientFiles(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, files.Config)
	appendConfig(t, cfg, fmt.Sprintf("\n[operator]\nname = %q\nrole = %q\n%s\n", name, role, extra))
	return cfg, sb
}

// paidAtSandbox pays each order at the sandbox and imports it as PAID by
// that trade, through the CLI.
func paidAtSandbox(t *testing.T, cfg string, sb *sandbox.Server, ch gateway.Channel, amount gateway.Money, orders ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("out_trade_no,channel,amount,created_at,status,trade_no,paid_at\n")
	for _, no := range orders {
		if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: ch, OutTradeNo: no, Amount: amount}); err != nil {
			t.Fatal(err)
		}
		tr, err := sb.Pay(ch, no, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,PAID,%s,%s\n", no, ch, amount, tr.CreatedAt.Format(time.RFC3339), tr.TradeNo, tr.PaidAt.Format(time.RFC3339))
	}
	p := filepath.Join(t.TempDir(), "paid.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "--config", cfg, "orders", "import", p); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
}

// TestRefundExitCodes: a script can trust the exit code of `paydesk
// refund`: 0 only when the platform refunded; 3 when the outcome is not
// known (a 5xx, or still processing), with the refund PENDING and the way
// to settle it on stderr; `--retry` then ends 0. The code is in --help.
func TestRefundExitCodes(t *testing.T) {
	t.Parallel()
	cfg, sb := sandboxWorkspace(t, "[refund]\nquery_after = \"0s\"")
	paidAtSandbox(t, cfg, sb, gateway.WeChat, 1000, "PDEXIT000000OK", "PDEXIT00000005X", "PDEXIT0000PROC")

	refund := func(no string) (int, map[string]any, string) {
		t.Helper()
		code, out, errOut := runCLI(t, "--config", cfg, "refund", no, "--amount", "1.00", "--reason", "test", "--yes", "--json")
		var res map[string]any
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("refund %s: %d %q %q", no, code, out, errOut)
		}
		return code, res, errOut
	}
	status := func(res map[string]any) (string, string) {
		r := res["refund"].(map[string]any)
		return r["status"].(string), r["out_request_no"].(string)
	}

	if code, res, errOut := refund("PDEXIT000000OK"); code != 0 {
		t.Fatalf("a refund the platform made: exit %d %v %q", code, res, errOut)
	}

	sb.SetFault(gateway.WeChat, "PDEXIT00000005X", sandbox.Fault{ServerError: true})
	code, res, errOut := refund("PDEXIT00000005X")
	st, req := status(res)
	if code != 3 || st != "PENDING" || res["unknown"] != true || !strings.Contains(errOut, "paydesk refund --retry "+req) {
		t.Fatalf("a refund answered 500: exit %d status %s %q; want 3, PENDING and the --retry hint", code, st, errOut)
	}
	// Still unknown on a retry while the platform keeps failing.
	if code, _, _ := runCLI(t, "--config", cfg, "refund", "--retry", req); code != 3 {
		t.Fatalf("retry while the platform fails: exit %d, want 3", code)
	}
	sb.ClearFaults()
	if code, out, errOut := runCLI(t, "--config", cfg, "refund", "--retry", req); code != 0 || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("retry once the platform answers: exit %d %q %q", code, out, errOut)
	}

	sb.SetFault(gateway.WeChat, "PDEXIT0000PROC", sandbox.Fault{RefundPending: true})
	code, res, _ = refund("PDEXIT0000PROC")
	if st, _ := status(res); code != 3 || st != "PENDING" {
		t.Fatalf("a refund still processing: exit %d status %s; want 3 PENDING", code, st)
	}

	_, help, _ := runCLI(t, "refund", "--help")
	_, rootHelp, _ := runCLI(t, "--help")
	for _, h := range []string{help, rootHelp} {
		if !strings.Contains(h, "3  refund outcome unknown") || !strings.Contains(h, "2  misuse") {
			t.Errorf("--help does not list the exit codes:\n%s", h)
		}
	}
}

// TestRefundConfirmAboveZero: [refund] confirm_above = "0" makes every
// refund, even ¥0.01, wait for the order number typed; "y" is not enough.
func TestRefundConfirmAboveZero(t *testing.T) {
	t.Parallel()
	cfg, sb := sandboxWorkspace(t, "[refund]\nconfirm_above = \"0\"")
	paidAtSandbox(t, cfg, sb, gateway.Alipay, 500, "PDCONFIRM00ZERO")
	code, _, errOut := runCLIIn(t, "y\n", "--config", cfg, "refund", "PDCONFIRM00ZERO", "--amount", "0.01", "--reason", "r")
	if code != 1 || !strings.Contains(errOut, "type the order number") || !strings.Contains(errOut, "not confirmed; nothing was sent") {
		t.Fatalf("y under confirm_above 0: exit %d %q", code, errOut)
	}
	code, out, errOut := runCLIIn(t, "PDCONFIRM00ZERO\n", "--config", cfg, "refund", "PDCONFIRM00ZERO", "--amount", "0.01", "--reason", "r")
	if code != 0 || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("typed order number: exit %d %q %q", code, out, errOut)
	}
}
