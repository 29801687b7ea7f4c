package sandbox

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// AlipayGatewayPath is where the simulated Alipay OpenAPI gateway listens.
const AlipayGatewayPath = "/gateway.do"

// AlipayBillPath is the prefix of the short-lived bill download URLs that
// alipay.data.dataservice.bill.downloadurl.query hands out.
const AlipayBillPath = "/alipay/bill/"

// alipaySide simulates Alipay's OpenAPI gateway, its trade_status_sync
// notifications and its trade bills. Every identifier here is prefixed with
// "alipay" because the WeChat side shares the package.
type alipaySide struct {
	s *Server

	mu    sync.Mutex
	certs *AlipayCerts                // nil: public-key mode; guarded by mu
	bills map[string]alipayBillTicket // download token → bill; guarded by mu
	// exported is when each day's bill of each type was first made (its
	// #导出时间): Alipay makes a day's file once, so every download of it
	// states the same time and a re-download is the same bytes. Guarded by
	// mu.
	exported map[string]time.Time

	mapiIDs mapiNotifyIDs // legacy gateway (alipay_mapi.go)
}

func newAlipaySide(s *Server) side {
	return &alipaySide{s: s, bills: map[string]alipayBillTicket{}, exported: map[string]time.Time{}}
}

func (a *alipaySide) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+AlipayGatewayPath, a.handleGateway)
	mux.HandleFunc("GET "+AlipayBillPath+"{token}", a.handleBillDownload)
	a.mapiRoutes(mux)
}

// acknowledged: Alipay stops retrying only on the exact body "success";
// anything else, "SUCCESS" or "success\n" included, is a failure.
func (a *alipaySide) acknowledged(status int, body []byte) bool {
	return status == http.StatusOK && string(body) == "success"
}

// newTradeNo makes a 28-digit trade number shaped like Alipay's: the date,
// "22001" and 15 digits.
func (a *alipaySide) newTradeNo(r *rand.Rand, at time.Time) string {
	return at.In(a.s.Zone()).Format("20060102") + "22001" + randDigits(r, 15)
}

func (a *alipaySide) newRefundID(r *rand.Rand, at time.Time) string { return randDigits(r, 20) }

// newBuyerID makes a buyer user id: 16 digits starting with 2088, as every
// Alipay user id does.
func (a *alipaySide) newBuyerID(r *rand.Rand) string { return "2088" + randDigits(r, 12) }

// merchantPID is the merchant's own 2088 user id (seller_id), which is
// also the legacy gateway's partner id (Keys.AlipayPID).
func (a *alipaySide) merchantPID() string { return a.s.cfg.Keys.AlipayPID }

// AlipayPID is the PID of the sandbox's Alipay merchant, what a client
// configures as [alipay] pid (bills state #账号 = PID + 0156).
func (s *Server) AlipayPID() string { return s.cfg.Keys.AlipayPID }

// billAccount is the account number printed in bills and their file names:
// the merchant's PID followed by "0156" (the CNY account suffix Alipay uses).
func (a *alipaySide) billAccount() string { return a.merchantPID() + "0156" }

// alipayMaskLogonID masks a buyer the way Alipay shows buyer_logon_id and the
// bill's 对方账户: never the whole account.
func alipayMaskLogonID(buyerID string) string {
	if len(buyerID) < 8 {
		return "***"
	}
	return "138****" + buyerID[len(buyerID)-4:]
}

// alipayTime formats a time as Alipay does everywhere: "yyyy-MM-dd HH:mm:ss"
// in the platform's zone.
func (a *alipaySide) alipayTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(a.s.Zone()).Format(time.DateTime)
}

// tradeStatus is the trade_status Alipay reports for a trade. A paid trade
// refunded in full is TRADE_CLOSED; a partly refunded one stays
// TRADE_SUCCESS.
func alipayTradeStatus(t *Trade) string {
	switch t.State {
	case gateway.TradeNotPaid:
		return "WAIT_BUYER_PAY"
	case gateway.TradeClosed:
		return "TRADE_CLOSED"
	}
	if succeeded, _ := t.Refunded(); succeeded >= t.Amount {
		return "TRADE_CLOSED"
	}
	return "TRADE_SUCCESS"
}
