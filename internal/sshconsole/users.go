package sshconsole

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"unicode"

	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/ops"
)

// User is a person allowed in over SSH: a name for the audit log, a role
// checked by ops, and the public keys that prove it is them.
type User struct {
	Name string
	Role ops.Role
	Keys []gossh.PublicKey
}

// Users is the checked [[ssh.users]] list, indexed by key.
type Users struct {
	list  []*User
	byKey map[string]*User // the key's wire form → its owner
}

// Lookup finds the person a public key belongs to.
func (u *Users) Lookup(k gossh.PublicKey) (*User, bool) {
	if k == nil {
		return nil, false
	}
	p, ok := u.byKey[string(k.Marshal())]
	return p, ok
}

// List is every user in the order of the config.
func (u *Users) List() []*User { return u.list }

// minRSABits is the smallest RSA key accepted: what OpenSSH itself has
// required since 8.8 (shorter keys are factorable).
const minRSABits = 2048

// ParseUsers checks [[ssh.users]] and indexes their keys. It reports every
// mistake, not just the first, each naming the user and the key (so
// `paydesk ssh-users check` is one round of fixes): an empty or repeated
// name, an unknown role, no keys, a key that is not a single OpenSSH
// public key, a weak or unsupported key type, and a key given twice (to
// one person or to two, which would make the second login someone else).
func ParseUsers(entries []config.SSHUser) (*Users, error) {
	if len(entries) == 0 {
		return nil, errors.New("[ssh]: no [[ssh.users]]: nobody could log in (see README, \"The console over SSH\")")
	}
	u := &Users{byKey: map[string]*User{}}
	var errs []error
	names := map[string]int{}
	owner := map[string]string{} // key wire form → "name public_keys[i]"
	for i, e := range entries {
		who := fmt.Sprintf("[[ssh.users]] #%d", i+1)
		switch {
		case e.Name == "":
			errs = append(errs, fmt.Errorf("%s: name is empty", who))
		case strings.IndexFunc(e.Name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			errs = append(errs, fmt.Errorf("%s: name %q has a space or control character", who, e.Name))
		default:
			who = fmt.Sprintf("[[ssh.users]] %s", e.Name)
			if first, ok := names[e.Name]; ok {
				errs = append(errs, fmt.Errorf("%s (#%d): the name is already used by #%d", who, i+1, first))
			}
			names[e.Name] = i + 1
		}
		role, err := ops.ParseRole(e.Role)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: role: %w", who, err))
		}
		if len(e.PublicKeys) == 0 {
			errs = append(errs, fmt.Errorf("%s: public_keys is empty: add the person's key (the line of their ~/.ssh/id_ed25519.pub)", who))
		}
		p := &User{Name: e.Name, Role: role}
		for j, text := range e.PublicKeys {
			at := fmt.Sprintf("%s public_keys[%d]", who, j)
			k, err := parseKey(text)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", at, err))
				continue
			}
			wire := string(k.Marshal())
			if prev, ok := owner[wire]; ok {
				errs = append(errs, fmt.Errorf("%s: the same key (%s) as %s: one key is one person", at, gossh.FingerprintSHA256(k), prev))
				continue
			}
			owner[wire] = at
			p.Keys = append(p.Keys, k)
			u.byKey[wire] = p
		}
		u.list = append(u.list, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return u, nil
}

// parseKey reads one public key in the authorized_keys form
// ("ssh-ed25519 AAAA… comment"), without options: paydesk would not honour
// from= or command=, and a key that seems restricted but is not is worse
// than a refusal.
func parseKey(text string) (gossh.PublicKey, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("empty")
	}
	k, _, options, rest, err := gossh.ParseAuthorizedKey([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("%q is not an OpenSSH public key (want a line like \"ssh-ed25519 AAAA… name@laptop\", as in ~/.ssh/id_ed25519.pub)", preview(text))
	}
	switch {
	case len(options) > 0:
		return nil, fmt.Errorf("options (%s) are not supported: give the key alone", strings.Join(options, ","))
	case len(strings.TrimSpace(string(rest))) > 0:
		return nil, errors.New("more than one key in one string: give each key its own string")
	}
	if _, ok := k.(*gossh.Certificate); ok {
		return nil, errors.New("certificates are not supported: give the plain public key")
	}
	switch k.Type() {
	case gossh.KeyAlgoDSA:
		return nil, errors.New("DSA keys are not accepted (OpenSSH dropped them): use ssh-ed25519")
	case gossh.KeyAlgoRSA:
		if ck, ok := k.(gossh.CryptoPublicKey); ok {
			if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
				return nil, fmt.Errorf("an RSA key of %d bits is too short (at least %d): use ssh-ed25519", rk.N.BitLen(), minRSABits)
			}
		}
	}
	return k, nil
}

// preview is the start of a malformed key, enough to find it in the file.
func preview(s string) string {
	if r := []rune(s); len(r) > 24 {
		return string(r[:24]) + "…"
	}
	return s
}
