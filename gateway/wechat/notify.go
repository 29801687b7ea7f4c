package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"

	"github.com/paydesk/paydesk/gateway"
)

// FreshnessWindow is how far a notification's Wechatpay-Timestamp may be
// from the time it was received, the five minutes the platform and its SDK
// use.
const FreshnessWindow = 5 * time.Minute

// notifyVerifier verifies and decrypts notifications with the SDK's notify
// handler for one merchant.
type notifyVerifier struct {
	mchID, appID string
	handler      *notify.Handler
	keys         auth.Verifier
}

// newNotifyVerifier builds the SDK handler around verifier. The AES key may
// be 16, 24 or 32 bytes here, as the SDK takes it; New insists on the 32 an
// APIv3 key has.
func newNotifyVerifier(mchID, appID, apiV3Key string, verifier auth.Verifier) (*notifyVerifier, error) {
	h, err := notify.NewRSANotifyHandler(apiV3Key, receiptVerifier{verifier})
	if err != nil {
		return nil, fmt.Errorf("wechat: APIv3 key: %w", err)
	}
	return &notifyVerifier{mchID: mchID, appID: appID, handler: h, keys: verifier}, nil
}

// keyName names the key a serial selected, as notification details show
// it.
func (v *notifyVerifier) keyName(serial string) string {
	if k, ok := v.keys.(*platformKeys); ok {
		if name, ok := k.describe(context.Background(), serial); ok {
			return name
		}
	}
	return "key " + serial
}

// VerifyNotification checks a WeChat Pay notification as it was received:
// the Wechatpay-* headers, the platform's signature over
// timestamp\nnonce\nbody\n, freshness of the timestamp at receivedAt (so a
// replay judges it as of the original receipt), the AES-GCM decryption of
// the resource with the APIv3 key, and that it is addressed to this mchid
// and appid. The key is the one Wechatpay-Serial names: the platform public
// key or a platform certificate (Notification.VerifiedBy says which); a
// serial naming neither is a *gateway.UnknownKeyError. TRANSACTION.SUCCESS
// is gateway.EventPayment; REFUND.SUCCESS, REFUND.ABNORMAL and REFUND.CLOSED
// are gateway.EventRefund, EventRefundAbnormal and EventRefundClosed;
// anything else gateway.EventOther.
//
// Errors wrap gateway.ErrMalformed, ErrBadSignature, ErrStale or
// ErrWrongMerchant; any other error is a failure on paydesk's side (a wrong
// APIv3 key fails decryption of a correctly signed body) and asks the
// platform to send it again.
func (c *Client) VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (gateway.Notification, error) {
	return c.notify.verify(header, body, receivedAt)
}

// verifyCall carries one verification through the SDK: the timestamp that
// was signed, and what the signature check found.
type verifyCall struct {
	signedTimestamp string
	called          bool
	serial          string
	err             error
}

type verifyCallKey struct{}

// receiptVerifier lets the SDK's handler verify a notification as of its
// receipt. The SDK's validator compares Wechatpay-Timestamp with the wall
// clock, which would refuse every replay of an old notification; paydesk
// judges freshness at receipt (ARCHITECTURE.md §3 rule 5) before calling the SDK, hands
// the SDK the request with the timestamp header set to now, and this
// verifier puts the signed timestamp back into the message before the SDK's
// public-key verifier checks the signature. What is verified is exactly
// what the platform signed.
type receiptVerifier struct{ auth.Verifier }

func (v receiptVerifier) Verify(ctx context.Context, serial, message, signature string) error {
	call, _ := ctx.Value(verifyCallKey{}).(*verifyCall)
	if call == nil {
		return errors.New("wechat: notification verifier used outside VerifyNotification")
	}
	call.called, call.serial = true, serial
	_, rest, ok := strings.Cut(message, "\n")
	if !ok {
		call.err = errors.New("unexpected message layout")
		return call.err
	}
	call.err = v.Verifier.Verify(ctx, serial, call.signedTimestamp+"\n"+rest, signature)
	return call.err
}

// resourcePlain is the decrypted resource of the events paydesk reads
// (transaction and refund objects share the names they have in common).
type resourcePlain struct {
	MchID         string `json:"mchid"`
	AppID         string `json:"appid"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	TradeState    string `json:"trade_state"`
	SuccessTime   string `json:"success_time"`
	OutRefundNo   string `json:"out_refund_no"`
	RefundID      string `json:"refund_id"`
	RefundStatus  string `json:"refund_status"`
	Payer         *struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
	Amount *struct {
		Total    *int64 `json:"total"`
		Refund   *int64 `json:"refund"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", gateway.ErrMalformed, fmt.Sprintf(format, args...))
}

func (v *notifyVerifier) verify(header http.Header, body []byte, receivedAt time.Time) (n gateway.Notification, err error) {
	if len(body) == 0 {
		return n, malformed("empty body")
	}
	for _, h := range []string{"Wechatpay-Serial", "Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce"} {
		if strings.TrimSpace(header.Get(h)) == "" {
			return n, malformed("no %s header", h)
		}
	}
	tsText := strings.TrimSpace(header.Get("Wechatpay-Timestamp"))
	ts, perr := strconv.ParseInt(tsText, 10, 64)
	if perr != nil || ts < 0 || strconv.FormatInt(ts, 10) != tsText {
		// Canonical digits only: the SDK signs over the number it parsed,
		// the platform over the header it sent; they must be the same text.
		return n, malformed("Wechatpay-Timestamp %q is not a plain number of seconds", tsText)
	}
	if d := receivedAt.Sub(time.Unix(ts, 0)); d >= FreshnessWindow || d <= -FreshnessWindow {
		return n, fmt.Errorf("%w: signed at %s, received at %s", gateway.ErrStale,
			time.Unix(ts, 0).UTC().Format(time.RFC3339), receivedAt.UTC().Format(time.RFC3339))
	}

	req, rerr := http.NewRequest(http.MethodPost, "/notify/wechat", bytes.NewReader(body))
	if rerr != nil {
		return n, malformed("%v", rerr)
	}
	req.Header = header.Clone()
	req.Header.Set("Wechatpay-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	call := &verifyCall{signedTimestamp: tsText}
	ctx := context.WithValue(context.Background(), verifyCallKey{}, call)

	var plaintext json.RawMessage
	var parsed *notify.Request
	func() {
		// The SDK indexes the resource without checking it is there and
		// hands the nonce to AES-GCM, which panics on a wrong length; a
		// signed body can still carry either, so a panic here is a
		// malformed notification, never a crash of the endpoint.
		defer func() {
			if r := recover(); r != nil {
				err = malformed("the SDK could not process the notification body: %v", r)
			}
		}()
		parsed, err = v.handler.ParseNotifyRequest(ctx, req, &plaintext)
	}()
	if err != nil {
		var unknown *gateway.UnknownKeyError
		switch {
		case errors.As(call.err, &unknown):
			return gateway.Notification{}, unknown
		case call.called && call.err != nil:
			return gateway.Notification{}, fmt.Errorf("%w: %s", gateway.ErrBadSignature, call.err)
		case !call.called:
			// Refused before the signature check: header form or
			// signature type.
			return gateway.Notification{}, malformed("%s", sdkReason(err))
		case errors.Is(err, gateway.ErrMalformed):
			return gateway.Notification{}, err
		case strings.Contains(err.Error(), "message authentication failed"):
			// Signed by the platform yet not decryptable: the APIv3 key
			// configured here is not the merchant's. Not the sender's
			// fault; the platform should retry once the key is fixed.
			return gateway.Notification{}, fmt.Errorf("wechat notification: cannot decrypt a correctly signed resource (is the APIv3 key right?): %s", sdkReason(err))
		default:
			return gateway.Notification{}, malformed("%s", sdkReason(err))
		}
	}
	n, err = v.normalize(parsed, plaintext)
	if err != nil {
		return n, err
	}
	n.VerifiedBy = v.keyName(call.serial)
	return n, nil
}

// sdkReason shortens an SDK error: its notification errors end with a dump
// of the whole request, which belongs in the stored raw notification, not
// in every message.
func sdkReason(err error) string {
	s := err.Error()
	if i := strings.Index(s, ", request: "); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func (v *notifyVerifier) normalize(req *notify.Request, plaintext json.RawMessage) (gateway.Notification, error) {
	var p resourcePlain
	if err := json.Unmarshal(plaintext, &p); err != nil {
		return gateway.Notification{}, malformed("resource plaintext: %v", err)
	}
	n := gateway.Notification{
		Channel:    gateway.WeChat,
		NotifyID:   req.ID,
		AppID:      p.AppID,
		MchID:      p.MchID,
		OutTradeNo: p.OutTradeNo,
		TradeNo:    p.TransactionID,
		Raw:        []byte(plaintext),
	}
	if p.MchID != v.mchID {
		return gateway.Notification{}, fmt.Errorf("%w: mchid %q, this merchant is %s", gateway.ErrWrongMerchant, p.MchID, v.mchID)
	}
	// Refund resources carry no appid; a transaction's must be ours.
	if p.AppID != "" && p.AppID != v.appID {
		return gateway.Notification{}, fmt.Errorf("%w: appid %q, this merchant's is %s", gateway.ErrWrongMerchant, p.AppID, v.appID)
	}
	if p.Amount != nil {
		n.Currency = p.Amount.Currency
		if p.Amount.Total != nil {
			n.Amount = gateway.MoneyFromFen(*p.Amount.Total)
		}
	}
	if p.Payer != nil {
		n.BuyerID = p.Payer.OpenID
	}
	switch req.EventType {
	case "TRANSACTION.SUCCESS":
		n.Event, n.PlatformState = gateway.EventPayment, p.TradeState
		if p.TradeState != "SUCCESS" {
			return gateway.Notification{}, malformed("event TRANSACTION.SUCCESS with trade_state %q", p.TradeState)
		}
		if p.AppID == "" || p.OutTradeNo == "" || p.TransactionID == "" || p.Amount == nil || p.Amount.Total == nil {
			return gateway.Notification{}, malformed("transaction without appid, out_trade_no, transaction_id or amount.total")
		}
		at, err := parseNotifyTime("success_time", p.SuccessTime)
		if err != nil {
			return gateway.Notification{}, err
		}
		n.PaidAt = at
	case "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED":
		return refundNotification(n, req.EventType, p)
	default:
		// Events of other products: verified and kept, but they change
		// nothing locally.
		n.Event, n.PlatformState = gateway.EventOther, req.EventType
		n.OutRequestNo, n.RefundID = p.OutRefundNo, p.RefundID
	}
	return n, nil
}

// refundEvents maps WeChat's refund notification types to the event and
// the refund_status their resource must carry (退款结果通知:
// REFUND.SUCCESS 退款成功, REFUND.ABNORMAL 退款异常, REFUND.CLOSED 退款关闭).
var refundEvents = map[string]struct {
	event  gateway.Event
	status string
}{
	"REFUND.SUCCESS":  {gateway.EventRefund, "SUCCESS"},
	"REFUND.ABNORMAL": {gateway.EventRefundAbnormal, "ABNORMAL"},
	"REFUND.CLOSED":   {gateway.EventRefundClosed, "CLOSED"},
}

func refundNotification(n gateway.Notification, eventType string, p resourcePlain) (gateway.Notification, error) {
	ev := refundEvents[eventType]
	n.Event, n.PlatformState = ev.event, p.RefundStatus
	if p.RefundStatus != ev.status {
		return gateway.Notification{}, malformed("event %s with refund_status %q", eventType, p.RefundStatus)
	}
	if p.OutTradeNo == "" || p.OutRefundNo == "" || p.RefundID == "" || p.Amount == nil || p.Amount.Refund == nil {
		return gateway.Notification{}, malformed("refund without out_trade_no, out_refund_no, refund_id or amount.refund")
	}
	n.OutRequestNo, n.RefundID = p.OutRefundNo, p.RefundID
	n.RefundAmount = gateway.MoneyFromFen(*p.Amount.Refund)
	if ev.event != gateway.EventRefund {
		// ABNORMAL and CLOSED refunds carry no success_time.
		return n, nil
	}
	at, err := parseNotifyTime("success_time", p.SuccessTime)
	if err != nil {
		return gateway.Notification{}, err
	}
	n.RefundedAt = at
	return n, nil
}

func parseNotifyTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, malformed("%s %q is not an RFC 3339 time", field, s)
	}
	return t.UTC(), nil
}

// NotifyReply is the answer WeChat Pay expects: 204 with no body when the
// notification is accepted; otherwise {"code":"FAIL","message":...} with 401
// for a bad signature, 400 for any other rejection of the notification
// itself, and 500 for a failure on paydesk's side. Any non-2xx makes the
// platform send it again.
func (c *Client) NotifyReply(err error) gateway.Reply {
	if err == nil {
		return gateway.Reply{Status: http.StatusNoContent}
	}
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, gateway.ErrBadSignature):
		status = http.StatusUnauthorized
	case gateway.IsRejection(err):
		status = http.StatusBadRequest
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	body, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{"FAIL", strings.ToValidUTF8(msg, "?")})
	return gateway.Reply{Status: status, ContentType: "application/json", Body: body}
}
