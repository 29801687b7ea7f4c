package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/paydesk/paydesk/internal/syncbuf"
)

// `paydesk sandbox --wechat-api v2` writes the config of a v2-only
// merchant (the v2 keys alone, no APIv3 key), and paydesk, given only that
// file, queries a trade at the standalone sandbox through v2 over HTTPS.
func TestSandboxWritesAV2MerchantConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncbuf.Buffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0", "--dir", dir, "--notify", "http://127.0.0.1:1",
			"--wechat-api", "v2", "--wechat-v2-sign", "HMAC-SHA256"}, strings.NewReader(""), &out, &errOut)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sandbox exited %d: %s", code, errOut.String())
		}
	}()
	listening := regexp.MustCompile(`sandbox listening on (http://\S+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !strings.Contains(out.String(), "client config"); {
		time.Sleep(20 * time.Millisecond)
	}
	if m := listening.FindStringSubmatch(out.String()); m != nil {
		base = m[1]
	} else {
		t.Fatalf("sandbox did not start: %q %q", out.String(), errOut.String())
	}

	cfgPath := filepath.Join(dir, "paydesk.toml")
	var written struct {
		WeChat map[string]any `toml:"wechat"`
		Alipay map[string]any `toml:"alipay"`
	}
	if _, err := toml.DecodeFile(cfgPath, &written); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"api", "api_key_file", "sign_type", "apiclient_cert_file", "private_key_file", "mchid", "appid"} {
		if written.WeChat[k] == nil {
			t.Errorf("[wechat] %s not written", k)
		}
	}
	for _, k := range []string{"merchant_serial_no", "apiv3_key_file", "apiv3_key_env", "platform_public_key_id", "platform_public_key_file"} {
		if written.WeChat[k] != nil {
			t.Errorf("a v2-only merchant was given [wechat] %s", k)
		}
	}
	if written.WeChat["api"] != "v2" || written.WeChat["sign_type"] != "HMAC-SHA256" || !strings.HasPrefix(written.WeChat["base_url"].(string), "https://") {
		t.Fatalf("[wechat]: %v", written.WeChat)
	}
	if written.Alipay["pid"] == nil || written.Alipay["md5_key_file"] == nil {
		t.Fatalf("[alipay] has no legacy partner: %v", written.Alipay)
	}
	if fi, err := os.Stat(filepath.Join(dir, "keys", "wechat_v2_api_key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the v2 API key file: %v %v", fi, err)
	}

	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[operator]\nrole = \"admin\"\n")
	f.Close()
	resp, err := http.Post(base+"/sandbox/trades", "application/json",
		strings.NewReader(`{"channel":"wechat","out_trade_no":"PDCLIV2Q0001","amount":"12.34","subject":"v2","pay":true}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("create trade: %v %v", resp, err)
	}
	resp.Body.Close()
	csv := filepath.Join(t.TempDir(), "orders.csv")
	os.WriteFile(csv, []byte("out_trade_no,channel,amount,created_at\nPDCLIV2Q0001,wechat,12.34,2026-01-01 10:00:00\n"), 0o644)
	if code, o, e := runCLI(t, "--config", cfgPath, "--operator", "ci", "orders", "import", csv); code != 0 {
		t.Fatalf("import: %d %s %s", code, o, e)
	}
	code, o, e := runCLI(t, "--config", cfgPath, "--operator", "ci", "query", "PDCLIV2Q0001", "--json")
	if code != 0 || !strings.Contains(o, `"state": "PAID"`) || !strings.Contains(o, `"platform_state": "SUCCESS"`) {
		t.Fatalf("query through v2: %d %s %s", code, o, e)
	}
}
