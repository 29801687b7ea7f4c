package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/store"
)

// Buyer ids planted in the data, one of each kind the masking covers in
// free text.
var planted = []string{"2088102177846875", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "13812345678"}

// TestNoOutputPathLeaksABuyerID plants buyer ids where a buyer's identity
// really turns up in free text — an order's subject, a resolution note, a
// forged callback that the endpoint quotes in its verification error — and
// reads every way paydesk hands data out: the --json listings and their
// text forms, the Excel exports, and the endpoint's log. None holds an id
// whole; each shows it masked by the one rule (gateway.MaskBuyerID), so
// the test also fails if an output stops showing the planted data at all.
func TestNoOutputPathLeaksABuyerID(t *testing.T) {
	if testing.Short() {
		t.Skip("starts paydesk serve as a process")
	}
	dir := t.TempDir()
	sb := testkit.StartSandbox(t)
	if _, err := sb.WriteClientFiles(dir, "paydesk.db"); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "paydesk.toml")
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "\n[operator]\nname = \"ops\"\nrole = \"admin\"\n")
	f.Close()
	cli := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("paydesk %s: exit %d %s", strings.Join(args, " "), code, errOut)
		}
		return out + errOut
	}

	// An order whose subject names the buyer.
	orders := filepath.Join(dir, "orders.csv")
	os.WriteFile(orders, []byte("out_trade_no,channel,amount,created_at,subject\n"+
		"PDMASK0001,alipay,12.30,2026-11-22 10:00:00,gift for "+planted[0]+" / "+planted[2]+"\n"), 0o600)
	cli("orders", "import", orders)

	// Forged callbacks through the real endpoint: a repeated field is
	// refused, and the refusal names the field — here, buyer ids.
	addr := freeAddr(t)
	logPath := filepath.Join(dir, "serve.log")
	paydeskProcess(t, logPath, "--config", cfg, "serve", "--listen", addr)
	waitHealthy(t, addr)
	for _, id := range planted {
		resp, err := http.Post("http://"+addr+"/notify/alipay", "application/x-www-form-urlencoded",
			strings.NewReader(id+"=1&"+id+"=2&out_trade_no=PDMASK0001&sign=AAAA"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// A finding resolved with a note about the buyer.
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	var buf bytes.Buffer
	bw := sandbox.NewAlipayBillCSV(&buf, sb.AlipayPID()+"0156", day) // the configured merchant's bill
	bw.Add(sandbox.AlipayBillRow{TradeNo: "2026112222001400000077", OutTradeNo: "PDMASKFOREIGN", Amount: 500, Fee: 3,
		CreatedAt: day.Add(10 * time.Hour), FinishedAt: day.Add(10*time.Hour + time.Minute)})
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	bill := filepath.Join(dir, "bill.csv")
	os.WriteFile(bill, buf.Bytes(), 0o600)
	var run struct {
		ID       int64
		Findings []struct{ ID int64 }
	}
	if err := json.Unmarshal([]byte(cli("recon", "run", "--channel", "alipay", "--date", "2026-11-22", "--bill", bill, "--json")), &run); err != nil {
		t.Fatal(err)
	}
	var shown struct{ Findings []struct{ ID int64 } }
	json.Unmarshal([]byte(cli("recon", "show", strconv.FormatInt(run.ID, 10), "--json")), &shown)
	if len(shown.Findings) == 0 {
		t.Fatal("no finding to resolve")
	}
	fid := strconv.FormatInt(shown.Findings[0].ID, 10)
	cli("recon", "resolve", fid, "--note", "called the buyer "+planted[2]+" ("+planted[0]+", "+planted[1]+")")

	// The ids are in the data as planted: each output below had them to
	// leak.
	st, err := store.Open(filepath.Join(dir, "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := st.ListNotifications(context.Background(), store.NotificationFilter{}, 0, 10)
	var raw strings.Builder
	for _, n := range ns {
		raw.WriteString(n.VerifyError + "\n")
	}
	o, _ := st.GetOrder(context.Background(), "PDMASK0001")
	raw.WriteString(o.Subject)
	st.Close()
	for _, id := range planted {
		if !strings.Contains(raw.String(), id) {
			t.Fatalf("%s was not planted in the data:\n%s", id, raw.String())
		}
	}

	outputs := map[string]string{
		"orders list --json":        cli("orders", "list", "--json"),
		"orders list":               cli("orders", "list"),
		"orders show --json":        cli("orders", "show", "PDMASK0001", "--json"),
		"orders show":               cli("orders", "show", "PDMASK0001"),
		"notify list --json":        cli("notify", "list", "--json"),
		"notify list":               cli("notify", "list"),
		"recon show --json":         cli("recon", "show", strconv.FormatInt(run.ID, 10), "--json"),
		"recon resolve (its reply)": cli("recon", "resolve", fid, "--note", "again "+planted[0]+" "+planted[1]+" "+planted[2]),
	}
	for what, args := range map[string][]string{
		"export orders":        {"export", "orders", "-o"},
		"export notifications": {"export", "notifications", "-o"},
		"export recon":         {"export", "recon", strconv.FormatInt(run.ID, 10), "-o"},
		"export audit":         {"export", "audit", "-o"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(what, " ", "-")+".xlsx")
		cli(append(args, path)...)
		outputs[what] = testkit.XLSXText(t, path)
	}
	logData, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	outputs["serve log"] = string(logData)

	for what, out := range outputs {
		for _, id := range planted {
			if strings.Contains(out, id) {
				t.Errorf("%s holds the buyer id %s unmasked", what, id)
			}
		}
	}
	// Where each planted id shows, masked.
	for what, ids := range map[string][]string{
		"orders list --json": {planted[0], planted[2]}, "orders list": nil, "orders show --json": {planted[0], planted[2]},
		"orders show": {planted[0], planted[2]}, "notify list --json": planted, "notify list": {planted[0]},
		"recon show --json": planted, "recon resolve (its reply)": planted,
		"export orders": {planted[0], planted[2]}, "export notifications": planted, "export recon": planted,
		"export audit": planted, "serve log": planted,
	} {
		for _, id := range ids {
			if !strings.Contains(outputs[what], gateway.MaskBuyerID(id)) {
				t.Errorf("%s does not show %s masked (%s):\n%.2000s", what, id, gateway.MaskBuyerID(id), outputs[what])
			}
		}
	}
}
