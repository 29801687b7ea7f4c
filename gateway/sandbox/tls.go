package sandbox

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"
)

// The sandbox speaks HTTPS beside HTTP on its one port, because WeChat Pay
// v2 refunds (/secapi/pay/refund) are only accepted over mutual TLS with
// the merchant API certificate. A CA of the sandbox's own issues both the
// server certificate and that merchant certificate (apiclient_cert.pem);
// WriteClientFiles hands the merchant the certificate and the CA to trust.

// fillLegacyKeys gives a key set made before the legacy protocols the
// material they need.
func fillLegacyKeys(k *Keys) error {
	if k.WeChatV2APIKey == "" {
		k.WeChatV2APIKey = wechatToken(32)
	}
	if k.AlipayPID == "" {
		k.AlipayPID = pidFromAppID(k.AlipayAppID)
	}
	if k.AlipayMD5Key == "" {
		k.AlipayMD5Key = wechatToken(32)
	}
	if k.TLSCAKey == nil {
		var err error
		if k.TLSCAKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return err
		}
	}
	return nil
}

// pidFromAppID makes a partner id from the app id's last 12 digits, so one
// sandbox always shows the same merchant.
func pidFromAppID(id string) string {
	digits := make([]byte, 0, 12)
	for i := len(id) - 1; i >= 0 && len(digits) < 12; i-- {
		if id[i] >= '0' && id[i] <= '9' {
			digits = append(digits, id[i])
		}
	}
	for len(digits) < 12 {
		digits = append(digits, '0')
	}
	for i, j := 0, len(digits)-1; i < j; i, j = i+1, j-1 {
		digits[i], digits[j] = digits[j], digits[i]
	}
	return "2088" + string(digits)
}

func ecKeyPEM(k *ecdsa.PrivateKey) string {
	if k == nil {
		return ""
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err) // a P-256 key always marshals
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

func parseECKeyPEM(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParseECPrivateKey(blk.Bytes)
}

// sandboxTLS is the sandbox's certificate material.
type sandboxTLS struct {
	ca       *x509.Certificate
	caPEM    []byte
	merchant []byte // apiclient_cert.pem for Keys.WeChatMerchantKey
	server   tls.Certificate
}

// newSandboxTLS issues, under the CA key, the CA certificate (the same
// subject and key every start, so a client holding an earlier copy still
// trusts it), the merchant API certificate, and a server certificate for
// host and the loopback names. Validity runs on the wall clock, which
// clients check.
func newSandboxTLS(k Keys, host string) (*sandboxTLS, error) {
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "paydesk sandbox CA (test only)", Organization: []string{"paydesk sandbox"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &k.TLSCAKey.PublicKey, k.TLSCAKey)
	if err != nil {
		return nil, fmt.Errorf("sandbox: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	out := &sandboxTLS{ca: ca, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}

	// The merchant API certificate names the merchant by its mchid (CN)
	// and carries the serial the APIv3 side knows it by.
	serial := randomSerial()
	if b, err := hex.DecodeString(k.WeChatMerchantSerialNo); err == nil && len(b) > 0 && len(b) <= 20 && b[0] < 0x80 && b[0] != 0 {
		serial = new(big.Int).SetBytes(b)
	}
	mTmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{CommonName: k.WeChatMchID, OrganizationalUnit: []string{"paydesk sandbox merchant"},
			Organization: []string{"微信商户系统"}, Country: []string{"CN"}},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(5, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	mDER, err := x509.CreateCertificate(rand.Reader, mTmpl, ca, &k.WeChatMerchantKey.PublicKey, k.TLSCAKey)
	if err != nil {
		return nil, fmt.Errorf("sandbox: merchant API certificate: %w", err)
	}
	out.merchant = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mDER})

	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "paydesk sandbox"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
		sTmpl.IPAddresses = append(sTmpl.IPAddresses, ip)
	} else if ip == nil && host != "" && host != "localhost" {
		sTmpl.DNSNames = append(sTmpl.DNSNames, host)
	}
	sDER, err := x509.CreateCertificate(rand.Reader, sTmpl, ca, &serverKey.PublicKey, k.TLSCAKey)
	if err != nil {
		return nil, fmt.Errorf("sandbox: server certificate: %w", err)
	}
	out.server = tls.Certificate{Certificate: [][]byte{sDER}, PrivateKey: serverKey}
	return out, nil
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

// config is the server side: any client may connect, and one that
// presents a certificate must present one the CA issued (a handshake with
// another fails, as WeChat's does); whether a route needs one is the
// route's business.
func (t *sandboxTLS) config() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(t.ca)
	return &tls.Config{
		Certificates: []tls.Certificate{t.server},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// sniffListener serves plain HTTP and HTTPS on one port: a connection whose
// first byte opens a TLS handshake record (0x16) is wrapped in TLS, which
// net/http recognizes (the request's TLS field is set). The first byte is
// awaited off the accept loop, so a silent client holds up nobody.
type sniffListener struct {
	net.Listener
	tls   *tls.Config
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once

	mu  sync.Mutex
	err error // the inner listener's Accept error, once it failed; guarded by mu
}

func newSniffListener(ln net.Listener, cfg *tls.Config) *sniffListener {
	l := &sniffListener{Listener: ln, tls: cfg, conns: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *sniffListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			l.Close()
			return
		}
		go l.sniff(c)
	}
}

func (l *sniffListener) sniff(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: c, r: br}
	if first[0] == 0x16 {
		out = tls.Server(out, l.tls)
	}
	select {
	case l.conns <- out:
	case <-l.done:
		out.Close()
	}
}

func (l *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

func (l *sniffListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.Listener.Close()
	})
	return err
}

// peekedConn reads through the buffer that holds the peeked byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
