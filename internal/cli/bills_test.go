package cli

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
)

// TestBillsFetchAndImport: `paydesk bills fetch` downloads a day's bill
// from the platform (the sandbox, through the real clients) and keeps it;
// `paydesk bills import` keeps a file; --json prints the kept bill.
func TestBillsFetchAndImport(t *testing.T) {
	t.Parallel()
	sb, _, cfg := billsWorkspace(t)
	_, date := paidYesterday(t, sb, "PDBILL")

	code, out, errOut := runCLI(t, "--config", cfg, "bills", "fetch", "--channel", "wechat", "--date", date, "--json")
	var kept struct {
		ID       int64
		Channel  string
		Day      string
		Source   string
		Path     string
		SHA256   string
		Lines    int
		Account  string
		FileName string `json:"file_name"`
	}
	if err := json.Unmarshal([]byte(out), &kept); code != 0 || err != nil {
		t.Fatalf("fetch wechat: %d %v %q %q", code, err, out, errOut)
	}
	if kept.ID == 0 || kept.Channel != "wechat" || kept.Day != date || kept.Source != "download" || kept.Lines != 1 ||
		kept.Account != testkit.SandboxKeys(t).WeChatMchID || len(kept.SHA256) != 64 {
		t.Fatalf("fetched wechat bill: %+v", kept)
	}
	if data, err := os.ReadFile(kept.Path); err != nil || !strings.HasPrefix(string(data), "\ufeff交易时间,") {
		t.Fatalf("kept file %s: %v (%.40q)", kept.Path, err, data)
	}
	code, out, errOut = runCLI(t, "--config", cfg, "bills", "fetch", "--channel", "alipay", "--date", date)
	if code != 0 || !strings.Contains(out, "alipay "+date) || !strings.Contains(out, ".csv.zip (download, 1 line") || !strings.Contains(out, "kept at ") {
		t.Fatalf("fetch alipay: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "--config", cfg, "bills", "import", "--channel", "alipay", "--date", "2026-11-22", "--json",
		testkit.Testdata("recon", "alipay_20261122.zip"))
	if err := json.Unmarshal([]byte(out), &kept); code != 0 || err != nil || kept.Source != "file" || kept.Lines != 18 ||
		kept.Account != "20880001000000010156" || kept.FileName != "alipay_20261122.zip" {
		t.Fatalf("import alipay: %d %v %+v %q", code, err, kept, errOut)
	}
	// Importing the same bytes again keeps nothing new.
	first := kept.ID
	code, out, _ = runCLI(t, "--config", cfg, "bills", "import", "--channel", "alipay", "--date", "2026-11-22", "--json",
		testkit.Testdata("recon", "alipay_20261122.zip"))
	if err := json.Unmarshal([]byte(out), &kept); code != 0 || err != nil || kept.ID != first {
		t.Fatalf("import again: %d %v %+v", code, err, kept)
	}
	if code, _, errOut := runCLI(t, "--config", cfg, "bills", "import", "--channel", "alipay"); code != 2 || !strings.Contains(errOut, "FILE") {
		t.Fatalf("import without FILE: %d %q", code, errOut)
	}
}

// TestBillsOfAnotherMerchantOrDayChangeNothing: a bill of another merchant
// or of another day, or one that repeats a row, is refused through the CLI
// (bills import and recon run) naming the file and line, exit 1; every
// record in the store is byte for byte what it was (the audit log gains
// the refusal, as every operator action must), and no copy of the file is
// kept.
func TestBillsOfAnotherMerchantOrDayChangeNothing(t *testing.T) {
	t.Parallel()
	_, dir, cfg := billsWorkspace(t)
	// A good bill of each channel first, so that there is something to
	// leave unchanged.
	for _, c := range [][]string{
		{"recon", "run", "--channel", "wechat", "--date", "2026-11-22", "--bill", testkit.Testdata("recon", "wechat_all_20261122.txt")},
		{"bills", "import", "--channel", "alipay", "--date", "2026-11-22", testkit.Testdata("recon", "alipay_20261122.zip")},
	} {
		if code, _, errOut := runCLI(t, append([]string{"--config", cfg}, c...)...); code != 0 {
			t.Fatalf("%v: %q", c, errOut)
		}
	}

	wechatText := readTestdata(t, "recon", "wechat_all_20261122.txt")
	alipayText := readTestdata(t, "recon", "alipay_20261122.csv")
	wechatLines := strings.Split(wechatText, "\r\n")
	cases := []struct {
		name, channel, date string
		text                string
		want                []string // in stderr, besides the file's name
	}{
		{"wechat_other_mchid.txt", "wechat", "2026-11-22", strings.ReplaceAll(wechatText, "`1900000109,", "`1900000999,"),
			[]string{":2: ", "another merchant", "1900000999", "[wechat] mchid"}},
		{"wechat_other_sub_mchid.txt", "wechat", "2026-11-22", strings.Replace(wechatText, "`1900000109,`0,", "`1900000109,`1900000888,", 1),
			[]string{":2: ", "another merchant", "1900000888"}},
		{"alipay_other_account.csv", "alipay", "2026-11-22", strings.Replace(alipayText, "[20880001000000010156]", "[20889999000000010156]", 1),
			[]string{":2: ", "another merchant", "20889999000000010156", "[alipay] pid"}},
		{"wechat_of_the_22nd.txt", "wechat", "2026-11-23", wechatText,
			[]string{":2: ", "another day", "2026-11-22 09:15:30 is not on the business day 2026-11-23"}},
		{"alipay_of_the_22nd.csv", "alipay", "2026-11-21", alipayText,
			[]string{":3: ", "another day", "covers 2026-11-22 00:00:00 to 2026-11-23 00:00:00"}},
		{"alipay_row_of_the_21st.csv", "alipay", "2026-11-22", strings.Replace(alipayText, "2026-11-22 11:02:33", "2026-11-21 23:58:00", 1),
			[]string{":11: ", "another day", "完成时间 2026-11-21 23:58:00"}},
		{"wechat_repeated_row.txt", "wechat", "2026-11-22",
			strings.Join(append(append(append([]string{}, wechatLines[:6]...), wechatLines[5]), wechatLines[6:]...), "\r\n"),
			[]string{":7: ", "repeats a row", "on line 6 already"}},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), c.name)
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"bills", "import", "--channel", c.channel, "--date", c.date, path},
			{"recon", "run", "--channel", c.channel, "--date", c.date, "--bill", path},
		} {
			before, audits, files := testkit.StoreDump(t, filepath.Join(dir, "paydesk.db"), "audit"), auditCount(t, dir), keptBills(t, dir)
			code, out, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...)
			if code != 1 {
				t.Errorf("%s %s: exit %d (%q); want 1", c.name, args[0], code, out)
			}
			for _, s := range append([]string{c.name}, c.want...) {
				if !strings.Contains(errOut, s) {
					t.Errorf("%s %s: stderr %q does not say %q", c.name, args[0], errOut, s)
				}
			}
			if after := testkit.StoreDump(t, filepath.Join(dir, "paydesk.db"), "audit"); after != before {
				t.Errorf("%s %s: the store's records changed", c.name, args[0])
			}
			if n := auditCount(t, dir); n != audits+1 {
				t.Errorf("%s %s: %d audit entries added, want the refusal alone", c.name, args[0], n-audits)
			}
			if got := keptBills(t, dir); got != files {
				t.Errorf("%s %s: bill files kept: %s, before %s", c.name, args[0], got, files)
			}
		}
	}
}

// TestBillsHeldToTheFirstBillsAccount: without [alipay] pid, the first
// bill kept records whose bills the workspace reconciles; a bill of another
// account is refused after it.
func TestBillsHeldToTheFirstBillsAccount(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "viewer")
	if code, _, errOut := runCLI(t, "--config", cfg, "bills", "import", "--channel", "alipay", "--date", "2026-11-22",
		testkit.Testdata("recon", "alipay_20261122.zip")); code != 0 {
		t.Fatalf("first bill: %q", errOut)
	}
	other := filepath.Join(t.TempDir(), "other_20261123.csv")
	text := strings.Replace(readTestdata(t, "recon", "alipay_20261123.csv"), "[20880001000000010156]", "[20880002000000020156]", 1)
	os.WriteFile(other, []byte(text), 0o600)
	code, _, errOut := runCLI(t, "--config", cfg, "bills", "import", "--channel", "alipay", "--date", "2026-11-23", other)
	if code != 1 || !strings.Contains(errOut, "other_20261123.csv:2: ") || !strings.Contains(errOut, "recorded from its first bill") {
		t.Fatalf("bill of another account: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "--config", cfg, "bills", "import", "--channel", "alipay", "--date", "2026-11-23",
		testkit.Testdata("recon", "alipay_20261123.zip"))
	if code != 0 {
		t.Fatalf("the next day's bill of the same account: %q", errOut)
	}
}

// paidYesterday pays one trade of 12.00 on each platform at noon
// yesterday (prefix + A001 on Alipay, W001 on WeChat Pay), so both have
// bills for the day; it returns the day and its date.
func paidYesterday(t *testing.T, sb *sandbox.Server, prefix string) (time.Time, string) {
	t.Helper()
	day, _ := gateway.Day(time.Now().In(gateway.Shanghai).AddDate(0, 0, -1), gateway.Shanghai)
	for _, ch := range []gateway.Channel{gateway.Alipay, gateway.WeChat} {
		out := prefix + strings.ToUpper(string(ch[:1])) + "001"
		if _, err := sb.CreateTrade(sandbox.TradeSpec{Channel: ch, OutTradeNo: out, Amount: 1200, Subject: "bill", CreatedAt: day.Add(11 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Pay(ch, out, day.Add(12*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return day, day.Format(time.DateOnly)
}

// sandboxWorkspace is a workspace configured for a sandbox of its own, with
// the client files it writes ([alipay] pid and [wechat] mchid among them),
// for a viewer: the role that reconciles.
// billsWorkspace is a sandbox merchant's workspace for a finance viewer.
func billsWorkspace(t *testing.T) (sb *sandbox.Server, dir, cfg string) {
	t.Helper()
	cfg, sb = sandboxWorkspaceAs(t, "fin", "viewer", "")
	return sb, filepath.Dir(cfg), cfg
}

func appendConfig(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func readTestdata(t *testing.T, elem ...string) string {
	t.Helper()
	b, err := os.ReadFile(testkit.Testdata(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func auditCount(t *testing.T, dir string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "paydesk.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func keptBills(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "bills", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(files)
}

// TestBillsKeepFundBills: `bills fetch --kind funds` downloads a day's fund
// bill (WeChat Pay's 资金账单, Alipay's 账务明细) from the sandbox through the
// real clients and keeps it, as `recon funds` would: `recon funds` then
// finds the same bill kept. `bills import --kind funds` keeps a file. A
// fund bill of another merchant or day, or with a movement twice, or a
// trade bill given as a fund bill, is refused as `recon funds` refuses it:
// exit 1 naming the file and line, the store's records as they were, one
// audited refusal, no file kept.
func TestBillsKeepFundBills(t *testing.T) {
	t.Parallel()
	sb, dir, cfg := billsWorkspace(t)
	day, date := paidYesterday(t, sb, "PDFUND")
	for _, ch := range []gateway.Channel{gateway.Alipay, gateway.WeChat} {
		if err := sb.AddFundMovement(ch, sandbox.FundMovement{Time: day.Add(18 * time.Hour), Amount: -500, Kind: gateway.FundWithdrawal}); err != nil {
			t.Fatal(err)
		}
	}
	type keptBill struct {
		ID         int64
		Channel    string
		Day        string
		Kind       string
		Source     string
		Path       string
		SHA256     string
		Lines      int
		Account    string
		FileName   string              `json:"file_name"`
		FundStated *gateway.FundTotals `json:"fund_stated"`
	}
	keep := func(args ...string) keptBill {
		t.Helper()
		code, out, errOut := runCLI(t, append(append([]string{"--config", cfg, "bills"}, args...), "--json")...)
		var b keptBill
		if err := json.Unmarshal([]byte(out), &b); code != 0 || err != nil {
			t.Fatalf("bills %v: %d %v %q %q", args, code, err, out, errOut)
		}
		return b
	}
	// WeChat Pay: the payment in, its fee out, the withdrawal.
	w := keep("fetch", "--channel", "wechat", "--kind", "funds", "--date", date)
	if w.ID == 0 || w.Kind != "funds" || w.Source != "download" || w.Day != date || w.Lines != 3 || w.Account != "" || len(w.SHA256) != 64 ||
		w.FundStated == nil || w.FundStated.Income != 1 || w.FundStated.Expense != 2 {
		t.Fatalf("fetched wechat fund bill: %+v", w)
	}
	if data, err := os.ReadFile(w.Path); err != nil || !strings.HasPrefix(string(data), sandbox.WeChatBillBOM+"记账时间,") {
		t.Fatalf("kept file %s: %v (%.40q)", w.Path, err, data)
	}
	if again := keep("fetch", "--channel", "wechat", "--kind", "funds", "--date", date); again.ID != w.ID {
		t.Fatalf("the same fund bill again: %+v, first %+v", again, w)
	}
	code, out, errOut := runCLI(t, "--config", cfg, "recon", "funds", "--channel", "wechat", "--date", date, "--json")
	var run struct {
		Kind   string
		BillID int64 `json:"bill_id"`
	}
	if err := json.Unmarshal([]byte(out), &run); code != 0 || err != nil || run.Kind != "funds" || run.BillID != w.ID {
		t.Fatalf("recon funds after bills fetch: %d %v %+v %q", code, err, run, errOut)
	}
	a := keep("fetch", "--channel", "alipay", "--kind", "funds", "--date", date)
	if a.Kind != "funds" || a.Account != sb.AlipayPID()+"0156" || a.Lines != 3 || !strings.HasSuffix(a.FileName, ".zip") {
		t.Fatalf("fetched alipay fund bill: %+v", a)
	}
	code, out, errOut = runCLI(t, "--config", cfg, "bills", "fetch", "--channel", "alipay", "--kind", "funds", "--date", date)
	if code != 0 || !strings.Contains(out, "fund bill ") || !strings.Contains(out, "stated 1 in 12.00, 2 out ") {
		t.Fatalf("fetch alipay fund bill as text: %d %q %q", code, out, errOut)
	}
	f := keep("import", "--channel", "alipay", "--kind", "funds", "--date", "2026-11-22", testkit.Testdata("funds", "alipay_fund_20261122.csv"))
	if f.Kind != "funds" || f.Source != "file" || f.Account != "20880001000000010156" || f.FileName != "alipay_fund_20261122.csv" || f.Lines != 14 {
		t.Fatalf("imported alipay fund bill: %+v", f)
	}

	wechatFund := readTestdata(t, "funds", "wechat_fund_20261122.txt")
	lines := strings.SplitAfter(wechatFund, "\n")
	cases := []struct {
		name, channel, date, text string
		want                      []string
	}{
		{"alipay_fund_other.csv", "alipay", "2026-11-22",
			strings.Replace(readTestdata(t, "funds", "alipay_fund_20261122.csv"), "[20880001000000010156]", "[20880009000000090156]", 1),
			[]string{":2: ", "another merchant"}},
		{"wechat_fund_of_the_22nd.txt", "wechat", "2026-11-23", wechatFund, []string{":2: ", "another day"}},
		{"wechat_fund_twice.txt", "wechat", "2026-11-22", strings.Join(append(append(append([]string{}, lines[:3]...), lines[2]), lines[3:]...), ""),
			[]string{":4: "}},
		{"wechat_trade_as_funds.txt", "wechat", "2026-11-22", readTestdata(t, "funds", "wechat_trade_20261122.txt"), nil},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), c.name)
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		before, audits, files := testkit.StoreDump(t, filepath.Join(dir, "paydesk.db"), "audit"), auditCount(t, dir), keptBills(t, dir)
		code, out, errOut := runCLI(t, "--config", cfg, "bills", "import", "--channel", c.channel, "--kind", "funds", "--date", c.date, path)
		if code != 1 {
			t.Errorf("%s: exit %d (%q); want 1", c.name, code, out)
		}
		for _, s := range append([]string{c.name}, c.want...) {
			if !strings.Contains(errOut, s) {
				t.Errorf("%s: stderr %q does not say %q", c.name, errOut, s)
			}
		}
		if after := testkit.StoreDump(t, filepath.Join(dir, "paydesk.db"), "audit"); after != before {
			t.Errorf("%s: the store's records changed", c.name)
		}
		if n := auditCount(t, dir); n != audits+1 {
			t.Errorf("%s: %d audit entries added, want the refusal alone", c.name, n-audits)
		}
		if got := keptBills(t, dir); got != files {
			t.Errorf("%s: bill files kept: %s, before %s", c.name, got, files)
		}
	}
	// Each kept or refused fund bill is audited as one, under the fund
	// bill's name.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "paydesk.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok, refused int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE outcome = 'ok'), count(*) FILTER (WHERE outcome = 'error') FROM audit
		WHERE action = 'reconcile' AND target LIKE '% fund bill %' AND detail LIKE 'fund bill %'`).Scan(&ok, &refused); err != nil || ok != 5 || refused != 4 {
		t.Fatalf("fund bills audited: %d kept, %d refused (%v); want 5 and 4", ok, refused, err)
	}
	if code, _, errOut := runCLI(t, "--config", cfg, "bills", "fetch", "--channel", "wechat", "--kind", "fund"); code != 2 || !strings.Contains(errOut, `--kind "fund"`) {
		t.Fatalf("--kind fund: %d %q", code, errOut)
	}
}
