package wechat

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/pkg/xhttp"
	gpwechat "github.com/go-pay/gopay/wechat"

	"github.com/paydesk/paydesk/gateway"
)

// v2 sign types: how a v2 request, answer or notification is signed with
// the API key.
const (
	SignMD5        = "MD5"         // MD5 over k=v&...&key=API_KEY, the default
	SignHMACSHA256 = "HMAC-SHA256" // HMAC-SHA256 keyed with the API key over the same string
)

// V2Config is one merchant account on WeChat Pay's v2 API: XML bodies
// signed with the 32-character API key (商户平台 → 账户中心 → API安全 → API密钥),
// and refunds over mutual TLS with the merchant API certificate.
type V2Config struct {
	MchID string // 商户号
	AppID string // the appid the merchant's orders are made under
	// APIKey signs requests, verifies answers and notifications, and
	// (through its MD5) decrypts refund notifications: 32 characters.
	APIKey string
	// SignType is how requests are signed: SignMD5 (default) or
	// SignHMACSHA256. Answers come signed the same way.
	SignType string
	// CertPEM and KeyPEM are apiclient_cert.pem and apiclient_key.pem, the
	// merchant API certificate that /secapi/pay/refund requires (mutual
	// TLS). Without them Refund refuses before sending anything.
	CertPEM, KeyPEM []byte
	// BaseURL is where the API is (default DefaultBaseURL); the sandbox's
	// https URL in tests and the demo.
	BaseURL string
	// RefundNotifyURL is sent with each refund as notify_url: v2 sends a
	// refund's result notification only when the refund names where.
	RefundNotifyURL string
	// RootCAs verify the API server's TLS certificate; nil means the
	// system's roots (WeChat's own server). The sandbox's CA otherwise.
	RootCAs *x509.CertPool
	// HTTPClient carries the requests (its timeout and transport are used;
	// a TLS setting is added to a copy of the transport); nil means one
	// with a 30 s timeout.
	HTTPClient *http.Client
	// Zone is where business days and v2's zone-less times are read; nil
	// means gateway.Shanghai.
	Zone *time.Location
}

// V2Client is a gateway.Platform for one merchant on WeChat Pay's v2 API,
// built on github.com/go-pay/gopay's wechat (v2) client: orderquery,
// secapi/pay/refund, refundquery through the SDK, whose requests it signs;
// every answer's signature is checked here (the SDK leaves that to its
// caller). downloadbill is sent signed by the SDK's functions but read as a
// stream, because the SDK holds the whole bill in memory (see
// DownloadBill).
type V2Client struct {
	cfg     V2Config
	gp      *gpwechat.Client
	http    *http.Client // plain API calls (and bill downloads)
	mtls    *http.Client // with the merchant API certificate; nil without one
	hasCert bool
}

var _ gateway.Platform = (*V2Client)(nil)

// NewV2 checks the configuration and builds the client. Nothing goes over
// the network.
func NewV2(cfg V2Config) (*V2Client, error) {
	var missing []string
	if strings.TrimSpace(cfg.MchID) == "" {
		missing = append(missing, "MchID")
	}
	if strings.TrimSpace(cfg.AppID) == "" {
		missing = append(missing, "AppID")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("wechat v2: config is missing %s", strings.Join(missing, ", "))
	}
	if len(cfg.APIKey) != 32 {
		// The length, never the key.
		return nil, fmt.Errorf("wechat v2: the API key must be 32 characters, got %d", len(cfg.APIKey))
	}
	switch cfg.SignType {
	case "":
		cfg.SignType = SignMD5
	case SignMD5, SignHMACSHA256:
	default:
		return nil, fmt.Errorf("wechat v2: sign type %q: want %s or %s", cfg.SignType, SignMD5, SignHMACSHA256)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if _, err := parseBaseURL(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("wechat v2: %w", err)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Zone == nil {
		cfg.Zone = gateway.Shanghai
	}
	base := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		base = &c
	}
	plain, err := withTLS(base, cfg.RootCAs, nil)
	if err != nil {
		return nil, err
	}
	c := &V2Client{cfg: cfg, http: plain}

	// IsProd: the SDK's other mode calls WeChat's retired sandboxnew
	// endpoints, whatever BaseURL says.
	gp := gpwechat.NewClient(cfg.AppID, cfg.MchID, cfg.APIKey, true)
	gp.BaseURL = cfg.BaseURL
	gp.SetHttpClient(sdkHTTP(plain))
	switch {
	case len(cfg.CertPEM) > 0 && len(cfg.KeyPEM) > 0:
		cert, err := tls.X509KeyPair(cfg.CertPEM, cfg.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("wechat v2: merchant API certificate (apiclient_cert.pem with apiclient_key.pem): %w", err)
		}
		// Not the SDK's AddCertPemFileContent: it turns off verification
		// of the server's certificate (InsecureSkipVerify), and a refund
		// must only ever go to WeChat Pay.
		mtls, err := withTLS(base, cfg.RootCAs, &cert)
		if err != nil {
			return nil, err
		}
		gp.SetTLSHttpClient(sdkHTTP(mtls))
		c.mtls, c.hasCert = mtls, true
	case len(cfg.CertPEM) > 0 || len(cfg.KeyPEM) > 0:
		return nil, errors.New("wechat v2: the merchant API certificate needs both apiclient_cert.pem and apiclient_key.pem")
	}
	c.gp = gp
	return c, nil
}

// withTLS copies hc with a transport that verifies the server against
// roots (nil: the system's) and presents cert when given.
func withTLS(hc *http.Client, roots *x509.CertPool, cert *tls.Certificate) (*http.Client, error) {
	if roots == nil && cert == nil {
		return hc, nil
	}
	var tr *http.Transport
	switch t := hc.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, fmt.Errorf("wechat v2: the HTTP client's transport is a %T; mutual TLS needs an *http.Transport", t)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if tr.TLSClientConfig != nil {
		tc = tr.TLSClientConfig.Clone()
		tc.RootCAs = roots
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	tr.TLSClientConfig = tc
	c := *hc
	c.Transport = tr
	return &c, nil
}

// sdkHTTP wraps an *http.Client as the SDK's xhttp client. Its answer cap
// (10 MB by default, cut silently) is raised: v2 answers paydesk reads
// through the SDK are a few KB, so a cut one is a broken one.
func sdkHTTP(hc *http.Client) *xhttp.Client {
	x := xhttp.NewClient()
	x.HttpClient = hc
	x.SetBodySize(64)
	return x
}

// Channel is gateway.WeChat.
func (c *V2Client) Channel() gateway.Channel { return gateway.WeChat }

// params starts a request's fields: a fresh nonce, and the sign type when
// it is not the default (the SDK signs by the sign_type field).
func (c *V2Client) params() gopay.BodyMap {
	bm := gopay.BodyMap{}
	bm.Set("nonce_str", wechatNonce())
	if c.cfg.SignType != SignMD5 {
		bm.Set("sign_type", c.cfg.SignType)
	}
	return bm
}
