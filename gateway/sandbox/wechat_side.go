package sandbox

import (
	cryptorand "crypto/rand"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// wechatSide simulates WeChat Pay APIv3 for one merchant: requests must
// carry the merchant's WECHATPAY2-SHA256-RSA2048 Authorization, every API
// answer and notification is signed with the platform public key
// (Wechatpay-Serial = PUB_KEY_ID_…) or the platform certificate
// (Wechatpay-Serial = its serial), by the sign mode, notifications are
// AEAD_AES_256_GCM envelopes under the APIv3 key, /v3/certificates hands out
// the certificate encrypted the same way, and bills are UTF-8 text (gzip on
// request) fetched through a download URL.
//
// Files: wechat_auth.go (request checks, response signing), wechat_api.go
// (trade and refund routes), wechat_notify.go (notifications),
// wechat_bill.go (bill writer and bill routes), wechat_cert.go (the
// platform certificate, the sign modes, /v3/certificates); v2 (XML) in
// wechat_v2.go (routes) and wechat_v2_notify.go (notifications).
type wechatSide struct {
	s *Server

	mu    sync.Mutex
	bills map[string]*wechatBillFile // download token → prepared bill; guarded by mu
}

func newWeChatSide(s *Server) side {
	return &wechatSide{s: s, bills: map[string]*wechatBillFile{}}
}

// WeChat API paths served.
const (
	wechatQueryPath        = "/v3/pay/transactions/out-trade-no/{out_trade_no}"
	wechatRefundPath       = "/v3/refund/domestic/refunds"
	wechatRefundQueryPath  = "/v3/refund/domestic/refunds/{out_refund_no}"
	wechatTradeBillPath    = "/v3/bill/tradebill"
	wechatFundBillPath     = "/v3/bill/fundflowbill"
	wechatBillDownloadPath = "/v3/billdownload/file"
)

func (w *wechatSide) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+wechatQueryPath, w.handleQuery)
	mux.HandleFunc("POST "+wechatRefundPath, w.handleRefund)
	mux.HandleFunc("GET "+wechatRefundQueryPath, w.handleRefundQuery)
	mux.HandleFunc("GET "+wechatTradeBillPath, w.handleTradeBill)
	mux.HandleFunc("GET "+wechatFundBillPath, w.handleFundBill)
	mux.HandleFunc("GET "+wechatBillDownloadPath, w.handleBillDownload)
	mux.HandleFunc("GET "+wechatCertificatesPath, w.handleCertificates)
	w.v2Routes(mux)
}

// acknowledged: WeChat takes any 2xx (200 or 204) as success and retries on
// everything else; a v2 XML answer must also say return_code SUCCESS.
func (w *wechatSide) acknowledged(status int, body []byte) bool {
	if code, ok := v2ReturnCode(body); ok && code != "SUCCESS" {
		return false
	}
	return status >= 200 && status < 300
}

// newTradeNo makes a 28-digit transaction_id like the platform's
// ("4200000925" + yyyymmdd + 10 digits).
func (w *wechatSide) newTradeNo(r *rand.Rand, at time.Time) string {
	return "42000" + randDigits(r, 5) + at.In(w.s.Zone()).Format("20060102") + randDigits(r, 10)
}

// newRefundID makes a 29-digit refund_id like the platform's
// ("5030270999" + yyyymmdd + 11 digits).
func (w *wechatSide) newRefundID(r *rand.Rand, at time.Time) string {
	return "503" + randDigits(r, 7) + at.In(w.s.Zone()).Format("20060102") + randDigits(r, 11)
}

// newBuyerID makes an openid: "o" and 27 characters of the URL-safe base64
// alphabet, as openids look.
func (w *wechatSide) newBuyerID(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 28)
	b[0] = 'o'
	for i := 1; i < len(b); i++ {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// wechatToken returns n random letters and digits (nonces, download
// tokens). They come from crypto/rand, not the seeded source: nothing needs
// them repeatable, and a download token must not be guessable.
func wechatToken(n int) string {
	const symbols = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	_, _ = cryptorand.Read(b)
	for i := range b {
		b[i] = symbols[int(b[i])%len(symbols)]
	}
	return string(b)
}
