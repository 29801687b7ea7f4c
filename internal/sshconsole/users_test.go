package sshconsole

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/ops"
)

func TestParseUsersIndexesEveryKey(t *testing.T) {
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	users, err := ParseUsers([]config.SSHUser{
		{Name: "li.na", Role: "support", PublicKeys: []string{authorizedLine(k1.PublicKey(), "li.na@laptop"), "  " + authorizedLine(k2.PublicKey(), "li.na@phone") + "\n"}},
		{Name: "wang.wei", Role: "Engineer", PublicKeys: []string{authorizedLine(k3.PublicKey(), "")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[gossh.Signer]string{k1: "li.na", k2: "li.na", k3: "wang.wei"} {
		if u, ok := users.Lookup(k.PublicKey()); !ok || u.Name != want {
			t.Errorf("key of %s: %+v %v", want, u, ok)
		}
	}
	if u, _ := users.Lookup(k3.PublicKey()); u.Role != ops.Engineer {
		t.Errorf("role %q; want engineer", u.Role)
	}
	if _, ok := users.Lookup(newKey(t).PublicKey()); ok {
		t.Error("an unknown key was found")
	}
}

// TestParseUsersListsEveryMistake: one run names every problem, each with
// the user and the key it is about.
func TestParseUsersListsEveryMistake(t *testing.T) {
	shared := authorizedLine(newKey(t).PublicKey(), "shared")
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakPub, _ := gossh.NewPublicKey(&weak.PublicKey)
	good := authorizedLine(newKey(t).PublicKey(), "ok")
	_, err = ParseUsers([]config.SSHUser{
		{Name: "li.na", Role: "support", PublicKeys: []string{shared, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBroken li.na@laptop"}},
		{Name: "wang.wei", Role: "boss", PublicKeys: []string{shared}},
		{Name: "", Role: "viewer", PublicKeys: []string{good}},
		{Name: "li.na", Role: "viewer"},
		{Name: "zhao min", Role: "viewer", PublicKeys: []string{`from="10.0.0.0/8" ` + authorizedLine(newKey(t).PublicKey(), "x")}},
		{Name: "old", Role: "viewer", PublicKeys: []string{authorizedLine(weakPub, "old@box"), good + " " + authorizedLine(newKey(t).PublicKey(), "two")}},
	})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`[[ssh.users]] li.na public_keys[1]: "ssh-ed25519 AAAAC3NzaC1l…" is not an OpenSSH public key`,
		`[[ssh.users]] wang.wei: role: unknown role "boss"`,
		`[[ssh.users]] wang.wei public_keys[0]: the same key (SHA256:`,
		`as [[ssh.users]] li.na public_keys[0]: one key is one person`,
		`[[ssh.users]] #3: name is empty`,
		`[[ssh.users]] li.na (#4): the name is already used by #1`,
		`[[ssh.users]] li.na: public_keys is empty`,
		`[[ssh.users]] #5: name "zhao min" has a space`,
		`public_keys[0]: options (from="10.0.0.0/8") are not supported`,
		`[[ssh.users]] old public_keys[0]: an RSA key of 1024 bits is too short`,
		`[[ssh.users]] old public_keys[1]: the same key`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the errors do not say %q:\n%s", want, msg)
		}
	}
	if _, err := ParseUsers(nil); err == nil || !strings.Contains(err.Error(), "nobody could log in") {
		t.Errorf("no users: %v", err)
	}
}

// TestHostKeyIsMadeOnceAndKeptPrivate: the first start makes the key
// (0600, in a 0700 folder it creates), later starts reuse it, and a key
// file others can read is refused, as sshd refuses it.
func TestHostKeyIsMadeOnceAndKeptPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "ssh_host_ed25519")
	first, created, err := HostKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created %v, %v", created, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %04o; want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("host key folder mode %04o; want 0700", fi.Mode().Perm())
	}
	if first.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Errorf("host key type %s", first.PublicKey().Type())
	}
	again, created, err := HostKey(path)
	if err != nil || created || gossh.FingerprintSHA256(again.PublicKey()) != gossh.FingerprintSHA256(first.PublicKey()) {
		t.Fatalf("second start: created %v, same key %v, %v", created, err == nil && gossh.FingerprintSHA256(again.PublicKey()) == gossh.FingerprintSHA256(first.PublicKey()), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := HostKey(path); err == nil || !strings.Contains(err.Error(), "readable by others (mode 0644): run chmod 600") {
		t.Errorf("a world-readable host key: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := HostKey(path); err == nil || !strings.Contains(err.Error(), "is not an unencrypted OpenSSH private key") {
		t.Errorf("a broken host key file: %v", err)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{3 * time.Second: "3s", 30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Minute: "1h30m", 61 * time.Second: "1m1s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("%s: %q; want %q", d, got, want)
		}
	}
}
