// Package sshconsole serves the console over SSH (charmbracelet/wish), so
// each person of the team connects from their own laptop with their own
// key and role, and nobody needs a shell or a key file on the host. It
// owns the listener, the host key, public-key authentication against
// [[ssh.users]], and one console program per session; the console itself
// is ui's, and every action goes through ops under the session's person,
// audited "via ssh" from the client's address.
package sshconsole

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/ui"
)

// Config is what the SSH console needs.
type Config struct {
	Listen  string
	HostKey gossh.Signer
	Users   *Users
	// IdleTimeout ends a session after this long without a key press or
	// a click; zero never.
	IdleTimeout time.Duration
	// Console is what every session's console starts from (the refund
	// confirmation threshold, the query limits, the workspace shown); the
	// session adds its own terminal, colours and mouse setting.
	Console ui.Options
	Logger  *slog.Logger
}

// Server is the SSH console: one listener, one store and platform client
// (the base service's), one console program per session.
type Server struct {
	base *ops.Service
	cfg  Config
	log  *slog.Logger
	srv  *ssh.Server

	mu       sync.Mutex
	sessions map[*session]struct{}
}

// New makes the server. base is the service every session derives its own
// from (ops.Service.As), sharing its store, platforms and rate limit.
func New(base *ops.Service, cfg Config) (*Server, error) {
	if cfg.HostKey == nil {
		return nil, errors.New("sshconsole: no host key")
	}
	if cfg.Users == nil || len(cfg.Users.List()) == 0 {
		return nil, errors.New("sshconsole: no users")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{base: base, cfg: cfg, log: cfg.Logger, sessions: map[*session]struct{}{}}
	srv, err := wish.NewServer(
		wish.WithAddress(cfg.Listen),
		func(srv *ssh.Server) error { srv.AddHostKey(cfg.HostKey); return nil },
		// Public keys only: with no password or keyboard-interactive
		// handler the server offers neither method.
		wish.WithPublicKeyAuth(s.allowKey),
		// Sessions judge idleness by key presses (the console's clock
		// writes every second, which would keep a connection "active"
		// forever); this bounds connections that never open a console.
		wish.WithIdleTimeout(connIdle(cfg.IdleTimeout)),
		wish.WithMiddleware(s.consoleMiddleware, s.sessionMiddleware),
	)
	if err != nil {
		return nil, err
	}
	srv.ConnectionFailedCallback = func(c net.Conn, err error) {
		s.log.Info("ssh connection failed", "remote", c.RemoteAddr().String(), "err", err)
	}
	s.srv = srv
	return s, nil
}

// connIdle is the connection-level idle limit: the session's own, but
// never less than a minute, so a slow login is not cut.
func connIdle(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return max(d, time.Minute)
}

// allowKey admits a public key of a known person, and logs every other.
// OpenSSH offers each key it has before signing with one, so a refused
// key is not yet a refused login: the log says which key was refused.
func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if u, ok := s.cfg.Users.Lookup(key); ok {
		s.log.Debug("ssh key accepted", "user", u.Name, "remote", ctx.RemoteAddr().String(), "key", gossh.FingerprintSHA256(key))
		return true
	}
	s.log.Warn("ssh public key refused: not in [[ssh.users]]", "remote", ctx.RemoteAddr().String(), "ssh_user", ctx.User(),
		"key_type", key.Type(), "key", gossh.FingerprintSHA256(key))
	return false
}

// ListenAndServe serves until ctx ends, calling ready with the bound
// address once it listens. Then it asks every session's console to quit
// (each restores its client's terminal), waits up to grace for them to
// end, and closes what is left.
func (s *Server) ListenAndServe(ctx context.Context, grace time.Duration, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("[ssh] listen %s: %w", s.cfg.Listen, err)
	}
	s.log.Info("ssh console listening", "addr", ln.Addr().String(), "users", len(s.cfg.Users.List()),
		"host_key", gossh.FingerprintSHA256(s.cfg.HostKey.PublicKey()))
	if ready != nil {
		ready(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	for _, st := range s.active() {
		st.quit()
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.log.Warn("ssh sessions still open after the grace period: closed", "err", err)
		_ = s.srv.Close()
	}
	<-served
	return nil
}

// Sessions is how many consoles are open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Server) active() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.sessions))
	for st := range s.sessions {
		out = append(out, st)
	}
	return out
}

func (s *Server) track(st *session, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.sessions[st] = struct{}{}
	} else {
		delete(s.sessions, st)
	}
}
