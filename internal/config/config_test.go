package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		"fee rate":          {"[recon]\nfee_rate_wechat = \"0.6 %\"\n", "[recon] fee_rate_wechat: invalid fee rate \"0.6 %\""},
		"fee rate over 1":   {"[recon]\nfee_rate_alipay = \"6\"\n", "[recon] fee_rate_alipay: invalid fee rate \"6\": more than 100%"},
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
