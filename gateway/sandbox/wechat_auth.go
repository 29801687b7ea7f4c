package sandbox

import (
	"crypto"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// wechatAuthScheme is the only Authorization scheme APIv3 accepts.
const wechatAuthScheme = "WECHATPAY2-SHA256-RSA2048"

// wechatClockSkew is how far a request's timestamp may be from the
// platform's clock, as WeChat allows.
const wechatClockSkew = 5 * time.Minute

// wechatError is an APIv3 error answer: an HTTP status and the JSON body
// {"code": ..., "message": ...} the platform sends.
type wechatError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *wechatError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// authenticate reads the request body and checks the Authorization header
// the way the platform does: scheme WECHATPAY2-SHA256-RSA2048, fields in any
// order, our merchant id and certificate serial, a timestamp within five
// minutes, and a SHA256withRSA signature by the merchant's private key over
// METHOD\nURI\ntimestamp\nnonce\nbody\n. It answers and returns false when
// the request is refused.
func (w *wechatSide) authenticate(rw http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, 1<<20))
	if err != nil {
		w.replyError(rw, &wechatError{http.StatusBadRequest, "PARAM_ERROR", "请求体无法读取: " + err.Error()})
		return nil, false
	}
	if e := w.checkAuthorization(r, body); e != nil {
		w.replyError(rw, e)
		return nil, false
	}
	return body, true
}

func (w *wechatSide) checkAuthorization(r *http.Request, body []byte) *wechatError {
	k := w.s.cfg.Keys
	signErr := func(msg string) *wechatError {
		return &wechatError{http.StatusUnauthorized, "SIGN_ERROR", msg}
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return signErr("缺少 Authorization 请求头")
	}
	f, err := parseWeChatAuthorization(h)
	if err != nil {
		return signErr("Authorization 格式错误: " + err.Error())
	}
	for _, name := range []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"} {
		if f[name] == "" {
			return signErr("Authorization 缺少 " + name)
		}
	}
	if f["mchid"] != k.WeChatMchID {
		return signErr(fmt.Sprintf("商户号 %s 与本沙箱的商户不符", f["mchid"]))
	}
	if f["serial_no"] != k.WeChatMerchantSerialNo {
		return signErr(fmt.Sprintf("商户证书序列号 %s 不是本商户的有效证书", f["serial_no"]))
	}
	ts, err := strconv.ParseInt(f["timestamp"], 10, 64)
	if err != nil {
		return signErr("timestamp 不是整数")
	}
	// The signature's timestamp is judged by the wall clock, not the
	// sandbox's business clock (Config.Now), because the client stamps it
	// with its own wall clock.
	if d := time.Since(time.Unix(ts, 0)); d > wechatClockSkew || d < -wechatClockSkew {
		return signErr("请求时间戳与平台时间相差超过 5 分钟")
	}
	sig, err := base64.StdEncoding.DecodeString(f["signature"])
	if err != nil {
		return signErr("signature 不是 base64")
	}
	uri := r.RequestURI
	if !strings.HasPrefix(uri, "/") { // absolute-form target through a proxy
		uri = r.URL.RequestURI()
	}
	msg := r.Method + "\n" + uri + "\n" + f["timestamp"] + "\n" + f["nonce_str"] + "\n" + string(body) + "\n"
	sum := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&k.WeChatMerchantKey.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return signErr("签名错误，请检查签名串与商户私钥")
	}
	return nil
}

// parseWeChatAuthorization splits `SCHEME k1="v1",k2="v2",...` into its
// fields, in whatever order they come.
func parseWeChatAuthorization(h string) (map[string]string, error) {
	scheme, params, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || scheme != wechatAuthScheme {
		return nil, fmt.Errorf("scheme must be %s", wechatAuthScheme)
	}
	f := map[string]string{}
	for {
		params = strings.TrimLeft(params, " ,")
		if params == "" {
			return f, nil
		}
		key, rest, ok := strings.Cut(params, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || !strings.HasPrefix(rest, `"`) {
			return nil, errors.New(`want key="value" pairs`)
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, fmt.Errorf("unterminated value of %s", key)
		}
		if _, dup := f[key]; dup {
			return nil, fmt.Errorf("%s given twice", key)
		}
		f[key] = rest[1 : 1+end]
		params = rest[2+end:]
	}
}

// reply writes a JSON answer signed as the platform signs its answers:
// Wechatpay-Serial names the key (the platform public key's id or the
// platform certificate's serial, by the sign mode), and Wechatpay-Signature
// is SHA256withRSA by that key over timestamp\nnonce\nbody\n.
func (w *wechatSide) reply(rw http.ResponseWriter, status int, v any) {
	w.replyWith(rw, status, v, w.signer())
}

// replyWith answers signed by a given key.
func (w *wechatSide) replyWith(rw http.ResponseWriter, status int, v any, by wechatSigner) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(rw, "sandbox: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Request-ID", wechatToken(32))
	for k, v := range w.signHeadersAt(by, by.key, body, time.Now()) {
		h[k] = v
	}
	rw.WriteHeader(status)
	_, _ = rw.Write(body)
}

// replyError answers with the platform's error body, signed like any answer.
func (w *wechatSide) replyError(rw http.ResponseWriter, e *wechatError) {
	w.reply(rw, e.Status, e)
}

// signHeadersAt makes the four Wechatpay-* headers for a body as of a time
// (StaleBy: a notification captured and sent again later, or a platform
// clock that is off), with a fresh nonce. The serial is by's; the
// signature is key's, which is by's own unless a fault forges it.
func (w *wechatSide) signHeadersAt(by wechatSigner, key *rsa.PrivateKey, body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := wechatToken(32)
	sum := sha256.Sum256([]byte(ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(cryptorand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // cannot happen with a valid RSA key
	}
	return http.Header{
		"Wechatpay-Serial":    {by.serial},
		"Wechatpay-Timestamp": {ts},
		"Wechatpay-Nonce":     {nonce},
		"Wechatpay-Signature": {base64.StdEncoding.EncodeToString(sig)},
	}
}
