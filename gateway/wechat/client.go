// Package wechat is paydesk's WeChat Pay APIv3 client: trade and refund
// queries, refunds and trade- and fund-bill downloads through the official
// SDK (github.com/wechatpay-apiv3/wechatpay-go), answers and notifications
// verified under the platform public key or a platform certificate as
// their Wechatpay-Serial names it, notification verification with the
// SDK's notify handler, and hand-written parsers for the trade bill
// (OpenBill) and the fund bill (资金账单, OpenFundBill), registered with
// gateway by channel and kind.
//
// Use:
//
//	c, err := wechat.New(wechat.Config{
//		MchID: "1900000109", AppID: "wx...", MerchantSerialNo: "5157F0...",
//		PrivateKeyPEM: apiclientKeyPEM, APIv3Key: os.Getenv("PAYDESK_WECHAT_APIV3_KEY"),
//		PlatformPublicKeyID: "PUB_KEY_ID_...", PlatformPublicKeyPEM: wechatpayPubPEM, // and/or
//		PlatformCertPEMs: [][]byte{wechatpayCertPEM},                              // or PlatformCertDownload: true
//		BaseURL: cfg.BaseURL, // "" for the real platform, the sandbox's URL otherwise
//	})
//	trade, err := c.QueryTrade(ctx, outTradeNo)
//	f, err := c.DownloadBill(ctx, day, file) // the verified text bill
//	br, err := c.OpenBill(f.Name, file)      // rewound file; or wechat.OpenBill for a file from elsewhere
//	for { line, err := br.Next(); ... }      // io.EOF only once the summary matched the rows
//
// WeChat Pay v2 (XML, MD5 or HMAC-SHA256 sign, mutual-TLS refunds) is
// V2Client, on github.com/go-pay/gopay's wechat package (v2_*.go).
// Merchant puts a merchant's APIv3 and v2 clients behind one
// gateway.Platform: calls go through the configured generation,
// notifications to the one whose protocol the body is in.
package wechat

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/validators"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/paydesk/paydesk/gateway"
)

// DefaultBaseURL is WeChat Pay's API server, where the SDK sends everything.
const DefaultBaseURL = "https://api.mch.weixin.qq.com"

// Config is one merchant account at WeChat Pay. Answers and notifications
// are verified with the platform public key (微信支付公钥), with platform
// certificates (微信支付平台证书: files, or downloaded through
// /v3/certificates), or both, chosen by the serial each signature names.
type Config struct {
	MchID            string // 商户号
	AppID            string // the appid the merchant's orders are made under
	MerchantSerialNo string // serial of the merchant API certificate
	PrivateKeyPEM    []byte // apiclient_key.pem, PKCS#1 or PKCS#8
	// APIv3Key decrypts notification resources: exactly 32 bytes, as the
	// merchant platform issues it.
	APIv3Key string
	// PlatformPublicKeyID names the platform public key (PUB_KEY_ID_...).
	PlatformPublicKeyID  string
	PlatformPublicKeyPEM []byte // PKIX "PUBLIC KEY" (or a certificate holding the key)
	// PlatformCertPEMs are platform certificate files (wechatpay_*.pem as
	// the merchant downloaded them), each selected by its serial number.
	PlatformCertPEMs [][]byte
	// PlatformCertDownload fetches (and every 12 hours, or on an unknown
	// serial, refreshes) the platform certificates through
	// /v3/certificates with the SDK's CertificateDownloader, on first use.
	PlatformCertDownload bool
	// RefundNotifyURL is sent as each refund's notify_url: where WeChat
	// Pay posts REFUND.* notifications (ahead of the address configured
	// in the merchant platform). Empty sends none.
	RefundNotifyURL string
	// BaseURL replaces scheme and host of every request the SDK makes
	// (default DefaultBaseURL); the sandbox's URL in tests and the demo.
	BaseURL string
	// HTTPClient carries the requests; nil means one with a 30 s timeout.
	// It is copied, never changed.
	HTTPClient *http.Client
	// Zone is where business days and bill times are read; nil means
	// gateway.Shanghai.
	Zone *time.Location
}

// Client is a gateway.Platform for one WeChat Pay merchant.
type Client struct {
	cfg       Config
	core      *core.Client
	validator *validators.WechatPayResponseValidator // checks signed answers, also refusals
	notify    *notifyVerifier
}

var _ gateway.Platform = (*Client)(nil)

// New checks the configuration and builds the client. Nothing goes over the
// network.
func New(cfg Config) (*Client, error) {
	var missing []string
	for name, v := range map[string]string{"MchID": cfg.MchID, "AppID": cfg.AppID, "MerchantSerialNo": cfg.MerchantSerialNo} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	hasPubKey := len(cfg.PlatformPublicKeyPEM) > 0 || cfg.PlatformPublicKeyID != ""
	switch {
	case hasPubKey && (len(cfg.PlatformPublicKeyPEM) == 0 || strings.TrimSpace(cfg.PlatformPublicKeyID) == ""):
		missing = append(missing, "PlatformPublicKeyID and PlatformPublicKeyPEM (both, for the public key)")
	case !hasPubKey && len(cfg.PlatformCertPEMs) == 0 && !cfg.PlatformCertDownload:
		missing = append(missing, "a platform key (PlatformPublicKeyID and PlatformPublicKeyPEM, PlatformCertPEMs, or PlatformCertDownload)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("wechat: config is missing %s", strings.Join(sortedStrings(missing), ", "))
	}
	if len(cfg.APIv3Key) != 32 {
		// Checked here so a truncated key fails at start instead of on
		// every notification. The length is said, never the key.
		return nil, fmt.Errorf("wechat: the APIv3 key must be 32 bytes, got %d", len(cfg.APIv3Key))
	}
	if err := checkNotifyURL(cfg.RefundNotifyURL); err != nil {
		return nil, err
	}
	merchantKey, err := parsePrivateKey(cfg.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("wechat: merchant private key: %w", err)
	}
	var platformKey *rsa.PublicKey
	if hasPubKey {
		if platformKey, err = ParsePublicKey(cfg.PlatformPublicKeyPEM); err != nil {
			return nil, fmt.Errorf("wechat: platform public key: %w", err)
		}
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Zone == nil {
		cfg.Zone = gateway.Shanghai
	}
	httpClient := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		httpClient = &c
	}
	httpClient.Transport = &rewriteTransport{base: base, next: httpClient.Transport}

	// The client signs with the merchant key; its answers are checked
	// under whichever platform key their serial names (keys, below).
	c, err := core.NewClient(context.Background(),
		option.WithMerchantCredential(cfg.MchID, cfg.MerchantSerialNo, merchantKey),
		option.WithoutValidator(),
		option.WithHTTPClient(httpClient),
	)
	if err != nil {
		return nil, fmt.Errorf("wechat: %w", err)
	}
	var download *certDownload
	if cfg.PlatformCertDownload {
		download = newCertDownload(c, cfg.APIv3Key)
	}
	certs, err := newCertStore(cfg.PlatformCertPEMs, download)
	if err != nil {
		return nil, fmt.Errorf("wechat: %w", err)
	}
	keys, err := newPlatformKeys(cfg.PlatformPublicKeyID, platformKey, certs)
	if err != nil {
		return nil, err
	}
	validator := validators.NewWechatPayResponseValidator(keys)
	nv, err := newNotifyVerifier(cfg.MchID, cfg.AppID, cfg.APIv3Key, keys)
	if err != nil {
		return nil, err
	}
	return &Client{
		cfg:       cfg,
		core:      core.NewClientWithValidator(c, validator),
		validator: validator,
		notify:    nv,
	}, nil
}

// OpenBill reads a trade bill with times in the Config's zone (see the
// package function OpenBill).
func (c *Client) OpenBill(name string, r io.Reader) (gateway.BillReader, error) {
	return OpenBillIn(name, r, c.cfg.Zone)
}

// Channel is gateway.WeChat.
func (c *Client) Channel() gateway.Channel { return gateway.WeChat }

func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("wechat: base URL %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("wechat: base URL %q: want http(s)://host[:port]", s)
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		// The SDK signs the path it thinks it calls (/v3/...); a prefix
		// added on the way would break every signature.
		return nil, fmt.Errorf("wechat: base URL %q: must not have a path", s)
	}
	return u, nil
}

func parsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errors.New("neither PKCS#1 nor PKCS#8")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// ParsePublicKey reads an RSA public key from PEM: PKIX ("PUBLIC KEY", the
// form the merchant platform hands out), PKCS#1 ("RSA PUBLIC KEY"), or a
// certificate, whose key is taken (older platform certificates).
func ParsePublicKey(b []byte) (*rsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch blk.Type {
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(blk.Bytes); err == nil {
			key = cert.PublicKey
		}
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(blk.Bytes)
	default:
		key, err = x509.ParsePKIXPublicKey(blk.Bytes)
	}
	if err != nil {
		return nil, err
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// rewriteTransport sends the SDK's requests, which always name WeChat's own
// hosts, to the configured base URL. Only scheme and host change: path and
// query stay as the SDK signed them. Requests to any other host (a download
// URL the platform gave) go out unchanged.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	switch req.URL.Host {
	case "api.mch.weixin.qq.com", "api2.mch.weixin.qq.com":
	default:
		return next.RoundTrip(req)
	}
	if req.URL.Scheme == t.base.Scheme && req.URL.Host == t.base.Host {
		return next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
	r.Host = "" // the Host header follows the new URL
	return next.RoundTrip(r)
}
