package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const secretPEM = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"

func TestLoadResolvesPathsAndReadsKeys(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "keys/app.pem", secretPEM)
	write(t, dir, "keys/alipay_pub.pem", "PUB")
	write(t, dir, "keys/wx.pem", secretPEM)
	write(t, dir, "keys/wxpub.pem", "PUB")
	t.Setenv("TEST_APIV3", "0123456789abcdef0123456789abcdef")
	t.Setenv(EnvDB, "")
	t.Setenv(EnvOperator, "")
	p := write(t, dir, "paydesk.toml", `
[store]
path = "data/paydesk.db"
[operator]
name = "alice"
role = "support"
[alipay]
app_id = "2021000000000000"
private_key_file = "keys/app.pem"
alipay_public_key_file = "keys/alipay_pub.pem"
[wechat]
mchid = "1900000001"
appid = "wx0000000000000000"
merchant_serial_no = "ABC"
private_key_file = "keys/wx.pem"
apiv3_key_env = "TEST_APIV3"
platform_public_key_id = "PUB_KEY_ID_1"
platform_public_key_file = "keys/wxpub.pem"
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Path != filepath.Join(dir, "data/paydesk.db") {
		t.Errorf("store path %q not resolved against the config folder", c.Store.Path)
	}
	if string(c.Alipay.PrivateKey) != secretPEM || string(c.WeChat.APIv3Key) != "0123456789abcdef0123456789abcdef" {
		t.Error("keys not loaded")
	}
	if c.Alipay.Gateway != "https://openapi.alipay.com/gateway.do" || c.WeChat.BaseURL != "https://api.mch.weixin.qq.com" {
		t.Error("platform URLs not defaulted")
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{*c, *c.Alipay, *c.WeChat} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, "TOPSECRET") || strings.Contains(out, "0123456789abcdef") {
				t.Fatalf("%s of the config prints a secret: %s", format, out)
			}
		}
	}

	t.Setenv(EnvDB, "/tmp/other.db")
	t.Setenv(EnvOperator, "bob")
	c, err = Load(p)
	if err != nil || c.Store.Path != "/tmp/other.db" || c.Operator.Name != "bob" {
		t.Fatalf("environment overrides: %+v %v", c, err)
	}
}

func TestLoadErrorsAreClear(t *testing.T) {
	cases := map[string]struct{ toml, want string }{
		"unknown key":       {"[store]\npth = \"x\"\n", "unknown key(s) store.pth"},
		"unknown section":   {"[alipy]\napp_id = \"1\"\n", "unknown key(s) alipy"},
		"syntax":            {"[store\n", "paydesk.toml:2: expected"},
		"missing key file":  {"[alipay]\napp_id = \"1\"\nprivate_key_file = \"nope.pem\"\nalipay_public_key_file = \"nope.pub\"\n", "[alipay] private_key_file: cannot read"},
		"missing fields":    {"[alipay]\napp_id = \"1\"\n", "[alipay]: missing alipay_public_key_file (or app_cert_file, alipay_cert_file and alipay_root_cert_file), private_key_file"},
		"apiv3 env not set": {wechatWith("apiv3_key_env = \"PAYDESK_TEST_UNSET_VAR\""), "environment variable PAYDESK_TEST_UNSET_VAR is not set"},
		"apiv3 wrong size":  {wechatWith("apiv3_key_file = \"short.key\""), "the APIv3 key must be 32 bytes, got 5"},
		"path and url":      {"[store]\npath = \"p.db\"\nurl = \"postgres://db/paydesk\"\n", "[store]: set path (SQLite) or url (PostgreSQL), not both"},
		"url not postgres":  {"[store]\nurl = \"mysql://db/paydesk\"\n", "[store] url: want postgres://"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "k.pem", secretPEM)
			write(t, dir, "short.key", "short")
			_, err := Load(write(t, dir, "paydesk.toml", c.toml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") || strings.Contains(err.Error(), "short\"") {
				t.Fatalf("error leaks key material: %v", err)
			}
		})
	}
}

func wechatWith(apiv3 string) string {
	return "[wechat]\nmchid = \"1\"\nappid = \"wx1\"\nmerchant_serial_no = \"S\"\nprivate_key_file = \"k.pem\"\nplatform_public_key_id = \"P\"\nplatform_public_key_file = \"k.pem\"\n" + apiv3 + "\n"
}

// TestStoreURLSelectsPostgreSQLAndHidesItsPassword: [store] url, or a URL
// in $PAYDESK_DB, selects PostgreSQL; the password never prints.
func TestStoreURLSelectsPostgreSQLAndHidesItsPassword(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDB, "")
	p := write(t, dir, "paydesk.toml", "[store]\nurl = \"postgres://paydesk:TOPSECRET@db.internal/paydesk?sslmode=verify-full\"\nbills_dir = \"kept\"\n")
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.DB() != "postgres://paydesk:TOPSECRET@db.internal/paydesk?sslmode=verify-full" || c.Store.Path != "" ||
		c.Store.BillsDir != filepath.Join(dir, "kept") {
		t.Fatalf("store %s %q %q", c.Store.URL, c.Store.Path, c.Store.BillsDir)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, *c); strings.Contains(out, "TOPSECRET") {
			t.Fatalf("%s of the config prints the database password: %s", format, out)
		}
	}
	t.Setenv(EnvDB, "postgresql://other/db")
	if c, err = Load(p); err != nil || c.Store.DB() != "postgresql://other/db" {
		t.Fatalf("$PAYDESK_DB URL: %q %v", c.Store.DB(), err)
	}
	t.Setenv(EnvDB, "local.db")
	if c, err = Load(p); err != nil || c.Store.DB() != "local.db" || c.Store.URL != "" {
		t.Fatalf("$PAYDESK_DB path over a url: %q %v", c.Store.DB(), err)
	}
}

// TestExampleConfigLoads keeps paydesk.example.toml in step with the
// loader: every key in it must be one Load knows.
func TestExampleConfigLoads(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "paydesk.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, k := range []string{"keys/alipay_app_private.pem", "keys/alipay_public.pem", "keys/apiclient_key.pem", "keys/wechatpay_pub.pem"} {
		write(t, dir, k, secretPEM)
	}
	t.Setenv("PAYDESK_WECHAT_APIV3_KEY", "0123456789abcdef0123456789abcdef")
	t.Setenv(EnvDB, "")
	t.Setenv(EnvOperator, "")
	c, err := Load(write(t, dir, "paydesk.toml", string(example)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Alipay == nil || c.WeChat == nil || c.Operator.Role != "support" || c.Query.QPS != 10 || len(c.Serve.TrustedProxies) != 1 {
		t.Fatalf("%+v", c)
	}
	if r := c.Recon.FeeRates[gateway.WeChat]; r.Fee(10000) != 60 || len(c.Recon.FeeRates) != 2 {
		t.Errorf("fee rates %+v", c.Recon.FeeRates)
	}
}

// TestLoadChecksValues: a value that cannot be meant is refused on load,
// naming its key, whatever else the file says.
func TestLoadChecksValues(t *testing.T) {
	cases := map[string]struct{ toml, want string }{
		"negative qps":         {"[query]\nqps = -1\n", "[query] qps: -1"},
		"nan qps":              {"[query]\nqps = nan\n", "[query] qps: NaN"},
		"negative concurrency": {"[query]\nconcurrency = -2\n", "[query] concurrency: -2"},
		"negative suspense":    {"[recon]\nsuspense_days = -1\n", "[recon] suspense_days: -1"},
		"fee rate":             {"[recon]\nfee_rate_wechat = \"0.6 %\"\n", "[recon] fee_rate_wechat: invalid fee rate \"0.6 %\""},
		"fee rate over 1":      {"[recon]\nfee_rate_alipay = \"6\"\n", "[recon] fee_rate_alipay: invalid fee rate \"6\": more than 100%"},
		"fee rate negative":    {"[recon]\nfee_rate_alipay = \"-0.006\"\n", "[recon] fee_rate_alipay: invalid fee rate \"-0.006\""},
		"fee rate words":       {"[recon]\nfee_rate_wechat = \"six per mille\"\n", "(a decimal rate between 0 and 1)"},
		"confirm not money":    {"[refund]\nconfirm_above = \"lots\"\n", `[refund] confirm_above: "lots": want yuan`},
		"confirm sub-fen":      {"[refund]\nconfirm_above = \"0.001\"\n", `[refund] confirm_above: "0.001"`},
		"confirm negative":     {"[refund]\nconfirm_above = \"-5\"\n", `[refund] confirm_above: "-5" is negative`},
		"negative body":        {"[serve]\nmax_body_bytes = -1\n", "[serve] max_body_bytes: -1 is negative"},
		"negative cap":         {"[serve]\nunverified_bytes_per_minute = -1\n", "[serve] unverified_bytes_per_minute: -1"},
		"negative rows":        {"[serve]\nunverified_rows_per_minute = -1\n", "[serve] unverified_rows_per_minute: -1"},
		"listen":               {"[serve]\nlisten = \"8080\"\n", `[serve] listen: "8080"`},
		"cidr":                 {"[serve]\nallowed_cidrs = [\"10.0.0.0/33\"]\n", `[serve] allowed_cidrs: "10.0.0.0/33"`},
		"proxy":                {"[serve]\ntrusted_proxies = [\"localhost\"]\n", `[serve] trusted_proxies: "localhost"`},
		"zone":                 {"zone = \"Mars/Olympus\"\n", `zone: "Mars/Olympus"`},
		"alipay gateway ftp":   {alipayWith(`gateway = "ftp://openapi.alipay.com/gateway.do"`), `[alipay] gateway: "ftp://openapi.alipay.com/gateway.do": want an http:// or https:// address`},
		"alipay gateway bare":  {alipayWith(`gateway = "openapi.alipay.com/gateway.do"`), `[alipay] gateway: "openapi.alipay.com/gateway.do"`},
		"wechat base_url":      {wechatWith("apiv3_key_file = \"k32\"\nbase_url = \"api.mch.weixin.qq.com\""), `[wechat] base_url: "api.mch.weixin.qq.com"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "k.pem", secretPEM)
			write(t, dir, "k32", "0123456789abcdef0123456789abcdef")
			_, err := Load(write(t, dir, "paydesk.toml", c.toml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want it to contain %q", err, c.want)
			}
		})
	}
	// Zero keeps its meaning where it has one: confirm_above "0" confirms
	// every refund; it is not the default.
	dir := t.TempDir()
	c, err := Load(write(t, dir, "paydesk.toml", "[refund]\nconfirm_above = \"0\"\n"))
	if err != nil || c.Refund.Threshold != 0 || c.Refund.ConfirmAbove != "0" {
		t.Fatalf("confirm_above 0: %+v %v", c.Refund, err)
	}
	c, err = Load(write(t, dir, "paydesk.toml", "[query]\nqps = 2.5\n"))
	if err != nil || c.Refund.Threshold != 100000 || c.Query.QPS != 2.5 {
		t.Fatalf("defaults: %+v %+v %v", c.Refund, c.Query, err)
	}
}

func alipayWith(line string) string {
	return "[alipay]\napp_id = \"1\"\nprivate_key_file = \"k.pem\"\nalipay_public_key_file = \"k.pem\"\n" + line + "\n"
}

// TestSecretKeyFilesOpenToOthersWarn: a private key or APIv3 key file that
// group or others may read loads, with a warning naming the file; public
// keys and certificates draw none; a private file draws none.
func TestSecretKeyFilesOpenToOthersWarn(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "app.pem", secretPEM)
	write(t, dir, "alipay_pub.pem", "PUB")
	write(t, dir, "wx.pem", secretPEM)
	write(t, dir, "wxpub.pem", "PUB")
	write(t, dir, "apiv3", "0123456789abcdef0123456789abcdef")
	for name, mode := range map[string]os.FileMode{"app.pem": 0o644, "alipay_pub.pem": 0o644, "wx.pem": 0o600, "wxpub.pem": 0o644, "apiv3": 0o640} {
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	p := write(t, dir, "paydesk.toml", `
[alipay]
app_id = "2021000000000000"
private_key_file = "app.pem"
alipay_public_key_file = "alipay_pub.pem"
[wechat]
mchid = "1900000001"
appid = "wx0000000000000000"
merchant_serial_no = "ABC"
private_key_file = "wx.pem"
apiv3_key_file = "apiv3"
platform_public_key_id = "PUB_KEY_ID_1"
platform_public_key_file = "wxpub.pem"
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"[alipay] private_key_file: " + filepath.Join(dir, "app.pem") + " is open to group and others (mode 0644)",
		"[wechat] apiv3_key_file: " + filepath.Join(dir, "apiv3") + " is open to its group (mode 0640)",
	}
	if len(c.Warnings) != len(want) {
		t.Fatalf("warnings %q; want %d", c.Warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(c.Warnings[i], w) || !strings.Contains(c.Warnings[i], "chmod 600") {
			t.Errorf("warning %q; want %q…chmod 600", c.Warnings[i], w)
		}
	}
}

func TestWeChatKeysAndTheNewRefundKeys(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "keys/wx.pem", secretPEM)
	write(t, dir, "keys/wxpub.pem", "PUB")
	write(t, dir, "keys/cert1.pem", "CERT1")
	write(t, dir, "keys/cert2.pem", "CERT2")
	write(t, dir, "keys/app.pem", secretPEM)
	t.Setenv("TEST_APIV3", "0123456789abcdef0123456789abcdef")
	base := "[wechat]\nmchid = \"1900000001\"\nappid = \"wx1\"\nmerchant_serial_no = \"ABC\"\nprivate_key_file = \"keys/wx.pem\"\napiv3_key_env = \"TEST_APIV3\"\n"
	alipay := "[alipay]\napp_id = \"2021\"\nprivate_key_file = \"keys/app.pem\"\n"
	for _, tc := range []struct {
		name, toml, wantErr string
	}{
		{"certificates alone", base + "platform_cert_files = [\"keys/cert1.pem\", \"keys/cert2.pem\"]\n", ""},
		{"download alone", base + "platform_cert_download = true\n", ""},
		{"both", base + "platform_public_key_id = \"PUB_KEY_ID_1\"\nplatform_public_key_file = \"keys/wxpub.pem\"\nplatform_cert_files = [\"keys/cert1.pem\"]\n", ""},
		{"no platform key", base, "platform_cert_download"},
		{"key id without its file", base + "platform_public_key_id = \"PUB_KEY_ID_1\"\n", "platform_public_key_file"},
		{"missing certificate file", base + "platform_cert_files = [\"keys/none.pem\"]\n", "platform_cert_files[0]"},
		{"query_after", base + "platform_cert_download = true\n[refund]\nquery_after = \"soon\"\n", "query_after"},
		{"public_url", base + "platform_cert_download = true\n[serve]\npublic_url = \"pay.example.com\"\n", "public_url"},
		{"alipay sign_type", alipay + "alipay_public_key_file = \"keys/app.pem\"\nsign_type = \"MD5\"\n", "sign_type"},
		{"alipay RSA in certificate mode", alipay + "app_cert_file = \"keys/app.pem\"\nalipay_cert_file = \"keys/app.pem\"\nalipay_root_cert_file = \"keys/app.pem\"\nsign_type = \"RSA\"\n", "certificate mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(write(t, dir, "paydesk.toml", tc.toml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "certificates alone" && (len(c.WeChat.PlatformCerts) != 2 || string(c.WeChat.PlatformCerts[1]) != "CERT2") {
				t.Fatalf("certificates: %q", c.WeChat.PlatformCerts)
			}
			if c.Refund.QueryAfterDuration != 10*time.Second {
				t.Fatalf("query_after default: %s", c.Refund.QueryAfterDuration)
			}
		})
	}
}

func TestSSHSection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "paydesk.toml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[ssh]\nlisten = \"0.0.0.0:2222\"\n[[ssh.users]]\nname = \"li.na\"\nrole = \"support\"\npublic_keys = [\"ssh-ed25519 AAAA li.na@laptop\"]\n")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.SSH.Idle != 30*time.Minute || c.SSH.HostKeyFile != filepath.Join(dir, "keys", "ssh_host_ed25519") || len(c.SSH.Users) != 1 || c.SSH.Users[0].PublicKeys[0] != "ssh-ed25519 AAAA li.na@laptop" {
		t.Errorf("defaults and users: %+v", c.SSH)
	}
	write("[ssh]\nhost_key_file = \"keys/host\"\nidle_timeout = \"0\"\n")
	if c, err = Load(path); err != nil || c.SSH.Idle != 0 || c.SSH.HostKeyFile != filepath.Join(dir, "keys", "host") {
		t.Errorf("idle 0 and a relative host key: %+v %v", c.SSH, err)
	}
	write("[ssh]\nidle_timeout = \"half an hour\"\n")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), `[ssh] idle_timeout: "half an hour" is not a duration`) {
		t.Errorf("a bad idle_timeout: %v", err)
	}
	write("[[ssh.users]]\nname = \"li.na\"\nkeys = [\"x\"]\n")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "ssh.users.keys") {
		t.Errorf("an unknown key in [[ssh.users]]: %v", err)
	}
}
