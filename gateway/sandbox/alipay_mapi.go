package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Alipay's legacy merchant gateway (mapi, 即时到账 create_direct_pay_by_user),
// as its published demo code (AlipayNotify, "notify_verify") and the
// notifications merchants logged from it show: trade_status_sync forms
// signed with sign_type=MD5, the lowercase hex MD5 of the sorted k=v&...
// (without sign and sign_type) followed by the partner's MD5 key; total_fee
// in yuan; a notify_id that GET gateway.do?service=notify_verify&partner=
// &notify_id= confirms with "true".

// AlipayMapiPath is where the simulated legacy gateway listens.
const AlipayMapiPath = "/mapi/gateway.do"

// alipayMapiForgerKey signs legacy notifications under the BadSignature
// fault: a well-formed MD5 key that is not the partner's.
const alipayMapiForgerKey = "forgedforgedforgedforgedforged01"

// mapiNotifyIDs remembers when each legacy notify_id was last sent, for
// notify_verify.
type mapiNotifyIDs struct {
	mu   sync.Mutex
	sent map[string]time.Time
}

func (m *mapiNotifyIDs) issue(id string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent == nil {
		m.sent = map[string]time.Time{}
	}
	for k, t := range m.sent { // drop lapsed ids so the map stays small
		if at.Sub(t) > time.Hour {
			delete(m.sent, k)
		}
	}
	m.sent[id] = at
}

func (m *mapiNotifyIDs) confirmed(id string, now time.Time, life time.Duration) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.sent[id]
	return ok && now.Sub(t) <= life
}

func (a *alipaySide) mapiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+AlipayMapiPath, a.handleMapi)
	mux.HandleFunc("POST "+AlipayMapiPath, a.handleMapi)
}

// handleMapi serves notify_verify: "true" when this gateway sent notify_id
// to this partner within MapiNotifyIDLife, "false" otherwise, "invalid"
// when a parameter is missing (the answer the demo code's comments
// describe). Other services get the gateway's XML error.
func (a *alipaySide) handleMapi(rw http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(rw, "bad request", http.StatusBadRequest)
		return
	}
	if svc := r.Form.Get("service"); svc != "notify_verify" {
		rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprint(rw, `<?xml version="1.0" encoding="utf-8"?><alipay><is_success>F</is_success><error>ILLEGAL_SERVICE</error></alipay>`)
		return
	}
	partner, id := r.Form.Get("partner"), r.Form.Get("notify_id")
	ans := "false"
	switch {
	case partner == "" || id == "":
		ans = "invalid"
	case partner == a.merchantPID() && a.mapiIDs.confirmed(id, time.Now(), a.s.cfg.MapiNotifyIDLife):
		ans = "true"
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(rw, ans)
}

// mapiNotification builds one delivery attempt of a legacy notification,
// with a notify_id of its own (each attempt's is confirmable for
// MapiNotifyIDLife after it is sent, so a retry hours later still
// verifies). Faults: BadSignature signs with a key that is not the
// partner's; TamperAmount changes total_fee after signing; DenyNotifyID
// signs correctly but never registers the notify_id.
func (a *alipaySide) mapiNotification(ev Event) (http.Header, []byte, error) {
	t := ev.Trade
	notifyID := randomHex(17) // 34 characters, as the gateway's are
	f := map[string]string{
		"notify_time":         a.alipayTime(a.s.now()),
		"notify_type":         "trade_status_sync",
		"notify_id":           notifyID,
		"sign_type":           "MD5",
		"out_trade_no":        t.OutTradeNo,
		"trade_no":            t.TradeNo,
		"subject":             t.Subject,
		"payment_type":        "1",
		"trade_status":        alipayTradeStatus(t),
		"seller_id":           a.merchantPID(),
		"seller_email":        "pay@" + a.merchantPID() + ".sandbox.example",
		"buyer_id":            t.BuyerID,
		"buyer_email":         alipayMaskLogonID(t.BuyerID),
		"total_fee":           t.Amount.String(),
		"price":               t.Amount.String(),
		"quantity":            "1",
		"discount":            "0.00",
		"is_total_fee_adjust": "N",
		"use_coupon":          "N",
		"gmt_create":          a.alipayTime(t.CreatedAt),
		"gmt_payment":         a.alipayTime(t.PaidAt),
	}
	if ev.Kind == EventRefunded && ev.Refund != nil {
		f["refund_status"] = "REFUND_SUCCESS"
		f["gmt_refund"] = a.alipayTime(ev.Refund.SucceededAt)
	}
	key := a.s.cfg.Keys.AlipayMD5Key
	if ev.Fault.BadSignature {
		key = alipayMapiForgerKey
	}
	sum := md5.Sum(append(alipaySignContent(f, "sign", "sign_type"), key...))
	f["sign"] = hex.EncodeToString(sum[:])
	if ev.Fault.TamperAmount != 0 {
		f["total_fee"] = (t.Amount + ev.Fault.TamperAmount).String()
	}
	if !ev.Fault.DenyNotifyID {
		a.mapiIDs.issue(notifyID, time.Now())
	}
	form := url.Values{}
	for k, v := range f {
		if v != "" {
			form.Set(k, v)
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return h, []byte(form.Encode()), nil
}
