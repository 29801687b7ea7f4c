package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-pay/gopay"

	"github.com/paydesk/paydesk/gateway"
)

// errV2Unsigned is an answer that cannot be trusted as the platform's: its
// return_code is FAIL (v2 sends those unsigned) or its sign does not verify.
var errV2Unsigned = errors.New("answer not signed by WeChat Pay")

// v2Time is the layout of v2's zone-less times (time_end), in the
// platform's zone.
const v2Time = "20060102150405"

// answer checks a v2 answer: return_code SUCCESS, the sign (made with this
// client's sign type), and that it is about this merchant; then a
// result_code FAIL is the platform's signed refusal, *APIError (Status 200,
// Code err_code).
func (c *V2Client) answer(op string, bm gopay.BodyMap) (map[string]string, error) {
	f := make(map[string]string, len(bm))
	for k := range bm {
		f[k] = bm.GetString(k)
	}
	if f["return_code"] != "SUCCESS" {
		return nil, fmt.Errorf("wechat v2 %s: %w: return_code %q: %s", op, errV2Unsigned, f["return_code"], f["return_msg"])
	}
	if err := verifyV2Sign(f, c.cfg.APIKey, c.cfg.SignType); err != nil {
		return nil, fmt.Errorf("wechat v2 %s: %w: %w", op, errV2Unsigned, err)
	}
	if f["mch_id"] != c.cfg.MchID {
		return nil, fmt.Errorf("wechat v2 %s: %w: answer is for mch_id %q", op, gateway.ErrWrongMerchant, f["mch_id"])
	}
	if got := f["appid"]; got != "" && got != c.cfg.AppID {
		return nil, fmt.Errorf("wechat v2 %s: %w: answer is for appid %q", op, gateway.ErrWrongMerchant, got)
	}
	if f["result_code"] != "SUCCESS" {
		return f, &APIError{Op: op, Status: http.StatusOK, Code: f["err_code"], Message: f["err_code_des"]}
	}
	return f, nil
}

// v2TradeStates maps trade_state as orderquery spells it.
var v2TradeStates = map[string]gateway.TradeState{
	"SUCCESS": gateway.TradePaid, "REFUND": gateway.TradeRefunded,
	"NOTPAY": gateway.TradeNotPaid, "USERPAYING": gateway.TradeNotPaid,
	"CLOSED": gateway.TradeClosed, "REVOKED": gateway.TradeClosed,
	"PAYERROR": gateway.TradePayError,
}

// QueryTrade asks /pay/orderquery for a trade by out_trade_no. A trade the
// platform does not know (ORDERNOTEXIST) is gateway.ErrTradeNotFound.
func (c *V2Client) QueryTrade(ctx context.Context, outTradeNo string) (gateway.Trade, error) {
	if outTradeNo == "" {
		return gateway.Trade{}, errors.New("wechat v2 orderquery: out_trade_no is empty")
	}
	bm := c.params().Set("out_trade_no", outTradeNo)
	_, res, err := c.gp.QueryOrder(ctx, bm)
	if err != nil {
		return gateway.Trade{}, fmt.Errorf("wechat v2 orderquery %s: %w", outTradeNo, err)
	}
	f, err := c.answer("orderquery", res)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "ORDERNOTEXIST" {
			return gateway.Trade{}, fmt.Errorf("%w: %s: %w", gateway.ErrTradeNotFound, outTradeNo, err)
		}
		return gateway.Trade{}, err
	}
	t, err := c.tradeOfV2(f, outTradeNo)
	if err != nil {
		return gateway.Trade{}, fmt.Errorf("wechat v2 orderquery %s: %w", outTradeNo, err)
	}
	t.Raw = writeV2XML(f)
	return t, nil
}

func (c *V2Client) tradeOfV2(f map[string]string, outTradeNo string) (gateway.Trade, error) {
	if got := f["out_trade_no"]; got != outTradeNo {
		return gateway.Trade{}, fmt.Errorf("answer is about out_trade_no %q", got)
	}
	t := gateway.Trade{Channel: gateway.WeChat, OutTradeNo: outTradeNo, TradeNo: f["transaction_id"],
		PlatformState: f["trade_state"], Currency: f["fee_type"], BuyerID: f["openid"]}
	st, ok := v2TradeStates[t.PlatformState]
	if !ok {
		return gateway.Trade{}, fmt.Errorf("unknown trade_state %q", t.PlatformState)
	}
	t.State = st
	if t.Currency == "" && f["total_fee"] != "" {
		t.Currency = "CNY" // fee_type is optional and defaults to CNY
	}
	if s := f["total_fee"]; s != "" {
		fen, err := parseFen("total_fee", s)
		if err != nil {
			return gateway.Trade{}, err
		}
		t.Amount = fen
	}
	if s := f["time_end"]; s != "" {
		at, err := time.ParseInLocation(v2Time, s, c.cfg.Zone)
		if err != nil {
			return gateway.Trade{}, fmt.Errorf("time_end %q is not yyyyMMddHHmmss", s)
		}
		t.PaidAt = at.UTC()
	}
	if t.IsPaid() && (t.TradeNo == "" || t.PaidAt.IsZero() || t.Amount <= 0) {
		return gateway.Trade{}, fmt.Errorf("trade_state %s without transaction_id, time_end or total_fee", t.PlatformState)
	}
	return t, nil
}

// parseFen reads a v2 amount: whole fen, positive.
func parseFen(field, s string) (gateway.Money, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("%s %q is not a positive number of fen", field, s)
	}
	return gateway.MoneyFromFen(n), nil
}

// v2Retryable are result_code FAIL answers that say "try again with the
// same parameters": the refund may or may not be under way.
var v2Retryable = map[string]bool{"SYSTEMERROR": true, "BIZERR_NEED_RETRY": true, "FREQUENCY_LIMITED": true}

// Refund sends /secapi/pay/refund over mutual TLS with the merchant API
// certificate. A SUCCESS answer means WeChat accepted the request (退款申请
// 接收成功), not that the money moved: the result is PENDING, and the
// refund notification or a refund query settles it. Sending the same
// OutRequestNo again never refunds twice.
//
// Only a signed refusal is definite (*APIError). No answer, a return_code
// FAIL (v2 leaves those unsigned), a sign that does not verify, or a
// retryable refusal wraps gateway.ErrUnknownOutcome.
func (c *V2Client) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	switch {
	case !c.hasCert:
		return gateway.RefundResult{}, errors.New("wechat v2 refund: no merchant API certificate is configured ([wechat] apiclient_cert_file and private_key_file): v2 refunds need mutual TLS")
	case req.OutTradeNo == "" && req.TradeNo == "":
		return gateway.RefundResult{}, errors.New("wechat v2 refund: out_trade_no and transaction_id are both empty")
	case req.OutRequestNo == "":
		return gateway.RefundResult{}, errors.New("wechat v2 refund: out_refund_no is empty")
	case req.Amount <= 0:
		return gateway.RefundResult{}, fmt.Errorf("wechat v2 refund %s: amount %s is not positive", req.OutRequestNo, req.Amount)
	case req.Total < req.Amount:
		return gateway.RefundResult{}, fmt.Errorf("wechat v2 refund %s: order total %s is below the refund %s", req.OutRequestNo, req.Total, req.Amount)
	}
	bm := c.params().
		Set("out_refund_no", req.OutRequestNo).
		Set("total_fee", req.Total.Fen()).
		Set("refund_fee", req.Amount.Fen())
	if req.OutTradeNo != "" {
		bm.Set("out_trade_no", req.OutTradeNo)
	} else {
		bm.Set("transaction_id", req.TradeNo)
	}
	if req.Currency != "" {
		bm.Set("refund_fee_type", req.Currency)
	}
	if req.Reason != "" {
		bm.Set("refund_desc", req.Reason)
	}
	if c.cfg.RefundNotifyURL != "" {
		bm.Set("notify_url", c.cfg.RefundNotifyURL)
	}
	unknown := func(err error) (gateway.RefundResult, error) {
		return gateway.RefundResult{}, fmt.Errorf("wechat v2 refund %s: %w: %w", req.OutRequestNo, gateway.ErrUnknownOutcome, err)
	}
	_, res, err := c.gp.Refund(ctx, bm)
	if err != nil {
		return unknown(err)
	}
	f, err := c.answer("refund", res)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && !v2Retryable[ae.Code]:
		if ae.Code == "ORDERNOTEXIST" {
			return gateway.RefundResult{}, fmt.Errorf("%w: %s: %w", gateway.ErrTradeNotFound, req.OutTradeNo, err)
		}
		return gateway.RefundResult{}, err
	case err != nil:
		return unknown(err)
	}
	if f["out_refund_no"] != req.OutRequestNo || (req.OutTradeNo != "" && f["out_trade_no"] != req.OutTradeNo) {
		return unknown(fmt.Errorf("answer is about refund %q of order %q", f["out_refund_no"], f["out_trade_no"]))
	}
	amount, err := parseFen("refund_fee", f["refund_fee"])
	if err != nil {
		return unknown(err)
	}
	r := gateway.RefundResult{OutTradeNo: f["out_trade_no"], OutRequestNo: req.OutRequestNo, RefundID: f["refund_id"],
		Status: gateway.RefundPending, PlatformState: "PROCESSING", Amount: amount, Raw: writeV2XML(f)}
	if amount != req.Amount {
		return r, fmt.Errorf("wechat v2 refund %s: %w: the platform reports %s refunded, %s was asked", req.OutRequestNo, gateway.ErrUnknownOutcome, amount, req.Amount)
	}
	return r, nil
}

// v2RefundStates maps v2's refund_status (refund_status_$n of refundquery,
// refund_status of a refund notification's req_info) as APIv3's statuses
// are mapped: REFUNDCLOSE (退款关闭, never carried out) is v3's CLOSED,
// FAILED, its amount refundable again; CHANGE (退款异常: the bank refused
// the buyer's card, 可前往商户平台-交易中心手动处理此笔退款) is v3's ABNORMAL —
// the money left the merchant, and a person settles it (WxJava
// WxPayConstants.RefundStatus: REFUND_CLOSE and CHANGE "v2", ABNORMAL
// "v3"; the v2 refundquery and 退款结果通知 pages list SUCCESS, REFUNDCLOSE,
// PROCESSING, CHANGE).
var v2RefundStates = map[string]gateway.RefundStatus{
	"SUCCESS": gateway.RefundSuccess, "PROCESSING": gateway.RefundPending,
	"REFUNDCLOSE": gateway.RefundFailed, "CHANGE": gateway.RefundAbnormal,
}

// QueryRefund asks /pay/refundquery for one refund by out_refund_no. An
// unknown number (REFUNDNOTEXIST) is gateway.ErrRefundNotFound.
// outTradeNo, when given, must be the refund's order.
func (c *V2Client) QueryRefund(ctx context.Context, outTradeNo, outRequestNo string) (gateway.RefundResult, error) {
	if outRequestNo == "" {
		return gateway.RefundResult{}, errors.New("wechat v2 refundquery: out_refund_no is empty")
	}
	bm := c.params().Set("out_refund_no", outRequestNo)
	_, res, err := c.gp.QueryRefund(ctx, bm)
	if err != nil {
		return gateway.RefundResult{}, fmt.Errorf("wechat v2 refundquery %s: %w", outRequestNo, err)
	}
	f, err := c.answer("refundquery", res)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "REFUNDNOTEXIST" {
			return gateway.RefundResult{}, fmt.Errorf("%w: %s: %w", gateway.ErrRefundNotFound, outRequestNo, err)
		}
		return gateway.RefundResult{}, err
	}
	if outTradeNo != "" && f["out_trade_no"] != outTradeNo {
		return gateway.RefundResult{}, fmt.Errorf("wechat v2 refundquery %s: refund belongs to order %q, not %q", outRequestNo, f["out_trade_no"], outTradeNo)
	}
	count, err := strconv.Atoi(f["refund_count"])
	if err != nil || count < 0 || count > v2MaxFields {
		return gateway.RefundResult{}, fmt.Errorf("wechat v2 refundquery %s: refund_count %q", outRequestNo, f["refund_count"])
	}
	for n := range count {
		at := func(k string) string { return f[k+"_"+strconv.Itoa(n)] }
		if at("out_refund_no") != outRequestNo {
			continue
		}
		r := gateway.RefundResult{OutTradeNo: f["out_trade_no"], OutRequestNo: outRequestNo, RefundID: at("refund_id"),
			PlatformState: at("refund_status"), Raw: writeV2XML(f)}
		st, ok := v2RefundStates[r.PlatformState]
		if !ok {
			return gateway.RefundResult{}, fmt.Errorf("wechat v2 refundquery %s: unknown refund_status %q", outRequestNo, r.PlatformState)
		}
		r.Status = st
		if r.Amount, err = parseFen("refund_fee", at("refund_fee")); err != nil {
			return gateway.RefundResult{}, fmt.Errorf("wechat v2 refundquery %s: %w", outRequestNo, err)
		}
		if s := at("refund_success_time"); s != "" {
			t, err := time.ParseInLocation(time.DateTime, s, c.cfg.Zone)
			if err != nil {
				return gateway.RefundResult{}, fmt.Errorf("wechat v2 refundquery %s: refund_success_time %q", outRequestNo, s)
			}
			r.RefundedAt = t.UTC()
		}
		if r.Status == gateway.RefundSuccess && r.RefundedAt.IsZero() {
			return gateway.RefundResult{}, fmt.Errorf("wechat v2 refundquery %s: SUCCESS without refund_success_time", outRequestNo)
		}
		return r, nil
	}
	return gateway.RefundResult{}, fmt.Errorf("%w: %s is not among the %d refunds of the answer", gateway.ErrRefundNotFound, outRequestNo, count)
}
