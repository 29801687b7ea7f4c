package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// AlipayCerts are the files of Alipay's certificate mode (公钥证书模式), as a
// merchant downloads them: the Alipay root certificate(s), Alipay's public
// key certificate, and the app's public key certificate, with the serial
// numbers requests and responses carry.
type AlipayCerts struct {
	RootPEM       []byte // alipayRootCert.crt: an RSA root and an ECDSA root, like the real file
	AlipayCertPEM []byte // alipayCertPublicKey_RSA2.crt: the key that signs responses and notifications
	AppCertPEM    []byte // appCertPublicKey_<app_id>.crt: the merchant app key

	RootCertSN   string // alipay_root_cert_sn requests must carry
	AlipayCertSN string // alipay_cert_sn responses carry
	AppCertSN    string // app_cert_sn requests must carry
}

// AlipayCertSN is a certificate's serial number as Alipay computes it: the
// hex MD5 of the issuer's distinguished name (RFC 2253 order) followed by
// the decimal serial number.
func AlipayCertSN(c *x509.Certificate) string {
	sum := md5.Sum([]byte(c.Issuer.String() + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

// AlipayRootCertSN is the alipay_root_cert_sn of a root certificate file:
// the serial numbers of its RSA-signed certificates joined with "_". The
// file's other roots (ECDSA, SM2) do not count.
func AlipayRootCertSN(rootPEM []byte) (string, error) {
	var sns []string
	rest := rootPEM
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			continue // the real file holds an SM2 root Go cannot parse
		}
		if c.SignatureAlgorithm == x509.SHA256WithRSA || c.SignatureAlgorithm == x509.SHA1WithRSA {
			sns = append(sns, AlipayCertSN(c))
		}
	}
	if len(sns) == 0 {
		return "", errors.New("no RSA root certificate in the file")
	}
	return strings.Join(sns, "_"), nil
}

// NewAlipayCerts makes a certificate set for the keys: an RSA root (and an
// ECDSA one beside it) that issues Alipay's certificate for
// AlipayPlatformKey and the app's certificate for AlipayAppKey. They are
// valid from an hour ago for five years of wall-clock time, since clients
// check them against the real clock.
func NewAlipayCerts(k Keys) (*AlipayCerts, error) {
	if k.AlipayAppKey == nil || k.AlipayPlatformKey == nil {
		return nil, errors.New("sandbox: alipay certificates need both alipay keys")
	}
	now := time.Now()
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(687), // any serial; Alipay's are small decimals too
		Subject:               pkix.Name{CommonName: "Ant Financial Certification Authority R1 (sandbox)", OrganizationalUnit: []string{"Certification Authority"}, Organization: []string{"Ant Financial"}, Country: []string{"CN"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ecTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(688),
		Subject:               pkix.Name{CommonName: "Ant Financial Certification Authority E1 (sandbox)", Organization: []string{"Ant Financial"}, Country: []string{"CN"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	ecDER, err := x509.CreateCertificate(rand.Reader, ecTmpl, ecTmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn, ou string, pub *rsa.PublicKey) ([]byte, *x509.Certificate, error) {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn, OrganizationalUnit: []string{ou}, Organization: []string{"Ant Financial (sandbox)"}, Country: []string{"CN"}},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.AddDate(5, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, root, pub, rootKey)
		if err != nil {
			return nil, nil, err
		}
		c, err := x509.ParseCertificate(der)
		return der, c, err
	}
	aliDER, aliCert, err := leaf(4100000000000001, "Alipay.com (sandbox)", "Alipay", &k.AlipayPlatformKey.PublicKey)
	if err != nil {
		return nil, err
	}
	appDER, appCert, err := leaf(4100000000000002, k.AlipayAppID, "Alipay App", &k.AlipayAppKey.PublicKey)
	if err != nil {
		return nil, err
	}
	certPEM := func(der ...[]byte) []byte {
		var out []byte
		for _, d := range der {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
		}
		return out
	}
	c := &AlipayCerts{
		RootPEM:       certPEM(rootDER, ecDER),
		AlipayCertPEM: certPEM(aliDER),
		AppCertPEM:    certPEM(appDER),
		AlipayCertSN:  AlipayCertSN(aliCert),
		AppCertSN:     AlipayCertSN(appCert),
	}
	if c.RootCertSN, err = AlipayRootCertSN(c.RootPEM); err != nil {
		return nil, err
	}
	if c.RootCertSN != AlipayCertSN(root) {
		return nil, fmt.Errorf("sandbox: root serial %s, want %s", c.RootCertSN, AlipayCertSN(root))
	}
	return c, nil
}

// SetAlipayCertMode switches the simulated Alipay to certificate mode with
// these certificates (nil: back to public-key mode): requests must then
// carry app_cert_sn and alipay_root_cert_sn, and responses carry
// alipay_cert_sn. A method rather than a Config field so the core files stay
// untouched.
func (s *Server) SetAlipayCertMode(c *AlipayCerts) error {
	sd, ok := s.sides[gateway.Alipay].(*alipaySide)
	if !ok {
		return fmt.Errorf("%w: %s", errChannelNotEnabled, gateway.Alipay)
	}
	sd.mu.Lock()
	defer sd.mu.Unlock()
	sd.certs = c
	return nil
}

func (a *alipaySide) certMode() *AlipayCerts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.certs
}

// AlipayCertFiles are the names a merchant's certificate files have when
// downloaded from the Alipay open platform, relative to a folder.
func AlipayCertFiles(appID string) (appCert, alipayCert, rootCert string) {
	return "appCertPublicKey_" + appID + ".crt", "alipayCertPublicKey_RSA2.crt", "alipayRootCert.crt"
}

// WriteFiles writes the three certificates into dir under the names
// AlipayCertFiles gives, for a client configured in certificate mode.
func (c *AlipayCerts) WriteFiles(dir, appID string) error {
	app, ali, root := AlipayCertFiles(appID)
	for name, data := range map[string][]byte{app: c.AppCertPEM, ali: c.AlipayCertPEM, root: c.RootPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("sandbox: writing %s: %w", name, err)
		}
	}
	return nil
}
