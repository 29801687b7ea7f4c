package sandbox

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"hash"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// WeChat Pay v2, as documented at pay.weixin.qq.com/doc/v2/merchant
// (orderquery 4011935215, refund 4011935217, refundquery 4011935218,
// downloadbill, payment and refund notifications 4011937248) and as
// github.com/go-pay/gopay's wechat package sends and reads it: POSTed XML
// documents of flat fields, signed with the merchant's API key; answers
// signed the same way (the request's sign_type) once return_code is
// SUCCESS; refunds only over mutual TLS with the merchant API certificate.

// v2 sign types.
const (
	v2MD5  = "MD5"
	v2HMAC = "HMAC-SHA256"
)

// v2 API paths served.
const (
	wechatV2QueryPath       = "/pay/orderquery"
	wechatV2RefundPath      = "/secapi/pay/refund"
	wechatV2RefundQueryPath = "/pay/refundquery"
	wechatV2BillPath        = "/pay/downloadbill"
	wechatV2FundFlowPath    = "/pay/downloadfundflow"
)

func (w *wechatSide) v2Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+wechatV2QueryPath, w.handleV2Query)
	mux.HandleFunc("POST "+wechatV2RefundPath, w.handleV2Refund)
	mux.HandleFunc("POST "+wechatV2RefundQueryPath, w.handleV2RefundQuery)
	mux.HandleFunc("POST "+wechatV2BillPath, w.handleV2Bill)
	mux.HandleFunc("POST "+wechatV2FundFlowPath, w.handleV2FundFlow)
}

// v2Fields reads a flat v2 XML document (<xml> or <root>) into its fields.
func v2Fields(body []byte) (map[string]string, error) {
	var doc struct {
		Fields []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	f := make(map[string]string, len(doc.Fields))
	for _, e := range doc.Fields {
		f[e.XMLName.Local] = e.Value
	}
	return f, nil
}

// v2Document writes fields under root, every value in CDATA, in name
// order.
func v2Document(root string, f map[string]string) []byte {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<" + root + ">")
	for _, k := range keys {
		b.WriteString("<" + k + "><![CDATA[" + f[k] + "]]></" + k + ">")
	}
	b.WriteString("</" + root + ">")
	return b.Bytes()
}

// v2Signature signs fields as the platform does: the non-empty fields but
// sign, sorted, as k=v joined by &, then &key=API_KEY; MD5, or HMAC-SHA256
// keyed with the API key; uppercase hex.
func v2Signature(f map[string]string, apiKey, signType string) string {
	keys := make([]string, 0, len(f))
	for k, v := range f {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var s strings.Builder
	for _, k := range keys {
		s.WriteString(k + "=" + f[k] + "&")
	}
	s.WriteString("key=" + apiKey)
	var h hash.Hash = md5.New()
	if signType == v2HMAC {
		h = hmac.New(sha256.New, []byte(apiKey))
	}
	h.Write([]byte(s.String()))
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// v2Refusal is an answer with return_code FAIL: the request was not
// understood (format, signature, certificate). The platform does not sign
// those.
func v2Refusal(rw http.ResponseWriter, msg string) {
	rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = rw.Write(v2Document("xml", map[string]string{"return_code": "FAIL", "return_msg": msg}))
}

// v2Request reads and checks a v2 request: its XML, its sign with the API
// key under the sign_type it declares, and that it is this merchant's. It
// answers and returns false when the request is refused.
func (w *wechatSide) v2Request(rw http.ResponseWriter, r *http.Request) (map[string]string, string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, 64<<10))
	if err != nil {
		v2Refusal(rw, "请求体无法读取")
		return nil, "", false
	}
	f, err := v2Fields(body)
	if err != nil {
		v2Refusal(rw, "XML格式错误")
		return nil, "", false
	}
	st := f["sign_type"]
	switch st {
	case "":
		st = v2MD5
	case v2MD5, v2HMAC:
	default:
		v2Refusal(rw, "sign_type 参数错误")
		return nil, "", false
	}
	k := w.s.cfg.Keys
	if f["sign"] == "" || !hmac.Equal([]byte(f["sign"]), []byte(v2Signature(f, k.WeChatV2APIKey, st))) {
		v2Refusal(rw, "签名错误")
		return nil, "", false
	}
	switch {
	case f["mch_id"] != k.WeChatMchID:
		w.v2Answer(rw, st, map[string]string{"result_code": "FAIL", "err_code": "MCHID_NOT_EXIST", "err_code_des": "商户号不存在"})
		return nil, "", false
	case f["appid"] != k.WeChatAppID:
		w.v2Answer(rw, st, map[string]string{"result_code": "FAIL", "err_code": "APPID_MCHID_NOT_MATCH", "err_code_des": "appid和mch_id不匹配"})
		return nil, "", false
	}
	return f, st, true
}

// v2Answer writes a return_code SUCCESS answer: the fields, the merchant's
// identity, a nonce, and the sign made the way the request was signed.
func (w *wechatSide) v2Answer(rw http.ResponseWriter, signType string, f map[string]string) {
	k := w.s.cfg.Keys
	f["return_code"], f["return_msg"] = "SUCCESS", "OK"
	f["appid"], f["mch_id"], f["nonce_str"] = k.WeChatAppID, k.WeChatMchID, wechatToken(32)
	f["sign"] = v2Signature(f, k.WeChatV2APIKey, signType)
	rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = rw.Write(v2Document("xml", f))
}

func v2Fail(code, des string) map[string]string {
	return map[string]string{"result_code": "FAIL", "err_code": code, "err_code_des": des}
}

// v2Time formats a time as v2's time_end: yyyyMMddHHmmss in the zone.
func (w *wechatSide) v2Time(t time.Time) string { return t.In(w.s.Zone()).Format("20060102150405") }

// v2Trade renders a trade as orderquery reports it. Only a paid trade
// (SUCCESS, or REFUND once refunded) carries the payment's fields.
func (w *wechatSide) v2Trade(t *Trade) map[string]string {
	tx := w.wechatTransactionOf(t)
	f := map[string]string{"result_code": "SUCCESS", "out_trade_no": t.OutTradeNo, "trade_state": tx.TradeState,
		"trade_state_desc": tx.TradeStateDesc, "attach": ""}
	if tx.TransactionID != "" {
		fee := strconv.FormatInt(int64(t.Amount), 10)
		f["transaction_id"], f["openid"], f["is_subscribe"], f["trade_type"] = t.TradeNo, t.BuyerID, "N", "NATIVE"
		f["bank_type"], f["total_fee"], f["fee_type"], f["cash_fee"], f["cash_fee_type"] = "OTHERS", fee, "CNY", fee, "CNY"
		f["time_end"] = w.v2Time(t.PaidAt)
	}
	return f
}

// POST /pay/orderquery
func (w *wechatSide) handleV2Query(rw http.ResponseWriter, r *http.Request) {
	f, st, ok := w.v2Request(rw, r)
	if !ok {
		return
	}
	if f["out_trade_no"] == "" && f["transaction_id"] == "" {
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "out_trade_no与transaction_id必填其一"))
		return
	}
	t := w.findTrade(f["out_trade_no"], f["transaction_id"])
	fault := w.s.fault(gateway.WeChat, f["out_trade_no"])
	if !w.s.beforeAPI(rw, r, fault) || !w.s.afterAPI(r, fault) {
		return
	}
	if t == nil {
		w.v2Answer(rw, st, v2Fail("ORDERNOTEXIST", "订单不存在"))
		return
	}
	w.v2Answer(rw, st, w.v2Trade(t))
}

// v2ClientCertOK says whether the request came over TLS with a merchant
// API certificate the sandbox's CA issued to this merchant.
func (w *wechatSide) v2ClientCertOK(r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return false
	}
	return r.TLS.VerifiedChains[0][0].Subject.CommonName == w.s.cfg.Keys.WeChatMchID
}

// v2CertRequest is v2Request for the APIs that need the merchant API
// certificate: checked before anything is read, since they answer nobody
// without it.
func (w *wechatSide) v2CertRequest(rw http.ResponseWriter, r *http.Request) (map[string]string, string, bool) {
	if !w.v2ClientCertOK(r) {
		v2Refusal(rw, "证书验证失败：本接口需要商户API证书（apiclient_cert.pem）双向认证")
		return nil, "", false
	}
	return w.v2Request(rw, r)
}

// POST /secapi/pay/refund (mutual TLS)
//
// Like the platform, the answer says the request was accepted; the outcome
// comes through the refund notification and refundquery. A refund's
// notifications go to its notify_url when it has one, as for APIv3, else
// to the trade's notify URL.
func (w *wechatSide) handleV2Refund(rw http.ResponseWriter, r *http.Request) {
	f, st, ok := w.v2CertRequest(rw, r)
	if !ok {
		return
	}
	fen := func(k string) (int64, bool) {
		n, err := strconv.ParseInt(f[k], 10, 64)
		return n, err == nil && n > 0
	}
	total, okTotal := fen("total_fee")
	refund, okRefund := fen("refund_fee")
	switch {
	case f["out_refund_no"] == "" || len(f["out_refund_no"]) > 64:
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "out_refund_no必填，且不超过64个字符"))
		return
	case f["out_trade_no"] == "" && f["transaction_id"] == "":
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "out_trade_no与transaction_id必填其一"))
		return
	case !okTotal || !okRefund:
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "total_fee与refund_fee必须是正整数（分）"))
		return
	case f["refund_fee_type"] != "" && f["refund_fee_type"] != "CNY":
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "refund_fee_type只支持CNY"))
		return
	}
	t := w.findTrade(f["out_trade_no"], f["transaction_id"])
	if t == nil {
		w.v2Answer(rw, st, v2Fail("ORDERNOTEXIST", "订单不存在"))
		return
	}
	if total != int64(t.Amount) {
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "订单金额total_fee与原订单金额不一致"))
		return
	}
	if other, _ := w.findRefund(f["out_refund_no"]); other != nil && other.OutTradeNo != t.OutTradeNo {
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "商户退款单号已用于其他订单"))
		return
	}
	fault := w.s.fault(gateway.WeChat, t.OutTradeNo)
	if !w.s.beforeAPI(rw, r, fault) {
		return
	}
	t2, ref, _, err := w.s.apiRefund(RefundSpec{Channel: gateway.WeChat, OutTradeNo: t.OutTradeNo, OutRequestNo: f["out_refund_no"],
		Amount: gateway.Money(refund), Reason: f["refund_desc"], NotifyURL: f["notify_url"]})
	if !w.s.afterAPI(r, fault) {
		return // Hang: the refund is made, the answer never comes
	}
	if err != nil {
		w.v2Answer(rw, st, v2RefundRefusal(err))
		return
	}
	amount := strconv.FormatInt(int64(ref.Amount), 10)
	fee := strconv.FormatInt(int64(t2.Amount), 10)
	w.v2Answer(rw, st, map[string]string{"result_code": "SUCCESS", "transaction_id": t2.TradeNo, "out_trade_no": t2.OutTradeNo,
		"out_refund_no": ref.OutRequestNo, "refund_id": ref.RefundID, "refund_fee": amount, "settlement_refund_fee": amount,
		"total_fee": fee, "settlement_total_fee": fee, "fee_type": "CNY", "cash_fee": fee, "cash_refund_fee": amount})
}

// v2RefundRefusal maps the trade book's refusals to v2 err_codes.
func v2RefundRefusal(err error) map[string]string {
	switch {
	case errors.Is(err, ErrNoSuchTrade):
		return v2Fail("ORDERNOTEXIST", "订单不存在")
	case errors.Is(err, ErrNotPaid):
		return v2Fail("ERROR", "订单未支付，不能退款")
	case errors.Is(err, ErrRefundTooLarge):
		return v2Fail("ERROR", "申请退款金额超过订单可退金额")
	case errors.Is(err, ErrRefundNoMismatch):
		return v2Fail("PARAM_ERROR", "同一商户退款单号的退款金额与之前的请求不一致")
	case errors.Is(err, ErrInvalidAmount):
		return v2Fail("PARAM_ERROR", "退款金额必须大于0")
	}
	return v2Fail("SYSTEMERROR", "系统超时，请使用相同参数再次调用")
}

// v2RefundStatus spells a refund's state as refundquery does: SUCCESS,
// PROCESSING, REFUNDCLOSE (closed: APIv3's CLOSED) or CHANGE (退款异常:
// APIv3's ABNORMAL).
func v2RefundStatus(st gateway.RefundStatus) string {
	switch st {
	case gateway.RefundSuccess:
		return "SUCCESS"
	case gateway.RefundPending:
		return "PROCESSING"
	case gateway.RefundAbnormal:
		return "CHANGE"
	}
	return "REFUNDCLOSE"
}

// POST /pay/refundquery
func (w *wechatSide) handleV2RefundQuery(rw http.ResponseWriter, r *http.Request) {
	f, st, ok := w.v2Request(rw, r)
	if !ok {
		return
	}
	var t *Trade
	var refunds []*Refund
	switch {
	case f["out_refund_no"] != "":
		var ref *Refund
		if t, ref = w.findRefund(f["out_refund_no"]); ref != nil {
			refunds = []*Refund{ref}
		}
	case f["out_trade_no"] != "" || f["transaction_id"] != "":
		if t = w.findTrade(f["out_trade_no"], f["transaction_id"]); t != nil {
			refunds = t.Refunds
		}
	default:
		w.v2Answer(rw, st, v2Fail("PARAM_ERROR", "refund_id、out_refund_no、out_trade_no、transaction_id必填其一"))
		return
	}
	fault := w.s.fault(gateway.WeChat, "")
	if t != nil {
		fault = w.s.fault(gateway.WeChat, t.OutTradeNo)
	}
	if !w.s.beforeAPI(rw, r, fault) || !w.s.afterAPI(r, fault) {
		return
	}
	if len(refunds) == 0 {
		w.v2Answer(rw, st, v2Fail("REFUNDNOTEXIST", "退款订单查询失败"))
		return
	}
	fee := strconv.FormatInt(int64(t.Amount), 10)
	out := map[string]string{"result_code": "SUCCESS", "transaction_id": t.TradeNo, "out_trade_no": t.OutTradeNo,
		"total_fee": fee, "cash_fee": fee, "fee_type": "CNY", "refund_count": strconv.Itoa(len(refunds))}
	for n, ref := range refunds {
		set := func(k, v string) { out[k+"_"+strconv.Itoa(n)] = v }
		amount := strconv.FormatInt(int64(ref.Amount), 10)
		set("out_refund_no", ref.OutRequestNo)
		set("refund_id", ref.RefundID)
		set("refund_channel", "ORIGINAL")
		set("refund_fee", amount)
		set("settlement_refund_fee", amount)
		set("refund_status", v2RefundStatus(ref.Status))
		set("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS")
		set("refund_recv_accout", "支付用户零钱")
		if ref.Status == gateway.RefundAbnormal {
			set("refund_recv_accout", "招商银行信用卡0403") // the card that refused it
		}
		if ref.Status == gateway.RefundSuccess {
			set("refund_success_time", ref.SucceededAt.In(w.s.Zone()).Format(time.DateTime))
		}
	}
	w.v2Answer(rw, st, out)
}

// POST /pay/downloadbill
//
// The answer is the bill itself, unsigned and without a hash (v2 has
// none), or a small XML refusal. The bill is the same text as APIv3's
// tradebill.
func (w *wechatSide) handleV2Bill(rw http.ResponseWriter, r *http.Request) {
	f, _, ok := w.v2Request(rw, r)
	if !ok {
		return
	}
	zone := w.s.Zone()
	day, err := time.ParseInLocation("20060102", f["bill_date"], zone)
	if err != nil {
		v2Refusal(rw, "invalid bill_date")
		return
	}
	kind := f["bill_type"]
	if kind == "" {
		kind = "ALL"
	}
	if _, ok := wechatBillHeaders[kind]; !ok {
		v2Refusal(rw, "invalid bill_type")
		return
	}
	w.serveV2Bill(rw, r, f, day, func(out io.Writer, day time.Time) (int, error) { return w.s.WriteWeChatBill(out, day, kind) })
}

// POST /pay/downloadfundflow (mutual TLS)
//
// The fund-flow bill (资金账单) of an account, as the platform documents it
// (pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_18) and gopay's
// DownloadFundFlow sends it: the merchant API certificate, sign_type
// HMAC-SHA256 only, account_type Basic, Operation or Fees. The answer is
// the same text as APIv3's fundflowbill. The sandbox's merchant has money
// only in its Basic account.
func (w *wechatSide) handleV2FundFlow(rw http.ResponseWriter, r *http.Request) {
	f, st, ok := w.v2CertRequest(rw, r)
	if !ok {
		return
	}
	if st != v2HMAC {
		v2Refusal(rw, "签名类型错误：下载资金账单仅支持HMAC-SHA256")
		return
	}
	day, err := time.ParseInLocation("20060102", f["bill_date"], w.s.Zone())
	if err != nil {
		v2Refusal(rw, "invalid bill_date")
		return
	}
	write := w.s.WriteWeChatFundBill
	switch f["account_type"] {
	case "Basic":
	case "Operation", "Fees":
		write = func(io.Writer, time.Time) (int, error) { return 0, nil }
	default:
		v2Refusal(rw, "invalid account_type")
		return
	}
	w.serveV2Bill(rw, r, f, day, write)
}

// serveV2Bill answers a v2 bill request with the bill write makes for
// day: gzip when asked, or the "No Bill Exist" refusal for a day not over
// or without rows.
func (w *wechatSide) serveV2Bill(rw http.ResponseWriter, r *http.Request, f map[string]string, day time.Time, write func(io.Writer, time.Time) (int, error)) {
	if tar := f["tar_type"]; tar != "" && tar != "GZIP" {
		v2Refusal(rw, "invalid tar_type")
		return
	}
	fault := w.s.fault(gateway.WeChat, "")
	if !w.s.beforeAPI(rw, r, fault) {
		return
	}
	noBill := func() {
		rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = rw.Write(v2Document("xml", map[string]string{"return_code": "FAIL", "return_msg": "No Bill Exist", "error_code": "20002"}))
	}
	today, _ := gateway.Day(w.s.now(), w.s.Zone())
	if !day.Before(today) {
		noBill() // made the next morning, as at the platform
		return
	}
	var text bytes.Buffer
	rows, err := write(&text, day)
	if err != nil {
		v2Refusal(rw, "系统错误")
		return
	}
	if rows == 0 {
		noBill()
		return
	}
	if !w.s.afterAPI(r, fault) {
		return
	}
	data, ctype := text.Bytes(), "text/plain; charset=utf-8"
	if f["tar_type"] == "GZIP" {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(data)
		_ = zw.Close()
		data, ctype = gz.Bytes(), "application/x-gzip"
	}
	rw.Header().Set("Content-Type", ctype)
	rw.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = rw.Write(data)
}

// v2ReturnCode reads the return_code of a v2 XML reply, if body is one.
func v2ReturnCode(body []byte) (string, bool) {
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		return "", false
	}
	f, err := v2Fields(body)
	if err != nil {
		return "", false
	}
	code, ok := f["return_code"]
	return code, ok
}
