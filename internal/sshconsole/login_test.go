package sshconsole

import (
	"context"
	"errors"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// TestKnownKeyGetsTheConsole: a person in [[ssh.users]] logs in with
// their key and gets the console under their name and role; what they do
// is audited under that name, via ssh, from their address.
func TestKnownKeyGetsTheConsole(t *testing.T) {
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}}, harnessOptions{})
	h.paidOrder(t, "PDSSHLOGIN0001", 1230)
	tm := h.open(t, "li.na", termOptions{})
	tm.waitText(screenTimeout, "li.na (support)", "PDSSHLOGIN0001")
	tm.openOrder("PDSSHLOGIN0001")
	tm.key("r") // a live query: an audited action
	tm.waitText(screenTimeout, "ok: PDSSHLOGIN0001: agrees")

	es, err := h.env.Store.ListAudit(context.Background(), store.AuditFilter{Action: string(ops.ActQuery), Target: "PDSSHLOGIN0001"}, 0, 10)
	if err != nil || len(es) != 1 {
		t.Fatalf("audit of the query: %+v %v", es, err)
	}
	local := tm.client.LocalAddr().String()
	if e := es[0]; e.Operator != "li.na" || e.Role != "support" || e.Via != "ssh "+local || e.Outcome != store.AuditOK {
		t.Errorf("audit entry %+v; want li.na (support) via ssh %s", e, local)
	}
	if !strings.Contains(h.logs.String(), "ssh session started") || !strings.Contains(h.logs.String(), "user=li.na") {
		t.Errorf("the session's start is not logged:\n%s", h.logs)
	}
}

// TestUnknownKeyIsRefused: a key not in [[ssh.users]] gets no session, and
// the refusal is logged with the key's fingerprint; no password or
// keyboard-interactive login is offered to try instead.
func TestUnknownKeyIsRefused(t *testing.T) {
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}}, harnessOptions{})
	stranger := newKey(t)
	if c, err := h.dial(stranger); err == nil {
		c.Close()
		t.Fatal("an unknown key logged in")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown key: %v", err)
	}
	fp := gossh.FingerprintSHA256(stranger.PublicKey())
	if logs := h.logs.String(); !strings.Contains(logs, "ssh public key refused") || !strings.Contains(logs, fp) {
		t.Errorf("the refusal of %s is not logged:\n%s", fp, logs)
	}
	_, err := h.dial(nil, gossh.Password("hunter2"), gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
		t.Error("the server asked a keyboard-interactive question")
		return nil, nil
	}))
	if err == nil || !strings.Contains(err.Error(), "no supported methods remain") {
		t.Fatalf("password and keyboard-interactive logins: %v; want no supported methods", err)
	}
	if h.srv.Sessions() != 0 {
		t.Errorf("%d sessions open after refused logins", h.srv.Sessions())
	}
}

// TestNoShellOrCommands: a session without a terminal, or asking to run a
// command, gets a sentence and exit status 1, never a shell.
func TestNoShellOrCommands(t *testing.T) {
	h := startConsole(t, []*person{{name: "li.na", role: ops.Support}}, harnessOptions{})
	c, err := h.dial(h.people["li.na"].key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		pty     bool
		command string
		want    string
	}{
		{false, "", "the console needs a terminal: connect with ssh -t"},
		{true, "sh -c id", `unknown command "sh -c id"`},
		{true, "mouse please", `unknown command "mouse please"`},
	} {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if tc.pty {
			if err := s.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
				t.Fatal(err)
			}
		}
		var out strings.Builder
		s.Stdout, s.Stderr = &out, &out
		if tc.command == "" {
			err = s.Run("")
		} else {
			err = s.Run(tc.command)
		}
		var ee *gossh.ExitError
		if !errors.As(err, &ee) || ee.ExitStatus() != 1 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("pty %v, command %q: %v, output %q; want exit 1 saying %q", tc.pty, tc.command, err, out.String(), tc.want)
		}
	}
}
