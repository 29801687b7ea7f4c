package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// WeChatSign is which of its keys the simulated WeChat Pay signs answers
// and notifications with, as the Wechatpay-Serial header names it.
type WeChatSign string

const (
	// WeChatSignPubKey: the platform public key (微信支付公钥), serial
	// PUB_KEY_ID_…, the mode of new merchants.
	WeChatSignPubKey WeChatSign = "pubkey"
	// WeChatSignCert: the platform certificate (微信支付平台证书), serial the
	// certificate's serial number, the mode most merchants still run.
	WeChatSignCert WeChatSign = "cert"
	// WeChatSignMixed: each message signed by either, at random, half and
	// half: the week of a merchant's move from certificates to the public
	// key, when WeChat signs a growing share with the new key.
	WeChatSignMixed WeChatSign = "mixed"
)

// ParseWeChatSign reads a --wechat-sign value.
func ParseWeChatSign(s string) (WeChatSign, error) {
	switch m := WeChatSign(s); m {
	case WeChatSignPubKey, WeChatSignCert, WeChatSignMixed:
		return m, nil
	case "":
		return WeChatSignPubKey, nil
	}
	return "", fmt.Errorf("wechat sign mode %q: want pubkey, cert or mixed", s)
}

// WeChatCert is the simulated platform certificate: WeChatPlatformCertKey's
// public key, issued by a stand-in for "Tenpay.com Root CA" (the sandbox
// signs it with its public-key key; nothing checks the chain, as the real
// one is checked by hand against WeChat's CertTrustChain.p7b).
type WeChatCert struct {
	Serial string // uppercase hex, as Wechatpay-Serial and serial_no carry it
	Cert   *x509.Certificate
	PEM    []byte
}

// newWeChatCert issues the certificate. Its serial is derived from the key,
// so one key always has one serial across restarts, and its validity is
// fixed, so the same keys give the same certificate.
func newWeChatCert(k Keys) (*WeChatCert, error) {
	pubDER, err := x509.MarshalPKIXPublicKey(&k.WeChatPlatformCertKey.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(pubDER)
	sum[0] = 0x40 | sum[0]&0x3f // 20 positive bytes: 40 hex digits, like the platform's
	rootName := pkix.Name{CommonName: "Tenpay.com Root CA (sandbox)", Organization: []string{"Tenpay.com"}, OrganizationalUnit: []string{"Tenpay.com CA Center"}, Country: []string{"CN"}}
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: rootName, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, gateway.Shanghai), NotAfter: time.Date(2060, 1, 1, 0, 0, 0, 0, gateway.Shanghai)}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sum[:]),
		Subject: pkix.Name{CommonName: "Tenpay.com sign", Organization: []string{"Tenpay.com"}, OrganizationalUnit: []string{"Tenpay.com CA Center"},
			Locality: []string{"Shenzhen"}, Province: []string{"Guangdong"}, Country: []string{"CN"}},
		NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, gateway.Shanghai),
		// Real platform certificates last five years; this one outlives
		// every test run.
		NotAfter: time.Date(2055, 1, 1, 0, 0, 0, 0, gateway.Shanghai),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, &k.WeChatPlatformCertKey.PublicKey, k.WeChatPlatformKey)
	if err != nil {
		return nil, fmt.Errorf("sandbox: wechat platform certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &WeChatCert{Serial: fmt.Sprintf("%X", c.SerialNumber.Bytes()), Cert: c, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// WeChatCert is the simulated platform certificate (nil without WeChat).
func (s *Server) WeChatCert() *WeChatCert { return s.wechatCert }

// SetWeChatSign changes which key signs from now on.
func (s *Server) SetWeChatSign(m WeChatSign) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.WeChatSign = m
}

// wechatSigner is one key the platform signs with and the serial naming it.
type wechatSigner struct {
	key    *rsa.PrivateKey
	serial string
}

// signer picks the key for one message by the sign mode; mixed draws from
// the sandbox's seeded source, so a seeded run repeats its sequence.
func (w *wechatSide) signer() wechatSigner {
	s := w.s
	pub := wechatSigner{s.cfg.Keys.WeChatPlatformKey, s.cfg.Keys.WeChatPlatformKeyID}
	cert := w.certSigner()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.cfg.WeChatSign {
	case WeChatSignCert:
		return cert
	case WeChatSignMixed:
		if s.rand.IntN(2) == 0 {
			return cert
		}
	}
	return pub
}

func (w *wechatSide) certSigner() wechatSigner {
	return wechatSigner{w.s.cfg.Keys.WeChatPlatformCertKey, w.s.wechatCert.Serial}
}

// wechatCertificatesPath lists the platform certificates.
const wechatCertificatesPath = "/v3/certificates"

// wechatCertificates is the answer of GET /v3/certificates
// (https://pay.weixin.qq.com/wiki/doc/apiv3_partner/wechatpay/wechatpay5_1.shtml):
// each certificate AES-256-GCM encrypted under the APIv3 key with
// associated_data "certificate", as the SDK's downloader decrypts it
// (wechatpay-go core/downloader).
type wechatCertificates struct {
	Data []wechatCertificate `json:"data"`
}

type wechatCertificate struct {
	SerialNo           string         `json:"serial_no"`
	EffectiveTime      string         `json:"effective_time"`
	ExpireTime         string         `json:"expire_time"`
	EncryptCertificate wechatResource `json:"encrypt_certificate"`
}

// GET /v3/certificates. The answer is signed with the platform certificate
// itself, whatever the sign mode: it is the certificate the answer
// delivers, which is how WeChat Pay's downloader checks it.
func (w *wechatSide) handleCertificates(rw http.ResponseWriter, r *http.Request) {
	if _, ok := w.authenticate(rw, r); !ok {
		return
	}
	f := w.s.fault(gateway.WeChat, "")
	if !w.s.beforeAPI(rw, r, f) || !w.s.afterAPI(r, f) {
		return
	}
	c := w.s.wechatCert
	z := w.s.Zone()
	res := wechatResource{Algorithm: "AEAD_AES_256_GCM", AssociatedData: "certificate", Nonce: wechatToken(12)}
	sealed, err := w.seal(res, c.PEM)
	if err != nil {
		http.Error(rw, "sandbox: "+err.Error(), http.StatusInternalServerError)
		return
	}
	res.Ciphertext = sealed
	w.replyWith(rw, http.StatusOK, wechatCertificates{Data: []wechatCertificate{{
		SerialNo: c.Serial, EffectiveTime: c.Cert.NotBefore.In(z).Format(time.RFC3339), ExpireTime: c.Cert.NotAfter.In(z).Format(time.RFC3339),
		EncryptCertificate: res,
	}}}, w.certSigner())
}
