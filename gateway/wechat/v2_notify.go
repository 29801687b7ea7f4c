package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paydesk/paydesk/gateway"
)

// VerifyNotification checks a v2 notification (XML) as it was received and
// returns it normalized. Two kinds arrive on the same URL:
//
//   - payment results (支付结果通知): the sign, made with the sign type the
//     notification declares (sign_type, MD5 when absent) over every
//     non-empty field but sign, must be the API key's; return_code must be
//     SUCCESS; mch_id and appid must be this merchant's. result_code
//     SUCCESS is gateway.EventPayment with total_fee (fen) and fee_type;
//     FAIL is gateway.EventOther.
//   - refund results (退款结果通知): unsigned; what vouches for them is
//     req_info, AES-256-ECB under the lowercase hex MD5 of the API key
//     (PKCS#7), which only the platform and the merchant can make. Its
//     plaintext <root> names the refund by out_refund_no. refund_status
//     SUCCESS is gateway.EventRefund, CHANGE (退款异常) EventRefundAbnormal
//     and REFUNDCLOSE EventRefundClosed, as APIv3's REFUND.* are.
//
// v2 notifications carry no timestamp, so header and receivedAt play no
// part. Errors wrap gateway.ErrMalformed, ErrBadSignature or
// ErrWrongMerchant.
func (c *V2Client) VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (gateway.Notification, error) {
	if len(body) == 0 {
		return gateway.Notification{}, malformed("empty body")
	}
	f, err := parseV2XML(body, "xml")
	if err != nil {
		return gateway.Notification{}, malformed("%v", err)
	}
	if f["return_code"] != "SUCCESS" {
		return gateway.Notification{}, malformed("return_code %q: %s", f["return_code"], f["return_msg"])
	}
	if f["req_info"] != "" {
		return c.refundNotification(f)
	}
	st, err := notifySignType(f)
	if err != nil {
		return gateway.Notification{}, err
	}
	if err := verifyV2Sign(f, c.cfg.APIKey, st); err != nil {
		return gateway.Notification{}, err
	}
	if err := c.ours(f); err != nil {
		return gateway.Notification{}, err
	}
	n := gateway.Notification{Channel: gateway.WeChat, AppID: f["appid"], MchID: f["mch_id"], OutTradeNo: f["out_trade_no"],
		TradeNo: f["transaction_id"], PlatformState: f["result_code"], BuyerID: f["openid"], Raw: body}
	if f["result_code"] != "SUCCESS" {
		// A failed payment: verified and kept, nothing to apply.
		n.Event = gateway.EventOther
		return n, nil
	}
	n.Event = gateway.EventPayment
	if n.OutTradeNo == "" || n.TradeNo == "" {
		return gateway.Notification{}, malformed("payment without out_trade_no or transaction_id")
	}
	if n.Amount, err = parseFen("total_fee", f["total_fee"]); err != nil {
		return gateway.Notification{}, malformed("%v", err)
	}
	n.Currency = f["fee_type"]
	if n.Currency == "" {
		n.Currency = "CNY" // fee_type is optional; v2 defaults it to CNY
	}
	at, err := time.ParseInLocation(v2Time, f["time_end"], c.cfg.Zone)
	if err != nil {
		return gateway.Notification{}, malformed("time_end %q is not yyyyMMddHHmmss", f["time_end"])
	}
	n.PaidAt = at.UTC()
	return n, nil
}

// ours checks that a notification is addressed to this merchant.
func (c *V2Client) ours(f map[string]string) error {
	if f["mch_id"] != c.cfg.MchID {
		return fmt.Errorf("%w: mch_id %q, this merchant is %s", gateway.ErrWrongMerchant, f["mch_id"], c.cfg.MchID)
	}
	if got := f["appid"]; got != "" && got != c.cfg.AppID {
		return fmt.Errorf("%w: appid %q, this merchant's is %s", gateway.ErrWrongMerchant, got, c.cfg.AppID)
	}
	return nil
}

func (c *V2Client) refundNotification(f map[string]string) (gateway.Notification, error) {
	if err := c.ours(f); err != nil {
		return gateway.Notification{}, err
	}
	plain, err := decryptReqInfo(f["req_info"], c.cfg.APIKey)
	if err != nil {
		// Without a signature, a req_info that does not decrypt is all
		// there is to tell a forgery by; it is also what a wrong API key
		// here looks like. Either way it is refused, and a replay once
		// the key is right verifies it again.
		return gateway.Notification{}, fmt.Errorf("%w: req_info does not decrypt with the API key: %v", gateway.ErrBadSignature, err)
	}
	r, err := parseV2XML(plain, "root")
	if err != nil {
		return gateway.Notification{}, fmt.Errorf("%w: decrypted req_info: %v", gateway.ErrBadSignature, err)
	}
	n := gateway.Notification{Channel: gateway.WeChat, AppID: f["appid"], MchID: f["mch_id"], OutTradeNo: r["out_trade_no"],
		TradeNo: r["transaction_id"], OutRequestNo: r["out_refund_no"], RefundID: r["refund_id"],
		PlatformState: r["refund_status"], Currency: "CNY", Raw: plain}
	if s := r["total_fee"]; s != "" {
		if n.Amount, err = parseFen("total_fee", s); err != nil {
			return gateway.Notification{}, malformed("req_info: %v", err)
		}
	}
	ev, ok := v2RefundEvents[r["refund_status"]]
	if !ok {
		// A status no refund notification is documented to carry:
		// verified and kept; nothing to apply.
		n.Event = gateway.EventOther
		return n, nil
	}
	n.Event = ev
	if n.OutTradeNo == "" || n.OutRequestNo == "" || n.RefundID == "" {
		return gateway.Notification{}, malformed("refund without out_trade_no, out_refund_no or refund_id")
	}
	if n.RefundAmount, err = parseFen("refund_fee", r["refund_fee"]); err != nil {
		return gateway.Notification{}, malformed("req_info: %v", err)
	}
	if ev != gateway.EventRefund {
		// CHANGE and REFUNDCLOSE carry no success_time (资金退款至用户帐号
		// 的时间): no money reached the buyer.
		return n, nil
	}
	at, err := time.ParseInLocation(time.DateTime, r["success_time"], c.cfg.Zone)
	if err != nil {
		return gateway.Notification{}, malformed("success_time %q is not yyyy-MM-dd HH:mm:ss", r["success_time"])
	}
	n.RefundedAt = at.UTC()
	return n, nil
}

// v2RefundEvents maps a refund notification's refund_status to the event
// an APIv3 refund notification of the same outcome is (v2RefundStates):
// SUCCESS is REFUND.SUCCESS, CHANGE (退款异常) REFUND.ABNORMAL, REFUNDCLOSE
// (退款关闭) REFUND.CLOSED; each is applied as the v3 one is.
var v2RefundEvents = map[string]gateway.Event{
	"SUCCESS":     gateway.EventRefund,
	"CHANGE":      gateway.EventRefundAbnormal,
	"REFUNDCLOSE": gateway.EventRefundClosed,
}

// reqInfoKey is the AES-256 key of req_info: the lowercase hex MD5 of the
// API key, used as 32 ASCII bytes.
func reqInfoKey(apiKey string) []byte {
	sum := md5.Sum([]byte(apiKey))
	return []byte(hex.EncodeToString(sum[:]))
}

// decryptReqInfo opens a refund notification's req_info: base64, then
// AES-256-ECB with reqInfoKey, then PKCS#7 padding, every byte of which is
// checked (a wrong key fails there, or at the XML that follows).
func decryptReqInfo(reqInfo, apiKey string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(strings.TrimSpace(reqInfo))
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of AES blocks", len(ct))
	}
	block, err := aes.NewCipher(reqInfoKey(apiKey))
	if err != nil {
		return nil, err
	}
	pt := make([]byte, len(ct))
	for i := 0; i < len(ct); i += aes.BlockSize {
		block.Decrypt(pt[i:i+aes.BlockSize], ct[i:i+aes.BlockSize])
	}
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(pt[len(pt)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("bad PKCS#7 padding")
	}
	return pt[:len(pt)-pad], nil
}

// NotifyReply is the v2 answer: HTTP 200 with
// <xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>
// when the notification is accepted, or return_code FAIL with the reason
// in return_msg (at most 128 bytes), which makes the platform send it
// again.
func (c *V2Client) NotifyReply(err error) gateway.Reply { return v2Reply(err) }

func v2Reply(err error) gateway.Reply {
	code, msg := "SUCCESS", "OK"
	if err != nil {
		code, msg = "FAIL", strings.ToValidUTF8(err.Error(), "?")
		for len(msg) > 128 {
			_, size := utf8.DecodeLastRuneInString(msg)
			msg = msg[:len(msg)-size]
		}
	}
	return gateway.Reply{Status: http.StatusOK, ContentType: "text/xml; charset=utf-8",
		Body: writeV2XML(map[string]string{"return_code": code, "return_msg": msg})}
}
