package sandbox

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// wechatEnvelope is the notification body WeChat Pay posts: the event in
// clear, its resource encrypted with the merchant's APIv3 key.
type wechatEnvelope struct {
	ID           string         `json:"id"`
	CreateTime   string         `json:"create_time"`
	ResourceType string         `json:"resource_type"`
	EventType    string         `json:"event_type"`
	Summary      string         `json:"summary"`
	Resource     wechatResource `json:"resource"`
}

type wechatResource struct {
	OriginalType   string `json:"original_type"`
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
}

// wechatRefundNotices are the refund notifications' event types, summaries
// and the refund_status their resource carries (退款结果通知).
var wechatRefundNotices = map[EventKind]struct{ eventType, summary, status string }{
	EventRefunded:       {"REFUND.SUCCESS", "退款成功", "SUCCESS"},
	EventRefundAbnormal: {"REFUND.ABNORMAL", "退款异常", "ABNORMAL"},
	EventRefundClosed:   {"REFUND.CLOSED", "退款关闭", "CLOSED"},
}

// wechatRefundNotice is the plaintext of a REFUND.* resource; success_time
// comes with SUCCESS only.
type wechatRefundNotice struct {
	MchID               string `json:"mchid"`
	OutTradeNo          string `json:"out_trade_no"`
	TransactionID       string `json:"transaction_id"`
	OutRefundNo         string `json:"out_refund_no"`
	RefundID            string `json:"refund_id"`
	RefundStatus        string `json:"refund_status"`
	SuccessTime         string `json:"success_time,omitempty"`
	UserReceivedAccount string `json:"user_received_account"`
	Amount              struct {
		Total       int64 `json:"total"`
		Refund      int64 `json:"refund"`
		PayerTotal  int64 `json:"payer_total"`
		PayerRefund int64 `json:"payer_refund"`
	} `json:"amount"`
}

// notification builds one delivery attempt of an event: the envelope with
// its resource sealed by AEAD_AES_256_GCM under the APIv3 key, and the
// Wechatpay-* headers signed afresh (new timestamp and nonce on every
// attempt, as the platform does).
//
// Faults: BadSignature signs with a key that is not the platform's (the
// merchant's own key, which the receiver does not trust). TamperAmount
// models a man in the middle who knows the APIv3 key: the resource is
// re-encrypted with the amount changed while the headers keep the signature
// of the original body, so the receiver's signature check fails. The
// signature covers the encrypted body, which is why no change to the amount
// can survive verification.
func (w *wechatSide) notification(ev Event) (http.Header, []byte, error) {
	if st := w.v2NotifySignType(ev.Fault); st != "" {
		return w.v2Notification(ev, st)
	}
	k := w.s.cfg.Keys
	z := w.s.Zone()
	env := wechatEnvelope{ID: ev.ID, ResourceType: "encrypt-resource"}
	var plain func(tamper int64) any
	switch ev.Kind {
	case EventPaid:
		env.EventType, env.Summary = "TRANSACTION.SUCCESS", "支付成功"
		env.Resource.OriginalType, env.Resource.AssociatedData = "transaction", "transaction"
		env.CreateTime = ev.Trade.PaidAt.In(z).Format(time.RFC3339)
		plain = func(tamper int64) any {
			tx := w.wechatTransactionOf(ev.Trade)
			// The notification reports the payment itself, whatever
			// happened to the trade since.
			tx.TradeState, tx.TradeStateDesc = "SUCCESS", "支付成功"
			tx.Amount.Total += tamper
			*tx.Amount.PayerTotal += tamper
			return tx
		}
	case EventRefunded, EventRefundAbnormal, EventRefundClosed:
		n := wechatRefundNotices[ev.Kind]
		env.EventType, env.Summary = n.eventType, n.summary
		env.Resource.OriginalType, env.Resource.AssociatedData = "refund", "refund"
		env.CreateTime = w.s.now().In(z).Format(time.RFC3339)
		if ev.Kind == EventRefunded {
			env.CreateTime = ev.Refund.SucceededAt.In(z).Format(time.RFC3339)
		}
		plain = func(tamper int64) any {
			rn := wechatRefundNotice{MchID: k.WeChatMchID, OutTradeNo: ev.Trade.OutTradeNo, TransactionID: ev.Trade.TradeNo,
				OutRefundNo: ev.Refund.OutRequestNo, RefundID: ev.Refund.RefundID, RefundStatus: n.status,
				UserReceivedAccount: "支付用户零钱"}
			if ev.Kind == EventRefunded {
				rn.SuccessTime = ev.Refund.SucceededAt.In(z).Format(time.RFC3339)
			}
			rn.Amount.Total, rn.Amount.PayerTotal = int64(ev.Trade.Amount), int64(ev.Trade.Amount)
			rn.Amount.Refund, rn.Amount.PayerRefund = int64(ev.Refund.Amount)+tamper, int64(ev.Refund.Amount)+tamper
			return rn
		}
	default:
		return nil, nil, fmt.Errorf("sandbox: no WeChat notification for event %q", ev.Kind)
	}
	env.Resource.Algorithm = "AEAD_AES_256_GCM"
	env.Resource.Nonce = wechatToken(12)
	body, err := w.sealEnvelope(&env, plain(0))
	if err != nil {
		return nil, nil, err
	}
	by := w.signer()
	key := by.key
	if ev.Fault.BadSignature {
		key = k.WeChatMerchantKey
	}
	header := w.signHeadersAt(by, key, body, time.Now().Add(-ev.Fault.StaleBy))
	if ev.Fault.TamperAmount != 0 {
		if body, err = w.sealEnvelope(&env, plain(int64(ev.Fault.TamperAmount))); err != nil {
			return nil, nil, err
		}
	}
	header.Set("Wechatpay-Signature-Type", wechatAuthScheme)
	header.Set("Content-Type", "application/json")
	return header, body, nil
}

// sealEnvelope encrypts plaintext into env's resource (with env's nonce and
// associated data) and returns the envelope's JSON.
func (w *wechatSide) sealEnvelope(env *wechatEnvelope, plaintext any) ([]byte, error) {
	pt, err := json.Marshal(plaintext)
	if err != nil {
		return nil, err
	}
	if env.Resource.Ciphertext, err = w.seal(env.Resource, pt); err != nil {
		return nil, err
	}
	return json.Marshal(env)
}

// seal encrypts plaintext with AEAD_AES_256_GCM under the APIv3 key, with
// res's nonce and associated data, as WeChat Pay encrypts notification
// resources and downloaded certificates; base64 of ciphertext and tag.
func (w *wechatSide) seal(res wechatResource, plaintext []byte) (string, error) {
	block, err := aes.NewCipher([]byte(w.s.cfg.Keys.WeChatAPIv3Key))
	if err != nil {
		return "", fmt.Errorf("sandbox: APIv3 key: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(res.Nonce), plaintext, []byte(res.AssociatedData))), nil
}
