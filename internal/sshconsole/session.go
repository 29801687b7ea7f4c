package sshconsole

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	bm "github.com/charmbracelet/wish/bubbletea"

	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/ui"
)

// session is one person's console over one SSH session.
type session struct {
	user   *User
	svc    *ops.Service
	remote string
	mouse  bool
	idle   *idleWatch

	mu       sync.Mutex
	program  *tea.Program
	quitting bool
}

// quit asks the console to end as if the person pressed q, so it restores
// their terminal; a console not started yet ends as soon as it starts.
func (st *session) quit() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.quitting = true
	if st.program != nil {
		go st.program.Quit()
	}
}

func (st *session) setProgram(p *tea.Program) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.program = p
	if st.quitting {
		go p.Quit()
	}
}

type sessionKey struct{}

// sessionMiddleware admits a session: it names the person from the key
// they logged in with, wants a terminal, reads the command (none, or
// "mouse"), derives the person's service, and logs the session's start and
// end. The console itself runs in consoleMiddleware, inside this one.
func (s *Server) sessionMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		remote := sess.RemoteAddr().String()
		// Named from the key the connection authenticated with (the
		// server keeps that one, not the last key offered), looked up
		// again rather than carried over from the auth callback.
		u, ok := s.cfg.Users.Lookup(sess.PublicKey())
		if !ok {
			s.log.Warn("ssh session without a known key: closed", "remote", remote)
			wish.Fatalln(sess, "paydesk: this key is not allowed")
			return
		}
		pty, _, hasPty := sess.Pty()
		if !hasPty {
			wish.Fatalln(sess, "paydesk: the console needs a terminal: connect with ssh -t")
			return
		}
		mouse, err := sessionCommand(sess.Command())
		if err != nil {
			wish.Fatalln(sess, "paydesk: "+err.Error())
			return
		}
		svc, err := s.base.As(ops.Operator{Name: u.Name, Role: u.Role, Via: "ssh " + remote})
		if err != nil {
			wish.Fatalln(sess, "paydesk: "+err.Error())
			return
		}
		st := &session{user: u, svc: svc, remote: remote, mouse: mouse, idle: newIdleWatch(s.cfg.IdleTimeout)}
		sess.Context().SetValue(sessionKey{}, st)
		s.track(st, true)
		start := time.Now()
		s.log.Info("ssh session started", "user", u.Name, "role", string(u.Role), "remote", remote,
			"term", pty.Term, "cols", pty.Window.Width, "rows", pty.Window.Height, "mouse", mouse, "sessions", s.Sessions())
		next(sess)
		s.track(st, false)
		ended := "quit"
		switch {
		case st.idle.fired.Load():
			ended = "idle"
			wish.Printf(sess, "paydesk: no key pressed for %s: session closed\n", shortDuration(s.cfg.IdleTimeout))
		case sess.Context().Err() != nil:
			ended = "disconnected"
		}
		s.log.Info("ssh session ended", "user", u.Name, "remote", remote, "after", time.Since(start).Round(time.Second).String(), "how", ended)
	}
}

// shortDuration prints 30m rather than 30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sessionCommand reads what the person asked for after the host name:
// nothing for the console, or "mouse" for the console with wheel
// scrolling and tab clicks (off by default: mouse reporting stops the
// terminal's own text selection, which support uses to copy numbers).
func sessionCommand(args []string) (mouse bool, err error) {
	switch {
	case len(args) == 0:
		return false, nil
	case len(args) == 1 && args[0] == "mouse":
		return true, nil
	}
	return false, fmt.Errorf("unknown command %q: connect with `ssh -t HOST` for the console, or `ssh -t HOST mouse` for it with the mouse on", strings.Join(args, " "))
}

// consoleMiddleware runs one console program per session, as wish's
// Bubble Tea middleware does but logging through paydesk's logger: its
// own size from the session's PTY and window-change events, its own
// colours from a renderer made for the session (TERM, NO_COLOR, the
// terminal's background), its own mouse setting and idle watch; it ends
// when the person quits, goes idle, or the connection drops.
func (s *Server) consoleMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer next(sess)
		st, ok := sess.Context().Value(sessionKey{}).(*session)
		if !ok {
			return
		}
		_, windows, _ := sess.Pty()
		p := s.program(sess, st)
		ctx, cancel := context.WithCancel(sess.Context())
		defer cancel()
		go func() {
			for {
				select {
				case <-ctx.Done():
					st.idle.stop()
					p.Quit()
					return
				case w, ok := <-windows:
					if !ok {
						return
					}
					p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}
		}()
		if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			s.log.Error("ssh console ended with an error", "user", st.user.Name, "remote", st.remote, "err", err)
		}
		// Kill restores the client's terminal if the console did not
		// (a panic), and is a no-op after a clean quit.
		p.Kill()
	}
}

func (s *Server) program(sess ssh.Session, st *session) *tea.Program {
	opts := s.cfg.Console
	opts.Renderer = bm.MakeRenderer(sess)
	opts.Mouse = st.mouse
	opts.Input, opts.Output = nil, nil
	extra := append(bm.MakeOptions(sess),
		// Bubble Tea draws on a timer (60 a second by default): at 120 a
		// key's frame leaves within 8.3 ms, which the key → frame budget
		// over the network needs (bench/README.md).
		tea.WithFPS(120),
		tea.WithFilter(st.idle.filter))
	p := ui.NewProgram(sess.Context(), st.svc, opts, extra...)
	st.setProgram(p)
	st.idle.start(st.quit)
	return p
}

// idleWatch ends a console after a while without a key press or a click.
// It is not the connection's idle timeout: the console's clock writes
// every second, which keeps a connection busy whether anyone is there.
type idleWatch struct {
	timeout time.Duration
	last    atomic.Int64 // UnixNano of the last key or click
	fired   atomic.Bool
	stopped atomic.Bool
	timer   atomic.Pointer[time.Timer]
}

func newIdleWatch(d time.Duration) *idleWatch {
	w := &idleWatch{timeout: d}
	w.last.Store(time.Now().UnixNano())
	return w
}

// filter notes input on its way into the console (tea.WithFilter).
func (w *idleWatch) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	switch msg.(type) {
	case tea.KeyMsg, tea.MouseMsg:
		w.last.Store(time.Now().UnixNano())
	}
	return msg
}

// start arms the watch: one timer, moved on rather than reset per key.
func (w *idleWatch) start(quit func()) {
	if w.timeout <= 0 {
		return
	}
	var check func()
	check = func() {
		if w.stopped.Load() {
			return
		}
		quiet := time.Since(time.Unix(0, w.last.Load()))
		if quiet >= w.timeout {
			w.fired.Store(true)
			quit()
			return
		}
		w.timer.Store(time.AfterFunc(w.timeout-quiet, check))
	}
	w.timer.Store(time.AfterFunc(w.timeout, check))
}

func (w *idleWatch) stop() {
	w.stopped.Store(true)
	if t := w.timer.Load(); t != nil {
		t.Stop()
	}
}
