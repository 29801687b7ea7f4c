package wechat

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/validators"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/paydesk/paydesk/gateway"
)

// platformKeys are the keys WeChat Pay signs answers and notifications
// with, chosen by the serial each signature names (Wechatpay-Serial): a
// PUB_KEY_ID_… serial is the platform public key (微信支付公钥), any other is
// a platform certificate's serial (微信支付平台证书). While a merchant moves
// from certificates to the public key, WeChat signs a growing share of its
// callbacks with the new key, so both verify side by side.
//
// Verification itself is the SDK's: its combined verifier when both kinds
// are configured, else its public-key or certificate verifier. platformKeys
// decides first whether the serial is known at all, so an unknown one is
// told apart from a bad signature and named (gateway.UnknownKeyError).
type platformKeys struct {
	pubKeyID string
	pubKey   *rsa.PublicKey // nil without a public key
	certs    *certStore     // nil without certificates (files or download)
	sdk      auth.Verifier
}

func newPlatformKeys(pubKeyID string, pubKey *rsa.PublicKey, certs *certStore) (*platformKeys, error) {
	k := &platformKeys{pubKeyID: pubKeyID, pubKey: pubKey, certs: certs}
	switch {
	case pubKey != nil && certs != nil:
		k.sdk = verifiers.NewSHA256WithRSACombinedVerifier(certs, pubKeyID, *pubKey)
	case pubKey != nil:
		k.sdk = verifiers.NewSHA256WithRSAPubkeyVerifier(pubKeyID, *pubKey)
	case certs != nil:
		k.sdk = verifiers.NewSHA256WithRSAVerifier(certs)
	default:
		return nil, errors.New("wechat: no platform key: configure the platform public key, platform certificates, or certificate download")
	}
	return k, nil
}

// Verify checks a signature under the key its serial names; a serial that
// names no key of ours is a *gateway.UnknownKeyError.
func (k *platformKeys) Verify(ctx context.Context, serial, message, signature string) error {
	if _, ok := k.describe(ctx, serial); !ok {
		return &gateway.UnknownKeyError{Serial: serial}
	}
	return k.sdk.Verify(ctx, serial, message, signature)
}

// GetSerial is the serial of the key a request's sensitive fields would be
// encrypted for (paydesk sends none); part of auth.Verifier.
func (k *platformKeys) GetSerial(ctx context.Context) (string, error) { return k.sdk.GetSerial(ctx) }

// describe names the key a serial selects, as notification details show it.
func (k *platformKeys) describe(ctx context.Context, serial string) (string, bool) {
	if k.pubKey != nil && serial == k.pubKeyID {
		return "public key " + serial, true
	}
	if k.certs != nil {
		if _, ok := k.certs.Get(ctx, serial); ok {
			return "platform certificate " + serial, true
		}
	}
	return "", false
}

// certStore is the platform certificates a merchant has: those configured
// as files, and, with download on, every one /v3/certificates has ever
// delivered in this process. None is dropped when the platform stops
// listing it, so a replay of an old callback still finds its key. It is
// the SDK's core.CertificateGetter for its certificate verifier.
type certStore struct {
	mu       sync.Mutex
	certs    map[string]*x509.Certificate
	download *certDownload // nil: files only
}

// newCertStore reads PEM certificates (each file may hold several).
func newCertStore(pems [][]byte, download *certDownload) (*certStore, error) {
	if len(pems) == 0 && download == nil {
		return nil, nil
	}
	s := &certStore{certs: map[string]*x509.Certificate{}, download: download}
	for i, b := range pems {
		n := 0
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("platform certificate file %d: %w", i+1, err)
			}
			if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
				return nil, fmt.Errorf("platform certificate file %d: certificate %s holds no RSA key", i+1, utils.GetCertificateSerialNumber(*c))
			}
			s.certs[utils.GetCertificateSerialNumber(*c)] = c
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("platform certificate file %d: no certificate in it", i+1)
		}
	}
	return s, nil
}

// Get finds a certificate by serial. An unknown serial with download on
// first fetches the platform's current list (at most once a minute: a
// flood of forged serials must not become a flood of downloads).
func (s *certStore) Get(ctx context.Context, serial string) (*x509.Certificate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.certs[serial]; ok && !s.staleLocked() {
		return c, true
	}
	s.refreshLocked(ctx)
	c, ok := s.certs[serial]
	return c, ok
}

// GetAll returns every known certificate.
func (s *certStore) GetAll(ctx context.Context) map[string]*x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*x509.Certificate, len(s.certs))
	for k, v := range s.certs {
		out[k] = v
	}
	return out
}

// GetNewestSerial is the serial of the certificate that became valid last.
func (s *certStore) GetNewestSerial(ctx context.Context) string {
	return core.NewCertificateMap(s.GetAll(ctx)).GetNewestSerial(ctx)
}

func (s *certStore) staleLocked() bool {
	return s.download != nil && s.download.stale()
}

func (s *certStore) refreshLocked(ctx context.Context) {
	if s.download == nil {
		return
	}
	for serial, c := range s.download.fetch(ctx) {
		s.certs[serial] = c
	}
}

// certDownload fetches platform certificates through /v3/certificates with
// the SDK's CertificateDownloader: the answer is signed, and each
// certificate comes AES-256-GCM encrypted under the APIv3 key.
//
// The first answer cannot be checked against a certificate paydesk does not
// have yet; WeChat Pay's own downloader tool checks it with the
// certificates it delivered (github.com/wechatpay-apiv3/CertificateDownloader,
// README "安全性说明"). The SDK's downloader does the same from its second
// download on, so the first fetch downloads twice and keeps the list only
// when the second answer verifies under it. Later fetches are checked
// against the certificates held.
type certDownload struct {
	client   *core.Client // the API client without answer validation (the downloader brings its own)
	apiV3Key string
	now      func() time.Time

	mu      sync.Mutex
	sdk     *downloader.CertificateDownloader
	tried   time.Time // last attempt
	fetched time.Time // last success
	err     error
}

// Refresh limits: WeChat Pay asks for the list to be fetched at least every
// 12 hours (new certificates are listed a day before they sign), and a
// missing serial triggers a fetch no more than once a minute.
const (
	certRefreshEvery = 12 * time.Hour
	certRetryGap     = time.Minute
	certFetchTimeout = 15 * time.Second
)

func newCertDownload(c *core.Client, apiV3Key string) *certDownload {
	return &certDownload{client: core.NewClientWithValidator(c, &validators.NullValidator{}), apiV3Key: apiV3Key, now: time.Now}
}

func (d *certDownload) stale() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fetched.IsZero() || d.now().Sub(d.fetched) > certRefreshEvery
}

// fetch downloads the current list, unless the last attempt was under a
// minute ago; it returns what it got (nothing on failure, kept in err).
func (d *certDownload) fetch(ctx context.Context) map[string]*x509.Certificate {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.tried.IsZero() && d.now().Sub(d.tried) < certRetryGap {
		return nil
	}
	d.tried = d.now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), certFetchTimeout)
	defer cancel()
	if d.sdk == nil {
		first, err := downloader.NewCertificateDownloaderWithClient(ctx, d.client, d.apiV3Key)
		if err != nil {
			d.err = fmt.Errorf("wechat: downloading platform certificates: %w", err)
			return nil
		}
		d.sdk = first
	}
	// On the first fetch this is the second download, which the SDK checks
	// against the certificates the first one delivered.
	if err := d.sdk.DownloadCertificates(ctx); err != nil {
		if d.fetched.IsZero() {
			d.sdk = nil // nothing verified yet: trust nothing from it
		}
		d.err = fmt.Errorf("wechat: downloading platform certificates: %w", err)
		return nil
	}
	d.fetched, d.err = d.now(), nil
	return d.sdk.GetAll(ctx)
}

// Err is the last download failure, nil after a success.
func (d *certDownload) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}
