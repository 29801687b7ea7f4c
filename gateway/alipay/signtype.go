package alipay

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/smartwalle/nsign"
)

// Alipay's signature types (sign_type): RSA2 is SHA256withRSA, the one new
// apps get; RSA is SHA1withRSA, which older apps were set up with and still
// use for requests, answers and notifications alike
// (alipay-sdk-java-all AlipaySignature: "签名类型：RSA、RSA2").
const (
	SignRSA2 = "RSA2"
	SignRSA  = "RSA"
)

// signHash is the digest a sign type signs.
func signHash(signType string) crypto.Hash {
	if signType == SignRSA {
		return crypto.SHA1
	}
	return crypto.SHA256
}

func digest(h crypto.Hash, content []byte) []byte {
	if h == crypto.SHA1 {
		sum := sha1.Sum(content)
		return sum[:]
	}
	sum := sha256.Sum256(content)
	return sum[:]
}

// verifySign checks an Alipay signature of content under sign type st.
func verifySign(pub *rsa.PublicKey, st string, content []byte, sig []byte) error {
	h := signHash(st)
	return rsa.VerifyPKCS1v15(pub, h, digest(h, content), sig)
}

// sha1Verifier checks answers of an app configured with sign_type RSA. The
// SDK knows only RSA2 (it verifies with SHA256withRSA); handed to it with
// sdk.WithVerifier, this verifies the same bytes with SHA1withRSA.
type sha1Verifier struct{ pub *rsa.PublicKey }

func (v sha1Verifier) VerifyValues(values url.Values, signature []byte, opts ...nsign.SignOption) error {
	return errors.New("alipay: RSA (SHA1) apps verify notifications with VerifyNotification")
}

func (v sha1Verifier) VerifyBytes(data []byte, signature []byte, opts ...nsign.SignOption) error {
	return verifySign(v.pub, SignRSA, data, signature)
}

// rsa1Transport re-signs the SDK's requests for an app configured with
// sign_type RSA. The SDK always sends sign_type=RSA2 and signs with
// SHA256withRSA; the gateway checks a request against the sign type it
// names, so the request is sent as Alipay's own SDKs send it for such an
// app: sign_type=RSA, and sign = SHA1withRSA over the same sorted
// k=v&k=v content (every non-empty parameter but sign).
type rsa1Transport struct {
	key  *rsa.PrivateKey
	next http.RoundTripper
}

func (t *rsa1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Method != http.MethodPost {
		return t.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("alipay: re-signing as RSA: %w", err)
	}
	params := map[string]string{}
	for k, vs := range form {
		params[k] = vs[0]
	}
	for k, vs := range req.URL.Query() {
		params[k] = vs[0]
	}
	params["sign_type"] = SignRSA
	h := crypto.SHA1
	sig, err := rsa.SignPKCS1v15(rand.Reader, t.key, h, digest(h, notifySignContent(params, "sign")))
	if err != nil {
		return nil, err
	}
	form.Set("sign_type", SignRSA)
	form.Set("sign", base64.StdEncoding.EncodeToString(sig))
	encoded := []byte(form.Encode())
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(encoded))
	r.ContentLength = int64(len(encoded))
	r.Header.Set("Content-Length", strconv.Itoa(len(encoded)))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(encoded)), nil }
	return t.next.RoundTrip(r)
}
