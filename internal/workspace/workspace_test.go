package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/internal/workspace"
)

// TestSandboxClientFilesWorkInEverySignMode: the paydesk.toml a sandbox
// writes for each of its sign modes loads, and the clients it configures
// verify that sandbox's answers.
func TestSandboxClientFilesWorkInEverySignMode(t *testing.T) {
	for _, tc := range []struct {
		sign      sandbox.WeChatSign
		alipay    string
		wantLines []string
	}{
		{sandbox.WeChatSignPubKey, "", []string{"platform_public_key_id"}},
		{sandbox.WeChatSignCert, "RSA", []string{"platform_cert_files", `sign_type = "RSA"`}},
		{sandbox.WeChatSignMixed, "", []string{"platform_public_key_id", "platform_cert_files"}},
	} {
		t.Run(string(tc.sign), func(t *testing.T) {
			s := testkit.StartSandbox(t, func(c *sandbox.Config) { c.WeChatSign, c.AlipaySignType = tc.sign, tc.alipay })
			dir := t.TempDir()
			files, err := s.WriteClientFiles(dir, "")
			if err != nil {
				t.Fatal(err)
			}
			text, _ := os.ReadFile(filepath.Join(dir, files.Config))
			for _, want := range tc.wantLines {
				if !strings.Contains(string(text), want) {
					t.Fatalf("config lacks %q:\n%s", want, text)
				}
			}
			if tc.sign == sandbox.WeChatSignCert && strings.Contains(string(text), "platform_public_key_id") {
				t.Fatalf("certificate mode configures the public key:\n%s", text)
			}
			cfg, err := config.Load(filepath.Join(dir, files.Config))
			if err != nil {
				t.Fatal(err)
			}
			platforms, err := workspace.Platforms(cfg, gateway.Shanghai, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range gateway.Channels {
				out := "WS" + string(tc.sign) + string(ch)
				if _, err := s.CreateTrade(sandbox.TradeSpec{Channel: ch, OutTradeNo: out, Amount: 100}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Pay(ch, out, time.Now()); err != nil {
					t.Fatal(err)
				}
				for range 4 { // mixed: answers under either key
					tr, err := platforms[ch].QueryTrade(context.Background(), out)
					if err != nil || tr.State != gateway.TradePaid {
						t.Fatalf("%s query: %+v, %v", ch, tr, err)
					}
				}
			}
		})
	}
}

func TestConfigDerivesTheRefundNotifyURL(t *testing.T) {
	s := testkit.StartSandbox(t)
	dir := t.TempDir()
	files, err := s.WriteClientFiles(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, files.Config)
	text, _ := os.ReadFile(p)
	os.WriteFile(p, append(text, []byte("\n[serve]\npublic_url = \"https://pay.example.com/\"\n")...), 0o600)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.WeChatRefundNotifyURL(); got != "https://pay.example.com/notify/wechat" {
		t.Fatalf("derived notify_url %q", got)
	}
	cfg.WeChat.RefundNotifyURL = "https://other.example.com/wx"
	if got := cfg.WeChatRefundNotifyURL(); got != "https://other.example.com/wx" {
		t.Fatalf("[wechat] refund_notify_url %q", got)
	}
}
