package sandbox

import (
	"net/http"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Fault is misbehaviour to inject, per trade or for a whole channel.
type Fault struct {
	// API faults, for requests about the trade.
	Delay       time.Duration `json:"delay,omitempty"`        // answer late
	Hang        bool          `json:"hang,omitempty"`         // do the work, then never answer
	ServerError bool          `json:"server_error,omitempty"` // answer 500 without doing the work
	// RefundPending leaves new refunds PROCESSING until SettleRefund.
	RefundPending bool `json:"refund_pending,omitempty"`
	// RefundEnds answers a new refund PROCESSING and then ends it so, with
	// its notification: ABNORMAL (REFUND.ABNORMAL: the money left, the
	// buyer's card refused it), FAILED (REFUND.CLOSED) or SUCCESS; as v2
	// XML, req_info's refund_status CHANGE, REFUNDCLOSE or SUCCESS.
	RefundEnds gateway.RefundStatus `json:"refund_ends,omitempty"`
	// RefundRateLimited answers WeChat refunds 429 FREQUENCY_LIMITED
	// without carrying them out.
	RefundRateLimited bool `json:"refund_rate_limited,omitempty"`
	// RefundSystemError carries a WeChat refund out and answers 500
	// SYSTEM_ERROR: the caller cannot tell it went through.
	RefundSystemError bool `json:"refund_system_error,omitempty"`
	// RefundNotCarriedOut (Alipay) takes a refund request but does not carry
	// it out, answering a signed ACQ.SYSTEM_ERROR; the refund query then
	// knows the request but shows no refund_status, and the same request
	// sent again (with the fault cleared) goes through.
	RefundNotCarriedOut bool `json:"refund_not_carried_out,omitempty"`

	// Notification faults.
	DropNotify      bool          `json:"drop_notify,omitempty"`      // never deliver
	DuplicateNotify int           `json:"duplicate_notify,omitempty"` // extra concurrent copies
	BadSignature    bool          `json:"bad_signature,omitempty"`    // signed with a key not the platform's
	TamperAmount    gateway.Money `json:"tamper_amount,omitempty"`    // added to the amount after signing
	// StaleBy signs WeChat notifications as of this long ago: a captured
	// notification sent again, or a platform clock that is off. Alipay's
	// protocol has no freshness window, so it does not apply there.
	StaleBy time.Duration `json:"stale_by,omitempty"`
	// BookLate makes the bill book a payment (and its refunds) this much
	// after the time the notification and queries report: a payment at
	// 23:59:58 booked at 00:00:03 lands in the next day's bill.
	BookLate time.Duration `json:"book_late,omitempty"`

	// Alipay notification variants (the trade's, as if it was created so):
	// NotifySignType "RSA" signs with SHA1withRSA; NotifyCharset "gbk"
	// sends the form in GBK. Empty uses the sandbox's Config.
	NotifySignType string `json:"notify_sign_type,omitempty"`
	NotifyCharset  string `json:"notify_charset,omitempty"`
	// AnswerSignType, channel-wide, signs every Alipay answer with this
	// type whatever the request's: "RSA" answers an RSA2 app in SHA1, a
	// downgrade its client must refuse.
	AnswerSignType string `json:"answer_sign_type,omitempty"`

	// Fund faults: the platform's money, not its messages.
	//
	// NoFundMovement leaves the trade's movements (its payment and fee, its
	// refunds) out of the fund bill, as if the money never reached the
	// account: the trade bill still books it.
	NoFundMovement bool `json:"no_fund_movement,omitempty"`
	// Fee, when set, is the service fee the platform charges on the trade
	// instead of its rate's: a wrong fee, booked the same in the trade bill
	// and taken the same in the fund bill.
	Fee *gateway.Money `json:"fee,omitempty"`

	// Legacy protocols (see wechat_v2_notify.go, alipay_mapi.go).

	// WeChatV2 sends the WeChat notifications as v2 XML signed this way
	// ("MD5" or "HMAC-SHA256"), whatever Config.WeChatAPI says.
	WeChatV2 string `json:"wechat_v2,omitempty"`
	// AlipayMapi sends the Alipay notifications as the legacy gateway
	// does: a form signed with MD5 and the partner's key, whose notify_id
	// notify_verify confirms.
	AlipayMapi bool `json:"alipay_mapi,omitempty"`
	// DenyNotifyID makes notify_verify deny a legacy notification's
	// notify_id although it is signed with the right key: one made by
	// someone who has the MD5 key, never sent by Alipay.
	DenyNotifyID bool `json:"deny_notify_id,omitempty"`
}

// SetFault injects a fault for one trade, or for every trade of the channel
// when outTradeNo is empty. A trade's own fault wins over the channel's.
func (s *Server) SetFault(ch gateway.Channel, outTradeNo string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fc := f
	s.faults[tradeKey{ch, outTradeNo}] = &fc
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

func (s *Server) fault(ch gateway.Channel, outTradeNo string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultLocked(ch, outTradeNo)
}

func (s *Server) faultLocked(ch gateway.Channel, outTradeNo string) Fault {
	if f, ok := s.faults[tradeKey{ch, outTradeNo}]; ok {
		return *f
	}
	if f, ok := s.faults[tradeKey{ch, ""}]; ok {
		return *f
	}
	return Fault{}
}

// beforeAPI applies the API faults that act before the work is done: it
// waits out a Delay and answers 500 for ServerError. It returns false when it
// has answered and the handler must stop.
func (s *Server) beforeAPI(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return false
		}
	}
	if f.ServerError {
		http.Error(w, "sandbox: injected server error", http.StatusInternalServerError)
		return false
	}
	return true
}

// afterAPI applies Hang once the work is done: the answer never comes, so
// the client sees a timeout although the platform acted.
func (s *Server) afterAPI(r *http.Request, f Fault) bool {
	if !f.Hang {
		return true
	}
	select {
	case <-r.Context().Done():
	case <-s.ctx.Done():
	}
	return false
}
