package sandbox

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// alipayForgerKey signs notifications with the BadSignature fault: a
// well-formed RSA2 signature by a key that is not Alipay's. Made once per
// process because RSA key generation costs tens of milliseconds.
var alipayForgerKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// notification builds the trade_status_sync form Alipay posts to the
// merchant's notify_url, signed over every non-empty field except sign and
// sign_type, with the event's faults applied.
//
// Sign type and charset are the app's and the trade's (Config.AlipaySignType
// and AlipayCharset, overridden per trade by the NotifySignType and
// NotifyCharset faults). A GBK notification is the form in GBK: each value's
// GBK bytes percent-encoded, and the signature over the same bytes, as
// Alipay's SDK checks it (AlipaySignature.rsaCheckV1 verifies
// content.getBytes(charset)).
func (a *alipaySide) notification(ev Event) (http.Header, []byte, error) {
	t := ev.Trade
	if t == nil {
		return nil, nil, fmt.Errorf("sandbox: alipay notification without a trade")
	}
	if ev.Fault.AlipayMapi {
		return a.mapiNotification(ev)
	}
	fundBills, err := json.Marshal([]struct {
		Amount      string `json:"amount"`
		FundChannel string `json:"fundChannel"` // camelCase in notifications, unlike the query API
	}{{Amount: t.Amount.String(), FundChannel: "ALIPAYACCOUNT"}})
	if err != nil {
		return nil, nil, err
	}
	f := map[string]string{
		"notify_time":      a.alipayTime(a.s.now()),
		"notify_type":      "trade_status_sync",
		"notify_id":        ev.ID,
		"app_id":           a.s.cfg.Keys.AlipayAppID,
		"auth_app_id":      a.s.cfg.Keys.AlipayAppID,
		"charset":          "utf-8",
		"version":          "1.0",
		"sign_type":        alipaySignRSA2,
		"trade_no":         t.TradeNo,
		"out_trade_no":     t.OutTradeNo,
		"trade_status":     alipayTradeStatus(t),
		"total_amount":     t.Amount.String(),
		"receipt_amount":   t.Amount.String(),
		"invoice_amount":   t.Amount.String(),
		"buyer_pay_amount": t.Amount.String(),
		"point_amount":     "0.00",
		"buyer_id":         t.BuyerID,
		"buyer_logon_id":   alipayMaskLogonID(t.BuyerID),
		"seller_id":        a.merchantPID(),
		"subject":          t.Subject,
		"gmt_create":       a.alipayTime(t.CreatedAt),
		"gmt_payment":      a.alipayTime(t.PaidAt),
		"fund_bill_list":   string(fundBills),
	}
	if ev.Kind == EventRefunded && ev.Refund != nil {
		// Alipay reports refunds on the trade: refund_fee is the trade's
		// cumulative refunded amount, out_biz_no the request number, and
		// gmt_refund carries milliseconds.
		succeeded, _ := t.Refunded()
		f["refund_fee"] = succeeded.String()
		f["out_biz_no"] = ev.Refund.OutRequestNo
		f["gmt_refund"] = ev.Refund.SucceededAt.In(a.s.Zone()).Format("2006-01-02 15:04:05.000")
		f["send_back_fee"] = ev.Refund.Amount.String()
		if f["trade_status"] == "TRADE_CLOSED" {
			f["gmt_close"] = a.alipayTime(ev.Refund.SucceededAt)
		}
	}
	f["sign_type"] = cmp.Or(ev.Fault.NotifySignType, a.s.cfg.AlipaySignType, alipaySignRSA2)
	f["charset"] = strings.ToLower(cmp.Or(ev.Fault.NotifyCharset, a.s.cfg.AlipayCharset, "utf-8"))
	if f["charset"] == "gbk" {
		enc := simplifiedchinese.GBK.NewEncoder()
		for k, v := range f {
			if f[k], err = enc.String(v); err != nil {
				return nil, nil, fmt.Errorf("sandbox: field %s has no GBK form: %w", k, err)
			}
		}
	}
	key := a.s.cfg.Keys.AlipayPlatformKey
	if ev.Fault.BadSignature {
		if key, err = alipayForgerKey(); err != nil {
			return nil, nil, err
		}
	}
	sig, err := alipaySign(key, f["sign_type"], alipaySignContent(f, "sign", "sign_type"))
	if err != nil {
		return nil, nil, err
	}
	f["sign"] = sig
	if ev.Fault.TamperAmount != 0 {
		// Changed after signing, as a man in the middle would.
		f["total_amount"] = (t.Amount + ev.Fault.TamperAmount).String()
	}
	form := url.Values{}
	for k, v := range f {
		if v != "" {
			form.Set(k, v)
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset="+f["charset"])
	h.Set("User-Agent", "Mozilla/4.0")
	return h, []byte(form.Encode()), nil
}

var _ side = (*alipaySide)(nil)
