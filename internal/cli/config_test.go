package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigValuesCheckedOnLoad: a config value that cannot be meant stops
// every command before it does anything, naming the key; exit 1.
func TestConfigValuesCheckedOnLoad(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ toml, want string }{
		{"[query]\nqps = -3", "[query] qps: -3"},
		{"[query]\nconcurrency = -1", "[query] concurrency: -1"},
		{"[recon]\nsuspense_days = -1", "[recon] suspense_days: -1"},
		{"[refund]\nconfirm_above = \"ten\"", `[refund] confirm_above: "ten"`},
		{"[alipay]\ngateway = \"file:///etc/passwd\"", `[alipay] gateway: "file:///etc/passwd": want an http:// or https:// address`},
		{"[wechat]\nbase_url = \"api.mch.weixin.qq.com\"", `[wechat] base_url: "api.mch.weixin.qq.com"`},
	} {
		// The sandbox's own config, with the bad value appended to (or
		// overriding in) its section.
		cfg, _ := sandboxWorkspace(t, "")
		b, _ := os.ReadFile(cfg)
		section, line, _ := strings.Cut(c.toml, "\n")
		text := string(b)
		if strings.Contains(text, section+"\n") {
			key, _, _ := strings.Cut(line, " =")
			var kept []string
			for _, l := range strings.Split(text, "\n") {
				if !strings.HasPrefix(l, key+" =") {
					kept = append(kept, l)
				}
			}
			text = strings.Replace(strings.Join(kept, "\n"), section+"\n", section+"\n"+line+"\n", 1)
		} else {
			text += "\n" + c.toml + "\n"
		}
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLI(t, "--config", cfg, "orders", "list")
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d %q; want 1 naming %q", c.toml, code, errOut, c.want)
		}
	}
}

// TestKeyFileOpenToOthersWarns: a private key file readable by others is
// used (Kubernetes secret volumes are 0644), with a warning naming it on
// stderr; public keys draw none.
func TestKeyFileOpenToOthersWarns(t *testing.T) {
	t.Parallel()
	cfg, _ := sandboxWorkspace(t, "")
	key := filepath.Join(filepath.Dir(cfg), "keys", "apiclient_key.pem")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "--config", cfg, "orders", "list")
	if code != 0 {
		t.Fatalf("exit %d %q", code, errOut)
	}
	want := "paydesk: warning: [wechat] private_key_file: " + key + " is open to group and others (mode 0644)"
	if !strings.Contains(errOut, want) || strings.Count(errOut, "warning") != 1 {
		t.Fatalf("stderr %q; want exactly one warning: %q", errOut, want)
	}
}
