package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// sshKeyPair makes an ed25519 key, writes its private half where OpenSSH
// reads it (0600), and returns its public line for paydesk.toml.
func sshKeyPair(t *testing.T, privPath, comment string) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if privPath != "" {
		block, err := gossh.MarshalPrivateKey(priv, comment)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(privPath), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(privPath, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return signer, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + comment
}

func TestSSHUsersCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	liNa, liNaLine := sshKeyPair(t, "", "li.na@laptop")
	_, wangLine := sshKeyPair(t, "", "wang.wei@laptop")
	cfg := filepath.Join(dir, "paydesk.toml")
	good := fmt.Sprintf(`[store]
path = "paydesk.db"
[ssh]
listen = "127.0.0.1:0"
[[ssh.users]]
name = "li.na"
role = "support"
public_keys = [%q]
[[ssh.users]]
name = "wang.wei"
role = "engineer"
public_keys = [%q]
`, liNaLine, wangLine)
	if err := os.WriteFile(cfg, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "--config", cfg, "ssh-users", "check")
	if code != 0 {
		t.Fatalf("check of a good list: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"li.na", "support", "ssh-ed25519", gossh.FingerprintSHA256(liNa.PublicKey()), "wang.wei", "engineer", "2 people, 2 keys: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := runCLI(t, "--config", cfg, "ssh-users", "check", "--json"); code != 0 || !strings.Contains(out, `"fingerprint": "`+gossh.FingerprintSHA256(liNa.PublicKey())) {
		t.Errorf("check --json: %d\n%s", code, out)
	}

	bad := strings.Replace(good, `role = "engineer"`, `role = "cashier"`, 1)
	bad = strings.Replace(bad, wangLine, liNaLine, 1)
	bad += "[[ssh.users]]\nname = \"zhao.min\"\nrole = \"viewer\"\npublic_keys = [\"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC zhao@pc\"]\n"
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "--config", cfg, "ssh-users", "check")
	if code != 1 || out != "" {
		t.Fatalf("check of a bad list: exit %d, out %q", code, out)
	}
	for _, want := range []string{
		cfg + ": 3 problem(s):",
		`[[ssh.users]] wang.wei: role: unknown role "cashier"`,
		`[[ssh.users]] wang.wei public_keys[0]: the same key (` + gossh.FingerprintSHA256(liNa.PublicKey()) + `) as [[ssh.users]] li.na public_keys[0]`,
		`[[ssh.users]] zhao.min public_keys[0]: "ssh-rsa AAAAB3NzaC1yc2EA…" is not an OpenSSH public key`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check errors lack %q:\n%s", want, errOut)
		}
	}
	// The console refuses to start on the same list, pointing at check.
	if code, _, errOut := runCLI(t, "--config", cfg, "ssh"); code != 1 || !strings.Contains(errOut, "run `paydesk ssh-users check` after fixing") {
		t.Errorf("paydesk ssh on a bad list: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "ssh-users", "check"); code != 2 || !strings.Contains(errOut, "no paydesk.toml found") {
		t.Errorf("check without a config: exit %d: %s", code, errOut)
	}
}
