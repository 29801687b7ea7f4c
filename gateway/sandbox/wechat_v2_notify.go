package sandbox

import (
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// wechatV2ForgerKey signs (and encrypts) v2 notifications under the
// BadSignature fault: a well-formed API key that is not the merchant's.
const wechatV2ForgerKey = "ForgedKeyForgedKeyForgedKey01234"

// v2NotifySignType is the sign type of the v2 XML an event goes out as, or
// "" when it goes out as APIv3: the trade's fault decides, else the
// sandbox's WeChatAPI.
func (w *wechatSide) v2NotifySignType(f Fault) string {
	if f.WeChatV2 != "" {
		return f.WeChatV2
	}
	if w.s.cfg.WeChatAPI == "v2" {
		return w.s.cfg.WeChatV2SignType
	}
	return ""
}

// v2Notification builds a v2 notification as the platform posts it:
//
//   - a payment (支付结果通知): the transaction's fields, signed with the API
//     key under signType (sign_type is written only for HMAC-SHA256; MD5 is
//     the default it leaves out);
//   - a refund's outcome (退款结果通知: SUCCESS, CHANGE or REFUNDCLOSE):
//     unsigned, the refund in req_info, AES-256-ECB under the lowercase hex
//     MD5 of the API key with PKCS#7 padding.
//
// Faults: BadSignature signs (or encrypts) with a key that is not the
// merchant's; TamperAmount changes total_fee after signing, or, in a
// refund, refund_fee inside req_info (a man in the middle who has the key).
func (w *wechatSide) v2Notification(ev Event, signType string) (http.Header, []byte, error) {
	k := w.s.cfg.Keys
	key := k.WeChatV2APIKey
	if ev.Fault.BadSignature {
		key = wechatV2ForgerKey
	}
	t := ev.Trade
	h := http.Header{}
	h.Set("Content-Type", "text/xml")
	switch ev.Kind {
	case EventPaid:
		fee := strconv.FormatInt(int64(t.Amount), 10)
		f := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": k.WeChatAppID, "mch_id": k.WeChatMchID,
			"nonce_str": wechatToken(32), "openid": t.BuyerID, "is_subscribe": "N", "trade_type": "NATIVE", "bank_type": "OTHERS",
			"total_fee": fee, "fee_type": "CNY", "cash_fee": fee, "transaction_id": t.TradeNo, "out_trade_no": t.OutTradeNo,
			"time_end": w.v2Time(t.PaidAt)}
		if signType == v2HMAC {
			f["sign_type"] = v2HMAC
		}
		f["sign"] = v2Signature(f, key, signType)
		if ev.Fault.TamperAmount != 0 {
			f["total_fee"] = strconv.FormatInt(int64(t.Amount+ev.Fault.TamperAmount), 10)
		}
		return h, v2Document("xml", f), nil
	case EventRefunded, EventRefundAbnormal, EventRefundClosed:
		r := ev.Refund
		refund := strconv.FormatInt(int64(r.Amount+ev.Fault.TamperAmount), 10)
		fee := strconv.FormatInt(int64(t.Amount), 10)
		f := map[string]string{"out_refund_no": r.OutRequestNo, "out_trade_no": t.OutTradeNo,
			"refund_account": "REFUND_SOURCE_RECHARGE_FUNDS", "refund_fee": refund, "refund_id": r.RefundID,
			"refund_recv_accout": "支付用户零钱", "refund_request_source": "API", "refund_status": v2RefundNotices[ev.Kind],
			"settlement_refund_fee": refund, "settlement_total_fee": fee, "total_fee": fee, "transaction_id": t.TradeNo}
		switch ev.Kind {
		case EventRefunded:
			f["success_time"] = r.SucceededAt.In(w.s.Zone()).Format(time.DateTime)
		case EventRefundAbnormal:
			// 退款异常 happens on the way to a bank card (WxJava's example
			// account); success_time is the money reaching the buyer, so
			// only a SUCCESS carries it.
			f["refund_recv_accout"] = "招商银行信用卡0403"
		}
		info, err := v2EncryptReqInfo(v2Document("root", f), key)
		if err != nil {
			return nil, nil, err
		}
		return h, v2Document("xml", map[string]string{"return_code": "SUCCESS", "appid": k.WeChatAppID, "mch_id": k.WeChatMchID,
			"nonce_str": wechatToken(32), "req_info": info}), nil
	}
	return nil, nil, fmt.Errorf("sandbox: no WeChat v2 notification for event %q", ev.Kind)
}

// v2RefundNotices are the refund_status a v2 refund notification carries
// for each refund event (退款结果通知: SUCCESS 退款成功, CHANGE 退款异常,
// REFUNDCLOSE 退款关闭), as APIv3 sends REFUND.SUCCESS, REFUND.ABNORMAL and
// REFUND.CLOSED.
var v2RefundNotices = map[EventKind]string{EventRefunded: "SUCCESS", EventRefundAbnormal: "CHANGE", EventRefundClosed: "REFUNDCLOSE"}

// v2EncryptReqInfo seals a refund notification's plaintext: PKCS#7, then
// AES-256-ECB under the lowercase hex MD5 of the API key (32 ASCII bytes),
// then base64.
func v2EncryptReqInfo(plain []byte, apiKey string) (string, error) {
	sum := md5.Sum([]byte(apiKey))
	block, err := aes.NewCipher([]byte(hex.EncodeToString(sum[:])))
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte{}, plain...), make([]byte, pad)...)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	for i := 0; i < len(buf); i += aes.BlockSize {
		block.Encrypt(buf[i:i+aes.BlockSize], buf[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(buf), nil
}
