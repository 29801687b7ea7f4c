package cli

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/internal/testkit"
)

// gbk is s in GBK bytes, as Excel on a Chinese Windows saves a CSV.
func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOrderFilesRefusedChangeNothing: an order file that is not what it
// says — bytes neither UTF-8 nor GBK, a file that switches encoding half
// way, a 100 MB field, a value over its column's limit, a JSONL key given
// twice or text after the object, a JSONL line of 100 MB — is refused with
// file:line: (and the column where there is one), exit 1; every table of
// the store is byte-for-byte as it was, and the audit log gains exactly the
// refusal.
func TestOrderFilesRefusedChangeNothing(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	dir := filepath.Dir(cfg)
	db := filepath.Join(dir, "paydesk.db")
	seed := filepath.Join(dir, "seed.csv")
	os.WriteFile(seed, []byte("out_trade_no,channel,amount,created_at,subject\nPDSEED00000001,alipay,9.99,2026-11-21 10:00:00,咖啡\n"), 0o600)
	if code, _, errOut := runCLI(t, "--config", cfg, "orders", "import", seed); code != 0 {
		t.Fatal(errOut)
	}

	header := "out_trade_no,channel,amount,created_at,subject\n"
	row := func(i int, subject string) string {
		return fmt.Sprintf("PDFILE%08d,wechat,1.00,2026-11-22 10:00:00,%s\n", i, subject)
	}
	huge := bytes.Repeat([]byte("x"), 100<<20)
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"gbk_broken.csv", append(append(gbk(t, header+row(1, "会员月卡")), gbk(t, row(2, "年卡"))[:33]...), 0xFF, 0xFF, '\n'),
			"gbk_broken.csv:3: encoding: neither UTF-8 nor GBK: save the file as CSV UTF-8 (逗号分隔)"},
		{"mixed.csv", append([]byte(header+row(1, "会员月卡")), gbk(t, row(2, "会员月卡"))...),
			"mixed.csv:3: encoding: not UTF-8 although the file began as UTF-8; the file mixes UTF-8 with another encoding"},
		{"huge.csv", append(append([]byte(header+"PDFILE00000001,wechat,1.00,2026-11-22 10:00:00,\""), huge...), "\"\n"...),
			"huge.csv:2: subject: longer than 2050 bytes; at most 256 characters: stopped reading it"},
		{"long.csv", []byte(header + row(1, "ok") + row(2, strings.Repeat("长", 257))),
			"long.csv:3: subject: 257 characters; at most 256"},
		{"commas.csv", []byte(header + "PDFILE00000001" + strings.Repeat(",", 1<<20) + "\n"),
			"commas.csv:2: more than 10 fields"},
		{"dup.jsonl", []byte(`{"out_trade_no":"PDFILE00000001","channel":"alipay","amount":"1.00","created_at":"2026-11-22 10:00:00"}` + "\n" +
			`{"out_trade_no":"PDFILE00000002","channel":"alipay","amount":"1.00","amount":"100.00","created_at":"2026-11-22 10:00:00"}` + "\n"),
			`dup.jsonl:2: amount: key "amount" is given twice`},
		{"trailing.jsonl", []byte(`{"out_trade_no":"PDFILE00000001","channel":"alipay","amount":"1.00","created_at":"2026-11-22 10:00:00"} {"amount":"5"}` + "\n"),
			"trailing.jsonl:1: text after the object (at byte"},
		{"trailing2.jsonl", []byte(`{"out_trade_no":"PDFILE00000001","channel":"alipay","amount":"1.00","created_at":"2026-11-22 10:00:00"}garbage` + "\n"),
			"trailing2.jsonl:1: text after the object"},
		{"gbk.jsonl", gbk(t, `{"out_trade_no":"PDFILE00000001","channel":"alipay","amount":"1.00","created_at":"2026-11-22 10:00:00","subject":"会员月卡"}`+"\n"),
			"gbk.jsonl:1: encoding: not UTF-8 (JSON text is UTF-8)"},
		{"huge.jsonl", append(append([]byte(`{"out_trade_no":"PDFILE00000001","channel":"alipay","amount":"1.00","created_at":"2026-11-22 10:00:00","subject":"`), huge...), "\"}\n"...),
			"huge.jsonl:1: subject: line longer than 65536 bytes (subject: at most 256 characters): stopped reading it"},
	}
	before := testkit.StoreDump(t, db, "audit")
	audits, _ := lastAudit(t, db)
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.content, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, "--config", cfg, "orders", "import", p)
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d %q %q; want 1 and %q", c.name, code, out, truncate(errOut, 300), c.want)
		}
		os.Remove(p)
		if after := testkit.StoreDump(t, db, "audit"); after != before {
			t.Errorf("%s: the refused import changed the store", c.name)
		}
		audits++
		n, last := lastAudit(t, db)
		if n != audits || !strings.Contains(last, "import-orders error ") || !strings.Contains(last, c.want[:strings.Index(c.want, ": ")]) {
			t.Errorf("%s: %d audit entries, the last %q; want %d, the last the refusal naming the file and line", c.name, n, last, audits)
		}
	}
	code, out, _ := runCLI(t, "--config", cfg, "orders", "list", "--json", "--limit", "5")
	if code != 0 || !strings.Contains(out, `"total": 1`) {
		t.Fatalf("after the refusals: %s", out)
	}
}

// lastAudit counts the audit log and describes its last entry, read from
// the store file itself.
func lastAudit(t *testing.T, db string) (int, string) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	var action, outcome, msg string
	if err := conn.QueryRow(`SELECT count(*) FROM audit`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(`SELECT action, outcome, error FROM audit ORDER BY id DESC LIMIT 1`).Scan(&action, &outcome, &msg)
	if err != nil {
		t.Fatal(err)
	}
	return n, action + " " + outcome + " " + msg
}

// TestGBKOrderFileIsDecoded: a CSV saved by Excel on a Chinese Windows
// (GBK, with CRLF lines) imports with its Chinese subjects as they were
// written, and the result says it was read as GBK.
func TestGBKOrderFileIsDecoded(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	p := filepath.Join(t.TempDir(), "订单.csv")
	content := gbk(t, "out_trade_no,channel,amount,created_at,subject\r\n"+
		"PDGBK000000001,alipay,12.30,2026-11-22 10:00:00,会员月卡（年付）\r\n"+
		"PDGBK000000002,wechat,0.01,2026-11-22 10:01:00,\"拿铁, 大杯\"\r\n")
	os.WriteFile(p, content, 0o600)
	code, out, errOut := runCLI(t, "--config", cfg, "orders", "import", p)
	if code != 0 || !strings.Contains(out, "imported 2 orders") || !strings.Contains(out, "(csv, GBK)") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	for no, want := range map[string]string{"PDGBK000000001": "会员月卡（年付）", "PDGBK000000002": "拿铁, 大杯"} {
		code, out, _ := runCLI(t, "--config", cfg, "orders", "show", "--json", no)
		var d struct {
			Order struct{ Subject string } `json:"order"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil || code != 0 || d.Order.Subject != want {
			t.Errorf("%s: subject %q (%v); want %q", no, d.Order.Subject, err, want)
		}
	}
	_, help, _ := runCLI(t, "orders", "import", "--help")
	for _, want := range []string{"subject       256", "out_trade_no   64", "currency        3", "GBK"} {
		if !strings.Contains(help, want) {
			t.Errorf("orders import --help does not say %q", want)
		}
	}
}
