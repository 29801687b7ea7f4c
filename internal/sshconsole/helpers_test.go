package sshconsole

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/config"
	"github.com/paydesk/paydesk/internal/syncbuf"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ops"
)

// The tests run the server on loopback over a real environment
// (internal/testenv: the sandbox platforms, the real clients, a real
// SQLite store, the notification endpoint) and log in with the real SSH
// client of golang.org/x/crypto/ssh, each session drawing into a
// testkit.Screen as a terminal would, answering the terminal queries a
// terminal answers.

// screenTimeout bounds the wait for one step to show: generous, for a
// shared 2-core machine running other packages' tests at the same time.
const screenTimeout = 30 * time.Second

// person is someone in [[ssh.users]] for a test, with their key.
type person struct {
	name string
	role ops.Role
	key  gossh.Signer
}

func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authorizedLine is a key as a person pastes it into paydesk.toml.
func authorizedLine(k gossh.PublicKey, comment string) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k))) + " " + comment
}

// harness is a running SSH console.
type harness struct {
	env     *testenv.Env
	srv     *Server
	addr    string
	hostKey gossh.PublicKey
	people  map[string]*person
	logs    *syncbuf.Buffer
}

type harnessOptions struct {
	idle time.Duration
	// sandbox injects platform faults before the server starts.
	env testenv.Options
}

// startConsole starts the SSH console for people over a fresh environment
// (platforms configured: Alipay alone) and stops it when the test ends.
func startConsole(t *testing.T, people []*person, o harnessOptions) *harness {
	t.Helper()
	o.env.Serve = true
	if o.env.Channels == nil {
		o.env.Channels = []gateway.Channel{gateway.Alipay}
	}
	env := testenv.New(t, o.env)
	var entries []config.SSHUser
	h := &harness{env: env, people: map[string]*person{}, logs: &syncbuf.Buffer{}}
	for _, p := range people {
		if p.key == nil {
			p.key = newKey(t)
		}
		h.people[p.name] = p
		entries = append(entries, config.SSHUser{Name: p.name, Role: string(p.role), PublicKeys: []string{authorizedLine(p.key.PublicKey(), p.name+"@laptop")}})
	}
	users, err := ParseUsers(entries)
	if err != nil {
		t.Fatal(err)
	}
	hk, _, err := HostKey(filepath.Join(env.Dir, "keys", "ssh_host_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	h.hostKey = hk.PublicKey()
	srv, err := New(env.Service, Config{Listen: "127.0.0.1:0", HostKey: hk, Users: users, IdleTimeout: o.idle,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, 5*time.Second, func(a string) { ready <- a }) }()
	select {
	case h.addr = <-ready:
	case err := <-done:
		t.Fatalf("ssh console did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ssh console: %v", err)
		}
	})
	return h
}

// paidOrder imports an Alipay order and pays it at the sandbox; the
// callback goes through the endpoint and marks it PAID.
func (h *harness) paidOrder(t *testing.T, no string, amount gateway.Money) {
	t.Helper()
	o := testenv.Order{OutTradeNo: no, Channel: gateway.Alipay, Amount: amount, CreatedAt: time.Now().Add(-time.Hour)}
	h.env.ImportOrders(t, o)
	h.env.Pay(t, o, time.Now().Add(-30*time.Minute))
	h.env.WaitDelivered(t, 30*time.Second)
}

// dial logs in with a key, checking the server's host key.
func (h *harness) dial(key gossh.Signer, methods ...gossh.AuthMethod) (*gossh.Client, error) {
	if key != nil {
		methods = append(methods, gossh.PublicKeys(key))
	}
	return gossh.Dial("tcp", h.addr, &gossh.ClientConfig{User: "whoever", Auth: methods,
		HostKeyCallback: gossh.FixedHostKey(h.hostKey), Timeout: 10 * time.Second})
}

// term is one person's terminal on a session.
type term struct {
	t      *testing.T
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	screen *testkit.Screen
	mu     sync.Mutex
	raw    bytes.Buffer
	ended  chan struct{} // the session's output closed
	last   string
}

type termOptions struct {
	cols, rows int
	term       string            // TERM; default xterm-256color
	env        map[string]string // sent with env requests (NO_COLOR)
	command    string            // "" for the console, "mouse"
}

// open logs a person in and opens the console on a terminal, waiting for
// its first frame.
func (h *harness) open(t *testing.T, name string, o termOptions) *term {
	t.Helper()
	p := h.people[name]
	if p == nil {
		t.Fatalf("no person %s", name)
	}
	c, err := h.dial(p.key)
	if err != nil {
		t.Fatalf("%s cannot log in: %v", name, err)
	}
	tm := h.openOn(t, c, o)
	tm.waitText(screenTimeout, fmt.Sprintf("%s (%s", p.name, p.role), "[1 Orders]")
	return tm
}

func (h *harness) openOn(t *testing.T, c *gossh.Client, o termOptions) *term {
	t.Helper()
	if o.cols == 0 {
		o.cols, o.rows = 120, 34
	}
	if o.term == "" {
		o.term = "xterm-256color"
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range o.env {
		if err := s.Setenv(k, v); err != nil {
			t.Fatalf("setenv %s: %v", k, err)
		}
	}
	if err := s.RequestPty(o.term, o.rows, o.cols, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, client: c, sess: s, in: in, screen: testkit.NewScreen(o.cols, o.rows), ended: make(chan struct{})}
	go tm.read(out)
	if o.command == "" {
		err = s.Shell()
	} else {
		err = s.Start(o.command)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return tm
}

// read draws the session's output, answering the terminal queries (the
// background colour, then the device attributes) as xterm does.
func (tm *term) read(out io.Reader) {
	defer close(tm.ended)
	buf := make([]byte, 32<<10)
	answeredBG, answeredDA := 0, 0
	for {
		n, err := out.Read(buf)
		if n > 0 {
			tm.mu.Lock()
			tm.raw.Write(buf[:n])
			tm.mu.Unlock()
			_, _ = tm.screen.Write(buf[:n])
			bg, da := tm.screen.Queries()
			for ; answeredBG < bg; answeredBG++ {
				_, _ = io.WriteString(tm.in, "\x1b]11;rgb:1e1e/1e1e/1e1e\x1b\\")
			}
			for ; answeredDA < da; answeredDA++ {
				_, _ = io.WriteString(tm.in, "\x1b[?62;22c")
			}
		}
		if err != nil {
			return
		}
	}
}

// output is everything the session wrote so far, escape sequences and all.
func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

// key sends one key press: "j", "R", "enter", "esc", "tab", "ctrl+u", or
// text typed into a focused input. Keys go a person's pace apart: Bubble
// Tea v1 reads keys that arrive together as one (and esc then 3 as alt+3).
func (tm *term) key(k string) {
	tm.t.Helper()
	seq := map[string]string{"enter": "\r", "esc": "\x1b", "tab": "\t", "ctrl+u": "\x15", "ctrl+c": "\x03"}[k]
	if seq == "" {
		seq = k
	}
	if _, err := io.WriteString(tm.in, seq); err != nil {
		tm.t.Fatalf("typing %q: %v", k, err)
	}
	time.Sleep(keyGap)
}

// keyGap is the pause after each key press.
const keyGap = 40 * time.Millisecond

// waitFor polls the screen until ok holds, and returns it; on timeout it
// fails showing the screen.
func (tm *term) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen.String()
		tm.last = s
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("after %s the screen still does not show %s:\n%s", timeout, what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *term) waitText(timeout time.Duration, texts ...string) string {
	tm.t.Helper()
	return tm.waitFor(fmt.Sprintf("%q", texts), timeout, func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

// waitEnded waits for the server to end the session, and returns its exit
// status.
func (tm *term) waitEnded(timeout time.Duration) int {
	tm.t.Helper()
	done := make(chan error, 1)
	go func() { done <- tm.sess.Wait() }()
	select {
	case err := <-done:
		var ee *gossh.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitStatus()
		}
		tm.t.Fatalf("session ended without an exit status: %v", err)
	case <-time.After(timeout):
		tm.t.Fatalf("the session is still open after %s:\n%s", timeout, tm.screen.String())
	}
	return -1
}

// openOrder jumps to an order with the `:` command line.
func (tm *term) openOrder(no string) {
	tm.t.Helper()
	tm.key(":")
	tm.waitFor("the command line", screenTimeout, func(s string) bool { return strings.Contains(s, "\n:") })
	tm.key("order " + no)
	tm.waitText(screenTimeout, ":order "+no)
	tm.key("enter")
	tm.waitText(screenTimeout, "Order "+no, "Status")
}
