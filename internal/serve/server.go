// Package serve owns paydesk's notification endpoint: the HTTP server that
// the platforms call after a payment or refund (POST /notify/alipay, POST
// /notify/wechat) and GET /healthz. It only frames HTTP: the body limit,
// the allowlist, timeouts, logs and graceful shutdown, and the periodic
// sweep that finishes the callbacks of replicas that died mid-intake. What
// a callback means is ops.IntakeNotification's business.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
)

// Config of the endpoint.
type Config struct {
	Listen       string
	AllowedCIDRs []netip.Prefix // empty: everyone may call
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// real sender (for the allowlist and the logs). Empty: use the peer.
	TrustedProxies []netip.Prefix
	MaxBodyBytes   int64
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	// SweepEvery is how often undecided callbacks of gone replicas are
	// finished (default a minute).
	SweepEvery time.Duration
	Logger     *slog.Logger
}

// Server is the notification endpoint.
type Server struct {
	svc *ops.Service
	cfg Config
	srv *http.Server
	log *slog.Logger
}

// New makes an endpoint over svc.
func New(svc *ops.Service, cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, cfg: cfg, log: cfg.Logger}
	return s
}

// Handler routes the endpoint's requests.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notify/{channel}", s.handleNotify)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	return mux
}

func (s *Server) handleNotify(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ch, err := gateway.ParseChannel(r.PathValue("channel"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	sender := s.sender(r)
	// One byte past the limit tells an oversized body from one that fits.
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
	if err != nil {
		// The sender hung up mid-body: there is no request to keep.
		s.log.Warn("notification body unreadable", "channel", ch, "remote", sender, "err", err)
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	oversized := int64(len(body)) > s.cfg.MaxBodyBytes
	if oversized {
		body = body[:s.cfg.MaxBodyBytes]
	}
	// The request's own header: intake is done with it before this
	// handler returns, and nothing it calls changes a header it is handed.
	res := s.svc.IntakeNotification(r.Context(), ops.Callback{
		Channel: ch, Header: r.Header, Body: body, RemoteAddr: sender, ReceivedAt: time.Now(),
		Forbidden: !s.allowed(sender), Oversized: oversized,
	})
	reply := res.Reply
	if reply.ContentType != "" {
		w.Header().Set("Content-Type", reply.ContentType)
	}
	w.WriteHeader(reply.Status)
	_, _ = w.Write(reply.Body)
	attrs := []any{"id", res.NotificationID, "channel", ch, "remote", sender, "verify", res.Verify, "apply", res.Apply,
		"status", reply.Status, "ms", time.Since(start).Milliseconds()}
	if n := res.Notification; n != nil {
		attrs = append(attrs, "event", n.Event, "out_trade_no", n.OutTradeNo, "trade_no", n.TradeNo, "amount", n.Amount.String())
	}
	if k := res.VerifyKey(); k != "" {
		attrs = append(attrs, "key", k)
	}
	if res.Detail != "" {
		attrs = append(attrs, "detail", res.Detail)
	}
	level := slog.LevelInfo
	if res.Apply.Failed() {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, "notification", attrs...)
}

// sender is the caller's address: the peer, or the client a trusted
// reverse proxy names in X-Forwarded-For.
func (s *Server) sender(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !inAny(s.cfg.TrustedProxies, peer.Unmap()) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return host
	}
	// The last entry is the one the trusted proxy added; earlier ones are
	// whatever the client claimed.
	parts := strings.Split(xff[len(xff)-1], ",")
	if c := strings.TrimSpace(parts[len(parts)-1]); c != "" {
		return c
	}
	return host
}

func (s *Server) allowed(sender string) bool {
	if len(s.cfg.AllowedCIDRs) == 0 {
		return true
	}
	a, err := netip.ParseAddr(sender)
	return err == nil && inAny(s.cfg.AllowedCIDRs, a.Unmap())
}

func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	err := s.svc.Health(r.Context())
	status, body := http.StatusOK, map[string]any{"status": "ok", "channels": s.svc.Channels()}
	if err != nil {
		status, body = http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": err.Error()}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// sweep finishes, every SweepEvery, the callbacks of replicas that died
// mid-intake and did not come back (a restarted one finishes them itself).
func (s *Server) sweep(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.svc.ResumeInterrupted(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("finishing interrupted notifications failed", "err", err)
			}
		}
	}
}

// ListenAndServe serves until ctx ends, then shuts down gracefully:
// in-flight notifications finish (within grace) before it returns. ready,
// when set, is called with the bound address once listening.
func (s *Server) ListenAndServe(ctx context.Context, grace time.Duration, ready func(addr string)) error {
	if _, err := s.svc.StartIntake(ctx); err != nil {
		return fmt.Errorf("start taking notifications: %w", err)
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Listen, err)
	}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadTimeout:       s.cfg.ReadTimeout,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		// The platforms send a few hundred bytes of headers; the default
		// 1 MB would let anyone store a megabyte per request in them.
		MaxHeaderBytes: 64 << 10,
		WriteTimeout:   s.cfg.WriteTimeout,
		IdleTimeout:    60 * time.Second,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	sweepDone := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer func() { stopSweep(); <-sweepDone }()
	go s.sweep(sweepCtx, sweepDone)
	s.log.Info("serving notifications", "addr", ln.Addr().String(), "channels", s.svc.Channels(), "allowlist", len(s.cfg.AllowedCIDRs))
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight notifications")
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
