package alipay

import (
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// parsePrivateKey reads the app private key: PEM (PKCS#1 "RSA PRIVATE KEY"
// or PKCS#8 "PRIVATE KEY"), or the bare base64 the Alipay key tool writes.
func parsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	der, err := pemOrBase64(b, "private key")
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("private key is neither PKCS#1 nor PKCS#8: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, Alipay RSA2 needs RSA", k)
	}
	return rk, nil
}

// parsePublicKey reads Alipay's public key: PEM "PUBLIC KEY" (PKIX) or the
// bare base64 the open platform console shows.
func parsePublicKey(b []byte) (*rsa.PublicKey, error) {
	der, err := pemOrBase64(b, "public key")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		if rk, err1 := x509.ParsePKCS1PublicKey(der); err1 == nil {
			return rk, nil
		}
		return nil, fmt.Errorf("public key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, Alipay RSA2 needs RSA", k)
	}
	return rk, nil
}

func pemOrBase64(b []byte, what string) ([]byte, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Bytes, nil
	}
	s := strings.Join(strings.Fields(string(b)), "")
	if s == "" {
		return nil, fmt.Errorf("%s is empty", what)
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is neither PEM nor base64", what)
	}
	return der, nil
}

// pkcs1PEM re-encodes a private key in the one form the SDK tries first, so
// whatever form the merchant's file had, the SDK gets a key it reads.
func pkcs1PEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func pkixPEM(k *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(k) // an RSA public key always marshals
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// parseCerts reads every certificate of a PEM file. Certificates Go cannot
// parse (the real Alipay root file carries an SM2 root) are skipped.
func parseCerts(b []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// certSN is a certificate's serial number as Alipay computes it: hex MD5 of
// the issuer DN in RFC 2253 form followed by the decimal serial number.
func certSN(c *x509.Certificate) string {
	sum := md5.Sum([]byte(c.Issuer.String() + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

// alipayCertKey checks Alipay's public key certificate against the root
// file (chain and validity, as Alipay's own SDKs do) and returns its RSA key
// and serial number. The certificate file may carry intermediates after the
// leaf.
func alipayCertKey(alipayCertPEM, rootPEM []byte, now time.Time) (*rsa.PublicKey, string, error) {
	certs := parseCerts(alipayCertPEM)
	if len(certs) == 0 {
		return nil, "", errors.New("alipay certificate: no certificate in the file")
	}
	roots := x509.NewCertPool()
	rootCount := 0
	for _, c := range parseCerts(rootPEM) {
		roots.AddCert(c)
		rootCount++
	}
	if rootCount == 0 {
		return nil, "", errors.New("alipay root certificate: no certificate in the file")
	}
	var leaf *x509.Certificate
	inter := x509.NewCertPool()
	for _, c := range certs {
		if c.IsCA {
			inter.AddCert(c)
		} else if leaf == nil {
			leaf = c
		}
	}
	if leaf == nil {
		return nil, "", errors.New("alipay certificate: only CA certificates in the file")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, "", fmt.Errorf("alipay certificate does not chain to the alipay root certificate: %w", err)
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, "", fmt.Errorf("alipay certificate holds a %T key, RSA2 needs RSA", leaf.PublicKey)
	}
	return pub, certSN(leaf), nil
}
