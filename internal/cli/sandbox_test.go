package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/syncbuf"
	"github.com/paydesk/paydesk/internal/testkit"
)

// TestSandboxCommandSignModes: --wechat-sign cert writes a client config
// with the platform certificate, and a keys folder from before the sandbox
// had certificates gets its certificate key made and saved.
func TestSandboxCommandSignModes(t *testing.T) {
	t.Parallel()
	if code, _, errOut := runCLI(t, "sandbox", "--wechat-sign", "bogus", "--dir", t.TempDir()); code != 2 || !strings.Contains(errOut, "--wechat-sign") {
		t.Fatalf("bad --wechat-sign: %d %s", code, errOut)
	}
	dir := t.TempDir()
	old := testkit.SandboxKeys(t)
	old.WeChatPlatformCertKey = nil
	if err := old.SaveKeys(dir); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncbuf.Buffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"sandbox", "--dir", dir, "--listen", "127.0.0.1:0", "--wechat-sign", "cert"}, strings.NewReader(""), &out, &errOut)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "try:") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("sandbox did not start: %s %s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "v3 signing with: cert") {
		t.Fatalf("output: %s", out.String())
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "paydesk.toml"))
	if !strings.Contains(string(cfg), `platform_cert_files = ["keys/wechatpay_cert.pem"]`) || strings.Contains(string(cfg), "platform_public_key_id") {
		t.Fatalf("client config:\n%s", cfg)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "wechatpay_cert.pem")); err != nil {
		t.Fatal(err)
	}
	k, err := sandbox.LoadKeys(dir)
	if err != nil || k.WeChatPlatformCertKey == nil {
		t.Fatalf("keys after the upgrade: %v", err)
	}
}
