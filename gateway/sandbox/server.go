package sandbox

import (
	"context"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Config sets up a sandbox. Keys and identities are required; the rest has
// defaults.
type Config struct {
	Keys Keys

	// Channels served; default both.
	Channels []gateway.Channel

	// NotifyURL is where each channel's notifications go unless a trade
	// names its own.
	NotifyURL map[gateway.Channel]string

	// RetryDelays are the gaps between notification attempts per channel;
	// default the platforms' own schedules (Alipay: 4m 10m 10m 1h 2h 6h 15h;
	// WeChat: 15s 15s 30s 3m 10m 20m 30m 30m 30m 60m 3h 3h 3h 6h 6h). Tests
	// use milliseconds.
	RetryDelays map[gateway.Channel][]time.Duration

	// DeliveryTimeout bounds one notification attempt; default 10s.
	DeliveryTimeout time.Duration

	// Zone is the platforms' zone for bills; default Asia/Shanghai.
	Zone *time.Location

	// Now is the clock; default time.Now.
	Now func() time.Time

	// Seed makes trade numbers and buyer ids repeatable; 0 picks one.
	Seed uint64

	// WeChatSign is which key WeChat Pay signs answers and notifications
	// with: the public key (default), the platform certificate, or either
	// at random (mixed).
	WeChatSign WeChatSign

	// AlipaySignType is the simulated app's sign type for notifications:
	// "RSA2" (default) or "RSA" (SHA1withRSA, older apps). The gateway
	// takes requests of either type and answers in the request's.
	AlipaySignType string
	// AlipayCharset is the charset trades are created in, which their
	// notifications are sent in: "utf-8" (default) or "gbk".
	AlipayCharset string

	Logger *slog.Logger

	// Legacy protocols (see wechat_v2.go, alipay_mapi.go).

	// WeChatAPI is the generation of the WeChat notifications sent unless
	// a trade's fault says otherwise: "v3" (default) or "v2" (XML signed
	// with WeChatV2SignType, "MD5" by default, or "HMAC-SHA256"). It also
	// decides which client config WriteClientFiles writes.
	WeChatAPI        string
	WeChatV2SignType string
	// MapiNotifyIDLife is how long notify_verify confirms a notify_id after
	// the notification that carried it was sent; default one minute, the
	// lifetime Alipay's own demo code gives.
	MapiNotifyIDLife time.Duration
}

// Server is a running (or ready to run) sandbox.
type Server struct {
	cfg   Config
	sides map[gateway.Channel]side

	mu     sync.Mutex
	rand   *rand.Rand // guarded by mu
	trades map[tradeKey]*Trade
	order  []tradeKey
	faults map[tradeKey]*Fault // key with out == "" is the channel-wide fault
	// movements are account movements added to the fund bills besides the
	// trades' own (withdrawals, deductions, transfers in).
	movements map[gateway.Channel][]FundMovement

	wechatCert *WeChatCert // the platform certificate; nil without WeChat

	deliveries deliveryLog
	// notifyTransport carries notifications to the merchant. It is the
	// sandbox's own, so Close can close its idle connections: a merchant
	// endpoint shutting down gracefully waits for a connection that never
	// carried a request (Go's transport dials spares) as if one were coming.
	notifyTransport *http.Transport

	ln      net.Listener
	httpSrv *http.Server
	baseURL string
	tls     *sandboxTLS // made by Start
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// side is one simulated platform's wire protocol: its HTTP routes, its
// notification format and acknowledgment, its identifiers and its bill.
type side interface {
	routes(mux *http.ServeMux)
	// notification builds the signed request body and headers of an event,
	// with the event's faults (bad signature, tampered amount) applied.
	notification(ev Event) (http.Header, []byte, error)
	// acknowledged says whether the merchant's answer ends the retries.
	acknowledged(status int, body []byte) bool
	newTradeNo(r *rand.Rand, at time.Time) string
	newRefundID(r *rand.Rand, at time.Time) string
	newBuyerID(r *rand.Rand) string
}

// New prepares a sandbox; Start makes it listen.
func New(cfg Config) (*Server, error) {
	if err := cfg.Keys.validate(); err != nil {
		return nil, err
	}
	if err := fillLegacyKeys(&cfg.Keys); err != nil {
		return nil, err
	}
	switch cfg.WeChatAPI {
	case "":
		cfg.WeChatAPI = "v3"
	case "v2", "v3":
	default:
		return nil, fmt.Errorf("sandbox: WeChatAPI %q: want v2 or v3", cfg.WeChatAPI)
	}
	switch cfg.WeChatV2SignType {
	case "":
		cfg.WeChatV2SignType = v2MD5
	case v2MD5, v2HMAC:
	default:
		return nil, fmt.Errorf("sandbox: WeChatV2SignType %q: want MD5 or HMAC-SHA256", cfg.WeChatV2SignType)
	}
	if cfg.MapiNotifyIDLife == 0 {
		cfg.MapiNotifyIDLife = time.Minute
	}
	if cfg.Zone == nil {
		cfg.Zone = gateway.Shanghai
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DeliveryTimeout == 0 {
		cfg.DeliveryTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Channels) == 0 {
		cfg.Channels = gateway.Channels
	}
	if _, err := ParseWeChatSign(string(cfg.WeChatSign)); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if cfg.WeChatSign == "" {
		cfg.WeChatSign = WeChatSignPubKey
	}
	switch cfg.AlipaySignType {
	case "", alipaySignRSA2, alipaySignRSA:
	default:
		return nil, fmt.Errorf("sandbox: alipay sign type %q: want RSA2 or RSA", cfg.AlipaySignType)
	}
	switch strings.ToLower(cfg.AlipayCharset) {
	case "", "utf-8", "gbk":
	default:
		return nil, fmt.Errorf("sandbox: alipay charset %q: want utf-8 or gbk", cfg.AlipayCharset)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Server{
		cfg:    cfg,
		sides:  map[gateway.Channel]side{},
		rand:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		trades: map[tradeKey]*Trade{},
		faults: map[tradeKey]*Fault{},

		movements: map[gateway.Channel][]FundMovement{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.notifyTransport = http.DefaultTransport.(*http.Transport).Clone()
	for _, ch := range cfg.Channels {
		switch ch {
		case gateway.Alipay:
			s.sides[ch] = newAlipaySide(s)
		case gateway.WeChat:
			if cfg.Keys.WeChatPlatformCertKey == nil {
				// Keys saved before the sandbox had certificates.
				k, err := rsa.GenerateKey(cryptorand.Reader, 2048)
				if err != nil {
					return nil, err
				}
				s.cfg.Keys.WeChatPlatformCertKey = k
			}
			c, err := newWeChatCert(s.cfg.Keys)
			if err != nil {
				return nil, err
			}
			s.wechatCert = c
			s.sides[ch] = newWeChatSide(s)
		default:
			return nil, fmt.Errorf("%w: %q", errUnknownChannel, ch)
		}
	}
	return s, nil
}

// Handler serves both platforms' APIs and the sandbox's control API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, sd := range s.sides {
		sd.routes(mux)
	}
	s.controlRoutes(mux)
	return mux
}

// Start listens on addr ("127.0.0.1:0" picks a port) and serves until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen %s: %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	if s.tls, err = newSandboxTLS(s.cfg.Keys, host); err != nil {
		ln.Close()
		return err
	}
	// HTTPS on the same port, for v2 refunds' mutual TLS (tls.go).
	ln = newSniffListener(ln, s.tls.config())
	s.ln = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("sandbox serve", "err", err)
		}
	}()
	s.cfg.Logger.Info("sandbox listening", "url", s.baseURL)
	return nil
}

// URL is the base URL the sandbox listens on ("http://127.0.0.1:PORT").
func (s *Server) URL() string { return s.baseURL }

// TLSURL is the same listener over HTTPS ("https://127.0.0.1:PORT"), with a
// certificate from the sandbox's CA (CACertPEM).
func (s *Server) TLSURL() string { return "https://" + strings.TrimPrefix(s.baseURL, "http://") }

// CACertPEM is the certificate of the CA that issues the sandbox's HTTPS
// certificate and the merchant API certificate; valid after Start.
func (s *Server) CACertPEM() []byte { return s.tls.caPEM }

// MerchantCertPEM is the merchant API certificate (apiclient_cert.pem) for
// Keys.WeChatMerchantKey that v2 refunds must present; valid after Start.
func (s *Server) MerchantCertPEM() []byte { return s.tls.merchant }

// Keys are the sandbox's keys, with the legacy protocols' filled in.
func (s *Server) Keys() Keys { return s.cfg.Keys }

// Close stops listening and stops delivering notifications.
func (s *Server) Close() error {
	s.cancel()
	var err error
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = s.httpSrv.Shutdown(ctx)
		if err != nil {
			err = s.httpSrv.Close()
		}
	}
	s.wg.Wait()
	s.notifyTransport.CloseIdleConnections()
	return err
}

// SetNotifyURL changes where a channel's notifications go (trades created
// afterwards; and deliveries not yet started for trades without their own).
func (s *Server) SetNotifyURL(ch gateway.Channel, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.NotifyURL == nil {
		s.cfg.NotifyURL = map[gateway.Channel]string{}
	}
	s.cfg.NotifyURL[ch] = url
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// Zone is the zone bills are cut in.
func (s *Server) Zone() *time.Location { return s.cfg.Zone }

// randDigits returns n random decimal digits.
func (s *Server) randDigits(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return randDigits(s.rand, n)
}

func randDigits(r *rand.Rand, n int) string {
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}
