package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Alipay's public response codes (https://opendocs.alipay.com/common/02km9f).
const (
	alipayCodeSuccess  = "10000"
	alipayCodeMissing  = "40001" // Missing Required Arguments
	alipayCodeInvalid  = "40002" // Invalid Arguments
	alipayCodeBusiness = "40004" // Business Failed
)

var alipayCodeMsg = map[string]string{
	alipayCodeSuccess:  "Success",
	alipayCodeMissing:  "Missing Required Arguments",
	alipayCodeInvalid:  "Invalid Arguments",
	alipayCodeBusiness: "Business Failed",
}

// alipayFault is an answer other than success: the code, and the sub_code and
// sub_msg a merchant's code branches on.
type alipayFault struct {
	Code, SubCode, SubMsg string
	// Signed: business failures (40004) are signed like successes; gateway
	// rejections (bad app id, bad signature, missing arguments) are not,
	// because the gateway has not accepted the caller as the app.
	Signed bool
}

func alipayGatewayError(code, subCode, subMsg string) *alipayFault {
	return &alipayFault{Code: code, SubCode: subCode, SubMsg: subMsg}
}

func alipayBusinessError(subCode, subMsg string) *alipayFault {
	return &alipayFault{Code: alipayCodeBusiness, SubCode: subCode, SubMsg: subMsg, Signed: true}
}

// alipayEnvelope is the common part of every response object.
type alipayEnvelope struct {
	Code    string `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code,omitempty"`
	SubMsg  string `json:"sub_msg,omitempty"`
}

func alipayOK() alipayEnvelope {
	return alipayEnvelope{Code: alipayCodeSuccess, Msg: alipayCodeMsg[alipayCodeSuccess]}
}

func (f *alipayFault) envelope() alipayEnvelope {
	return alipayEnvelope{Code: f.Code, Msg: alipayCodeMsg[f.Code], SubCode: f.SubCode, SubMsg: f.SubMsg}
}

// alipayRequest is one parsed and authenticated OpenAPI call.
type alipayRequest struct {
	method string
	params map[string]string
	biz    map[string]json.RawMessage
}

func (r *alipayRequest) bizString(key string) (string, bool) {
	raw, ok := r.biz[key]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// handleGateway serves POST /gateway.do. The public parameters may come in
// the form body or the query string (Alipay's own Java SDK puts them in the
// query and only biz_content in the body); both are accepted, merged, and
// signed over together.
func (a *alipaySide) handleGateway(w http.ResponseWriter, r *http.Request) {
	req, fault := a.authenticate(w, r)
	if req != nil && req.params["sign_type"] == alipaySignRSA {
		// An RSA app gets its answers signed RSA too.
		w = alipayAnswer{w, alipaySignRSA}
	}
	respKey := "error_response"
	if req != nil && req.method != "" {
		respKey = strings.ReplaceAll(req.method, ".", "_") + "_response"
	}
	if fault != nil {
		a.writeResponse(w, respKey, fault.envelope(), fault.Signed)
		return
	}
	switch req.method {
	case "alipay.trade.query":
		a.tradeQuery(w, r, req, respKey)
	case "alipay.trade.refund":
		a.tradeRefund(w, r, req, respKey)
	case "alipay.trade.fastpay.refund.query":
		a.refundQuery(w, r, req, respKey)
	case "alipay.data.dataservice.bill.downloadurl.query":
		a.billURLQuery(w, r, req, respKey)
	default:
		f := alipayGatewayError(alipayCodeInvalid, "isv.invalid-method", "不存在的方法名")
		a.writeResponse(w, "error_response", f.envelope(), false)
	}
}

// authenticate parses the call and checks it the way the real gateway does:
// required public parameters, the app id, the charset and sign type, the
// certificate serial numbers in certificate mode, and the RSA2 signature
// with the app's public key over every other non-empty parameter sorted by
// key.
func (a *alipaySide) authenticate(w http.ResponseWriter, r *http.Request) (*alipayRequest, *alipayFault) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, alipayGatewayError(alipayCodeInvalid, "isv.invalid-parameter", "请求无法解析: "+err.Error())
	}
	req := &alipayRequest{params: map[string]string{}}
	for k, vs := range r.Form {
		if len(vs) != 1 {
			// A parameter both in the query and the body is ambiguous: the
			// signature could cover either value.
			return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-parameter", "参数重复: "+k)
		}
		req.params[k] = vs[0]
	}
	p := req.params
	req.method = p["method"]
	for _, need := range []struct{ key, sub string }{
		{"method", "isv.missing-method"},
		{"app_id", "isv.missing-app-id"},
		{"sign_type", "isv.missing-signature-type"},
		{"sign", "isv.missing-signature"},
		{"timestamp", "isv.missing-timestamp"},
		{"version", "isv.missing-version"},
	} {
		if p[need.key] == "" {
			return req, alipayGatewayError(alipayCodeMissing, need.sub, "缺少参数 "+need.key)
		}
	}
	if p["app_id"] != a.s.cfg.Keys.AlipayAppID {
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-app-id", "无效的AppID参数")
	}
	// Both of Alipay's types are taken, as for an app set up with an RSA
	// and an RSA2 key: smartwalle/alipay and paydesk's RSA2 apps send RSA2,
	// paydesk's RSA apps RSA.
	if st := p["sign_type"]; st != alipaySignRSA2 && st != alipaySignRSA {
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-signature-type", "无效的签名类型")
	}
	if cs := strings.ToLower(p["charset"]); cs != "" && cs != "utf-8" {
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-charset", "sandbox accepts charset utf-8 only")
	}
	if f := p["format"]; f != "" && !strings.EqualFold(f, "JSON") {
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-format", "无效的数据格式")
	}
	if _, err := time.ParseInLocation(time.DateTime, p["timestamp"], a.s.Zone()); err != nil {
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-timestamp", "非法的时间戳参数")
	}
	if p["version"] != "1.0" {
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-version", "无效的版本号")
	}
	certs := a.certMode()
	switch {
	case certs != nil && p["app_cert_sn"] != certs.AppCertSN:
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-app-cert-sn", "应用公钥证书序列号不匹配")
	case certs != nil && p["alipay_root_cert_sn"] != certs.RootCertSN:
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-alipay-root-cert-sn", "支付宝根证书序列号不匹配")
	case certs == nil && (p["app_cert_sn"] != "" || p["alipay_root_cert_sn"] != ""):
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-app-cert-sn", "应用未使用公钥证书模式")
	}
	content := alipaySignContent(p, "sign")
	sig, err := base64.StdEncoding.DecodeString(p["sign"])
	if err == nil {
		h := alipayHash(p["sign_type"])
		err = rsa.VerifyPKCS1v15(&a.s.cfg.Keys.AlipayAppKey.PublicKey, h, alipayDigest(h, content), sig)
	}
	if err != nil {
		// Like the real gateway, show the string that was verified: it is
		// what a merchant compares with the one their code signed.
		return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-signature",
			"验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为："+string(content))
	}
	req.biz = map[string]json.RawMessage{}
	if bc := p["biz_content"]; bc != "" {
		if err := json.Unmarshal([]byte(bc), &req.biz); err != nil {
			return req, alipayGatewayError(alipayCodeInvalid, "isv.invalid-parameter", "biz_content 不是 JSON 对象")
		}
	}
	return req, nil
}

// alipaySignContent is the string Alipay signs: every non-empty parameter
// except the excluded ones, sorted by key, joined as k=v&k=v with the raw
// (not URL-encoded) values.
func alipaySignContent(params map[string]string, exclude ...string) []byte {
	keys := make([]string, 0, len(params))
next:
	for k, v := range params {
		if v == "" {
			continue
		}
		for _, x := range exclude {
			if k == x {
				continue next
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return []byte(b.String())
}

// Alipay's sign types: RSA2 is SHA256withRSA, RSA (older apps) SHA1withRSA.
const (
	alipaySignRSA2 = "RSA2"
	alipaySignRSA  = "RSA"
)

func alipayHash(signType string) crypto.Hash {
	if signType == alipaySignRSA {
		return crypto.SHA1
	}
	return crypto.SHA256
}

func alipayDigest(h crypto.Hash, content []byte) []byte {
	d := h.New()
	d.Write(content)
	return d.Sum(nil)
}

// alipaySign signs content as the sign type says (PKCS#1 v1.5), base64.
func alipaySign(key *rsa.PrivateKey, signType string, content []byte) (string, error) {
	h := alipayHash(signType)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, alipayDigest(h, content))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// alipayAnswer carries the sign type an answer is signed with: the
// request's (RSA requests get RSA answers).
type alipayAnswer struct {
	http.ResponseWriter
	signType string
}

// writeResponse answers in Alipay's exact shape:
// {"<method>_response":{...},"alipay_cert_sn":"...","sign":"..."} where the
// signature covers the exact bytes of the response object as sent.
func (a *alipaySide) writeResponse(w http.ResponseWriter, respKey string, obj any, signed bool) {
	objBytes, err := json.Marshal(obj)
	if err != nil {
		http.Error(w, "sandbox: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	b.WriteString(`{"`)
	b.WriteString(respKey)
	b.WriteString(`":`)
	b.Write(objBytes)
	if signed {
		if certs := a.certMode(); certs != nil {
			b.WriteString(`,"alipay_cert_sn":"`)
			b.WriteString(certs.AlipayCertSN)
			b.WriteByte('"')
		}
		st := alipaySignRSA2
		if aa, ok := w.(alipayAnswer); ok {
			st = aa.signType
		}
		if f := a.s.fault(gateway.Alipay, ""); f.AnswerSignType != "" {
			st = f.AnswerSignType
		}
		sig, err := alipaySign(a.s.cfg.Keys.AlipayPlatformKey, st, objBytes)
		if err != nil {
			http.Error(w, "sandbox: "+err.Error(), http.StatusInternalServerError)
			return
		}
		b.WriteString(`,"sign":"`)
		b.WriteString(sig)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	w.Header().Set("Content-Type", "text/html;charset=utf-8") // what the real gateway sends
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

// findTrade resolves a trade by trade_no (which wins, as on Alipay) or
// out_trade_no from biz_content.
func (a *alipaySide) findTrade(req *alipayRequest) (*Trade, string, *alipayFault) {
	tradeNo, _ := req.bizString("trade_no")
	outTradeNo, _ := req.bizString("out_trade_no")
	if tradeNo == "" && outTradeNo == "" {
		return nil, "", alipayGatewayError(alipayCodeMissing, "isv.missing-parameter", "out_trade_no 和 trade_no 不能同时为空")
	}
	if tradeNo != "" {
		for _, t := range a.s.Trades(gateway.Alipay) {
			if t.TradeNo == tradeNo {
				return t, t.OutTradeNo, nil
			}
		}
		return nil, outTradeNo, alipayBusinessError("ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	t, ok := a.s.Trade(gateway.Alipay, outTradeNo)
	if !ok {
		return nil, outTradeNo, alipayBusinessError("ACQ.TRADE_NOT_EXIST", "交易不存在")
	}
	return t, outTradeNo, nil
}

type alipayTradeQueryResponse struct {
	alipayEnvelope
	TradeNo        string `json:"trade_no,omitempty"`
	OutTradeNo     string `json:"out_trade_no,omitempty"`
	BuyerLogonID   string `json:"buyer_logon_id,omitempty"`
	TradeStatus    string `json:"trade_status,omitempty"`
	TotalAmount    string `json:"total_amount,omitempty"`
	BuyerPayAmount string `json:"buyer_pay_amount,omitempty"`
	PointAmount    string `json:"point_amount,omitempty"`
	InvoiceAmount  string `json:"invoice_amount,omitempty"`
	SendPayDate    string `json:"send_pay_date,omitempty"`
	ReceiptAmount  string `json:"receipt_amount,omitempty"`
	BuyerUserID    string `json:"buyer_user_id,omitempty"`
	Subject        string `json:"subject,omitempty"`
}

func (a *alipaySide) tradeQuery(w http.ResponseWriter, r *http.Request, req *alipayRequest, respKey string) {
	t, out, fault := a.findTrade(req)
	f := a.s.fault(gateway.Alipay, out)
	if !a.s.beforeAPI(w, r, f) {
		return
	}
	if !a.s.afterAPI(r, f) {
		return
	}
	if fault != nil {
		resp := alipayTradeQueryResponse{alipayEnvelope: fault.envelope(), OutTradeNo: out}
		if fault.Signed {
			resp.BuyerPayAmount, resp.PointAmount, resp.InvoiceAmount, resp.ReceiptAmount = "0.00", "0.00", "0.00", "0.00"
		}
		a.writeResponse(w, respKey, resp, fault.Signed)
		return
	}
	resp := alipayTradeQueryResponse{
		alipayEnvelope: alipayOK(),
		TradeNo:        t.TradeNo,
		OutTradeNo:     t.OutTradeNo,
		TradeStatus:    alipayTradeStatus(t),
		TotalAmount:    t.Amount.String(),
		PointAmount:    "0.00",
		BuyerPayAmount: "0.00",
		InvoiceAmount:  "0.00",
		ReceiptAmount:  "0.00",
		Subject:        t.Subject,
	}
	if t.State == gateway.TradePaid {
		// send_pay_date stays after a full refund closes the trade: it is
		// how a TRADE_CLOSED trade shows it was once paid.
		resp.BuyerLogonID = alipayMaskLogonID(t.BuyerID)
		resp.BuyerUserID = t.BuyerID
		resp.SendPayDate = a.alipayTime(t.PaidAt)
		resp.BuyerPayAmount = t.Amount.String()
		resp.InvoiceAmount = t.Amount.String()
		resp.ReceiptAmount = t.Amount.String()
	}
	a.writeResponse(w, respKey, resp, true)
}

type alipayRefundResponse struct {
	alipayEnvelope
	TradeNo      string `json:"trade_no,omitempty"`
	OutTradeNo   string `json:"out_trade_no,omitempty"`
	BuyerLogonID string `json:"buyer_logon_id,omitempty"`
	FundChange   string `json:"fund_change,omitempty"`
	RefundFee    string `json:"refund_fee,omitempty"`
	GmtRefundPay string `json:"gmt_refund_pay,omitempty"`
	BuyerUserID  string `json:"buyer_user_id,omitempty"`
	SendBackFee  string `json:"send_back_fee,omitempty"`
}

// tradeRefund serves alipay.trade.refund through the book's apiRefund, so the
// ceiling and the out_request_no idempotency are the book's. A repeated
// request answers like the first one but with fund_change N, as Alipay does:
// no money moved this time.
func (a *alipaySide) tradeRefund(w http.ResponseWriter, r *http.Request, req *alipayRequest, respKey string) {
	t, out, fault := a.findTrade(req)
	f := a.s.fault(gateway.Alipay, out)
	if !a.s.beforeAPI(w, r, f) {
		return
	}
	if fault != nil {
		a.writeResponse(w, respKey, alipayRefundResponse{alipayEnvelope: fault.envelope(), OutTradeNo: out}, fault.Signed)
		return
	}
	amountText, _ := req.bizString("refund_amount")
	if amountText == "" {
		f := alipayGatewayError(alipayCodeMissing, "isv.missing-parameter", "缺少参数 refund_amount")
		a.writeResponse(w, respKey, f.envelope(), false)
		return
	}
	amount, err := gateway.ParseMoney(amountText)
	if err != nil || amount <= 0 {
		f := alipayBusinessError("ACQ.REFUND_FEE_ERROR", "退款金额无效")
		a.writeResponse(w, respKey, alipayRefundResponse{alipayEnvelope: f.envelope(), OutTradeNo: t.OutTradeNo, TradeNo: t.TradeNo}, true)
		return
	}
	outRequestNo, _ := req.bizString("out_request_no")
	if outRequestNo == "" {
		// Alipay's rule: without out_request_no the request number is the
		// order number, which allows exactly one (full) refund.
		outRequestNo = t.OutTradeNo
	}
	reason, _ := req.bizString("refund_reason")
	if len(reason) > 256 {
		// alipay.trade.refund documents refund_reason as String(256).
		f := alipayGatewayError(alipayCodeInvalid, "isv.invalid-parameter", "参数 refund_reason 长度超过 256")
		a.writeResponse(w, respKey, f.envelope(), false)
		return
	}
	after, ref, moved, err := a.s.apiRefund(RefundSpec{Channel: gateway.Alipay, OutTradeNo: t.OutTradeNo, OutRequestNo: outRequestNo, Amount: amount, Reason: reason,
		RetryFailed: true})
	if !a.s.afterAPI(r, f) {
		return
	}
	if err != nil {
		var bf *alipayFault
		switch {
		case errors.Is(err, ErrRefundTooLarge):
			bf = alipayBusinessError("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
		case errors.Is(err, ErrRefundNoMismatch):
			bf = alipayBusinessError("ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求")
		case errors.Is(err, ErrNotPaid):
			bf = alipayBusinessError("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
		case errors.Is(err, ErrNoSuchTrade):
			bf = alipayBusinessError("ACQ.TRADE_NOT_EXIST", "交易不存在")
		case errors.Is(err, ErrInvalidAmount):
			bf = alipayBusinessError("ACQ.REFUND_FEE_ERROR", "退款金额无效")
		default:
			bf = alipayBusinessError("ACQ.SYSTEM_ERROR", "系统错误")
		}
		a.writeResponse(w, respKey, alipayRefundResponse{alipayEnvelope: bf.envelope(), OutTradeNo: t.OutTradeNo, TradeNo: t.TradeNo}, true)
		return
	}
	succeeded, _ := after.Refunded()
	resp := alipayRefundResponse{
		alipayEnvelope: alipayOK(),
		TradeNo:        after.TradeNo,
		OutTradeNo:     after.OutTradeNo,
		BuyerLogonID:   alipayMaskLogonID(after.BuyerID),
		BuyerUserID:    after.BuyerID,
		FundChange:     "N",
		RefundFee:      succeeded.String(),
		SendBackFee:    "0.00",
	}
	if ref.Status == gateway.RefundFailed {
		// Taken but not carried out (RefundNotCarriedOut): Alipay's
		// system error asks for the same request again.
		bf := alipayBusinessError("ACQ.SYSTEM_ERROR", "系统错误")
		a.writeResponse(w, respKey, alipayRefundResponse{alipayEnvelope: bf.envelope(), OutTradeNo: t.OutTradeNo, TradeNo: t.TradeNo}, true)
		return
	}
	if ref.Status == gateway.RefundSuccess {
		resp.GmtRefundPay = a.alipayTime(ref.SucceededAt)
		if moved {
			resp.FundChange = "Y"
			resp.SendBackFee = ref.Amount.String()
		}
	}
	a.writeResponse(w, respKey, resp, true)
}

type alipayRefundQueryResponse struct {
	alipayEnvelope
	TradeNo      string `json:"trade_no,omitempty"`
	OutTradeNo   string `json:"out_trade_no,omitempty"`
	OutRequestNo string `json:"out_request_no,omitempty"`
	TotalAmount  string `json:"total_amount,omitempty"`
	RefundAmount string `json:"refund_amount,omitempty"`
	RefundStatus string `json:"refund_status,omitempty"`
	GmtRefundPay string `json:"gmt_refund_pay,omitempty"`
}

// refundQuery serves alipay.trade.fastpay.refund.query. Alipay answers 10000
// for a request number it does not know, with no refund fields; and a
// refund not (yet) successful carries no refund_status.
func (a *alipaySide) refundQuery(w http.ResponseWriter, r *http.Request, req *alipayRequest, respKey string) {
	t, out, fault := a.findTrade(req)
	f := a.s.fault(gateway.Alipay, out)
	if !a.s.beforeAPI(w, r, f) {
		return
	}
	if !a.s.afterAPI(r, f) {
		return
	}
	if fault != nil {
		a.writeResponse(w, respKey, alipayRefundQueryResponse{alipayEnvelope: fault.envelope(), OutTradeNo: out}, fault.Signed)
		return
	}
	outRequestNo, _ := req.bizString("out_request_no")
	if outRequestNo == "" {
		f := alipayGatewayError(alipayCodeMissing, "isv.missing-parameter", "缺少参数 out_request_no")
		a.writeResponse(w, respKey, f.envelope(), false)
		return
	}
	resp := alipayRefundQueryResponse{alipayEnvelope: alipayOK(), TradeNo: t.TradeNo, OutTradeNo: t.OutTradeNo}
	if ref := t.Refund(outRequestNo); ref != nil {
		resp.OutRequestNo = ref.OutRequestNo
		resp.TotalAmount = t.Amount.String()
		resp.RefundAmount = ref.Amount.String()
		if ref.Status == gateway.RefundSuccess {
			resp.RefundStatus = "REFUND_SUCCESS"
			resp.GmtRefundPay = a.alipayTime(ref.SucceededAt)
		}
	}
	a.writeResponse(w, respKey, resp, true)
}

type alipayBillURLResponse struct {
	alipayEnvelope
	BillDownloadURL string `json:"bill_download_url,omitempty"`
}

// billURLQuery serves alipay.data.dataservice.bill.downloadurl.query for
// daily trade bills (bill_type trade) and 账务明细 (signcustomer). A day's bill exists once the day is over in the
// platform's zone; before that the answer is isp.bill_not_exist.
func (a *alipaySide) billURLQuery(w http.ResponseWriter, r *http.Request, req *alipayRequest, respKey string) {
	f := a.s.fault(gateway.Alipay, "")
	if !a.s.beforeAPI(w, r, f) {
		return
	}
	if !a.s.afterAPI(r, f) {
		return
	}
	billType, _ := req.bizString("bill_type")
	billDate, _ := req.bizString("bill_date")
	if billType == "" || billDate == "" {
		e := alipayGatewayError(alipayCodeMissing, "isv.missing-parameter", "缺少参数 bill_type 或 bill_date")
		a.writeResponse(w, respKey, e.envelope(), false)
		return
	}
	if billType != "trade" && billType != "signcustomer" {
		e := alipayBusinessError("isv.invalid-bill-type", "sandbox serves bill_type trade and signcustomer")
		a.writeResponse(w, respKey, alipayBillURLResponse{alipayEnvelope: e.envelope()}, true)
		return
	}
	day, err := time.ParseInLocation(time.DateOnly, billDate, a.s.Zone())
	if err != nil {
		e := alipayBusinessError("isv.invalid-bill-date", "账单日期格式不正确, sandbox serves daily bills (yyyy-MM-dd)")
		a.writeResponse(w, respKey, alipayBillURLResponse{alipayEnvelope: e.envelope()}, true)
		return
	}
	if _, end := gateway.Day(day, a.s.Zone()); a.s.now().Before(end) {
		e := alipayBusinessError("isp.bill_not_exist", "账单不存在")
		a.writeResponse(w, respKey, alipayBillURLResponse{alipayEnvelope: e.envelope()}, true)
		return
	}
	token := a.issueBillTicket(day, billType)
	// Alipay's own URLs say bizType=trade for trade bills and bizType=fnd
	// for the 账务明细.
	bizType := "trade"
	if billType == "signcustomer" {
		bizType = "fnd"
	}
	u := fmt.Sprintf("http://%s%s%s?bizType=%s&bizDates=%s&downloadFileName=%s_%s.csv.zip",
		r.Host, AlipayBillPath, token, bizType, day.Format("20060102"), a.billAccount(), day.Format("20060102"))
	a.writeResponse(w, respKey, alipayBillURLResponse{alipayEnvelope: alipayOK(), BillDownloadURL: u}, true)
}
