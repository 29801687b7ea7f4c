package wechat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/paydesk/paydesk/gateway"
)

// APIError is a refusal WeChat Pay signed: the HTTP status and the code and
// message of its error body (PARAM_ERROR, INVALID_REQUEST, NOT_ENOUGH...).
type APIError struct {
	Op      string // "query trade", "refund", ...
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: %s (HTTP %d): %s", e.Op, e.Code, e.Status, e.Message)
}

// outcomeUnknown says whether a refusal leaves it open whether the request
// was carried out. The refund API's error table
// (wechatpay-go services/refunddomestic/api_refunds.go; 申请退款 on
// pay.weixin.qq.com) says of SYSTEM_ERROR "请不要更换商户退款单号，请使用相同参数
// 再次调用API", and of FREQUENCY_LIMITED (HTTP 429) to retry later; any 5xx
// is the platform failing mid-way. All of them are retried under the same
// request number, never taken as a refusal that would free the amount.
func (e *APIError) outcomeUnknown() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Code == "SYSTEM_ERROR" || e.Code == "FREQUENCY_LIMITED"
}

// QueryTrade asks for a trade by out_trade_no. A trade the platform does not
// know is gateway.ErrTradeNotFound.
func (c *Client) QueryTrade(ctx context.Context, outTradeNo string) (gateway.Trade, error) {
	if outTradeNo == "" {
		return gateway.Trade{}, errors.New("wechat query trade: out_trade_no is empty")
	}
	if err := limitOutTradeNo.Check(gateway.WeChat, outTradeNo); err != nil {
		return gateway.Trade{}, fmt.Errorf("wechat query trade: %w", err)
	}
	svc := native.NativeApiService{Client: c.core}
	tx, result, err := svc.QueryOrderByOutTradeNo(ctx, native.QueryOrderByOutTradeNoRequest{
		OutTradeNo: &outTradeNo, Mchid: &c.cfg.MchID,
	})
	if err != nil {
		if e := c.signedRefusal("query trade", err); e != nil {
			if e.Status == http.StatusNotFound || e.Code == "ORDER_NOT_EXIST" {
				return gateway.Trade{}, fmt.Errorf("%w: %s: %w", gateway.ErrTradeNotFound, outTradeNo, e)
			}
			return gateway.Trade{}, e
		}
		return gateway.Trade{}, fmt.Errorf("wechat query trade %s: %w", outTradeNo, err)
	}
	raw := rawBody(result)
	t, err := c.tradeOf(tx, outTradeNo)
	if err != nil {
		return gateway.Trade{}, fmt.Errorf("wechat query trade %s: %w", outTradeNo, err)
	}
	t.Raw = raw
	return t, nil
}

// tradeOf normalizes a verified transaction, refusing one that is not about
// this merchant and order.
func (c *Client) tradeOf(tx *payments.Transaction, outTradeNo string) (gateway.Trade, error) {
	if got := str(tx.Mchid); got != c.cfg.MchID {
		return gateway.Trade{}, fmt.Errorf("%w: answer is for mchid %q", gateway.ErrWrongMerchant, got)
	}
	if got := str(tx.Appid); got != "" && got != c.cfg.AppID {
		return gateway.Trade{}, fmt.Errorf("%w: answer is for appid %q", gateway.ErrWrongMerchant, got)
	}
	if got := str(tx.OutTradeNo); got != outTradeNo {
		return gateway.Trade{}, fmt.Errorf("answer is about out_trade_no %q", got)
	}
	t := gateway.Trade{
		Channel:       gateway.WeChat,
		OutTradeNo:    outTradeNo,
		TradeNo:       str(tx.TransactionId),
		PlatformState: str(tx.TradeState),
	}
	switch t.PlatformState {
	case "SUCCESS":
		t.State = gateway.TradePaid
	case "REFUND":
		t.State = gateway.TradeRefunded
	case "NOTPAY", "USERPAYING":
		t.State = gateway.TradeNotPaid
	case "CLOSED", "REVOKED":
		t.State = gateway.TradeClosed
	case "PAYERROR":
		t.State = gateway.TradePayError
	default:
		return gateway.Trade{}, fmt.Errorf("unknown trade_state %q", t.PlatformState)
	}
	if tx.Amount == nil || tx.Amount.Total == nil {
		return gateway.Trade{}, errors.New("answer has no amount.total")
	}
	t.Amount = gateway.MoneyFromFen(*tx.Amount.Total)
	t.Currency = str(tx.Amount.Currency)
	if tx.Payer != nil {
		t.BuyerID = str(tx.Payer.Openid)
	}
	if s := str(tx.SuccessTime); s != "" {
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return gateway.Trade{}, fmt.Errorf("success_time %q: %w", s, err)
		}
		t.PaidAt = at.UTC()
	}
	if t.IsPaid() && (t.TradeNo == "" || t.PaidAt.IsZero()) {
		return gateway.Trade{}, fmt.Errorf("trade_state %s without transaction_id or success_time", t.PlatformState)
	}
	return t, nil
}

// Refund sends a refund request (POST /v3/refund/domestic/refunds). Sending
// the same OutRequestNo again returns the first refund, never a second one.
//
// Only a refusal WeChat signed is a definite answer (*APIError). A timeout,
// a 5xx, 429 FREQUENCY_LIMITED, SYSTEM_ERROR, or an answer whose signature
// does not verify wraps gateway.ErrUnknownOutcome: the platform may have
// refunded, so the caller keeps the refund PENDING and queries it or
// re-sends the same number. The request carries RefundNotifyURL as its
// notify_url.
func (c *Client) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	if err := c.CheckRefund(req); err != nil {
		return gateway.RefundResult{}, fmt.Errorf("wechat refund %s: %w", req.OutRequestNo, err)
	}
	switch {
	case req.OutTradeNo == "" && req.TradeNo == "":
		return gateway.RefundResult{}, errors.New("wechat refund: out_trade_no and trade_no are both empty")
	case req.OutRequestNo == "":
		return gateway.RefundResult{}, errors.New("wechat refund: out_refund_no is empty")
	case req.Amount <= 0:
		return gateway.RefundResult{}, fmt.Errorf("wechat refund %s: amount %s is not positive", req.OutRequestNo, req.Amount)
	case req.Total < req.Amount:
		// WeChat requires the order total with every refund.
		return gateway.RefundResult{}, fmt.Errorf("wechat refund %s: order total %s is below the refund %s", req.OutRequestNo, req.Total, req.Amount)
	}
	currency := req.Currency
	if currency == "" {
		currency = "CNY"
	}
	refund, total := req.Amount.Fen(), req.Total.Fen()
	body := refunddomestic.CreateRequest{
		OutRefundNo: &req.OutRequestNo,
		Amount:      &refunddomestic.AmountReq{Refund: &refund, Total: &total, Currency: &currency},
	}
	if req.OutTradeNo != "" {
		body.OutTradeNo = &req.OutTradeNo
	} else {
		body.TransactionId = &req.TradeNo
	}
	if req.Reason != "" {
		body.Reason = &req.Reason
	}
	if c.cfg.RefundNotifyURL != "" {
		body.NotifyUrl = &c.cfg.RefundNotifyURL
	}
	svc := refunddomestic.RefundsApiService{Client: c.core}
	resp, result, err := svc.Create(ctx, body)
	if err != nil {
		if e := c.signedRefusal("refund", err); e != nil && !e.outcomeUnknown() {
			if e.Status == http.StatusNotFound || e.Code == "RESOURCE_NOT_EXISTS" {
				return gateway.RefundResult{}, fmt.Errorf("%w: %s: %w", gateway.ErrTradeNotFound, req.OutTradeNo, e)
			}
			return gateway.RefundResult{}, e
		}
		return gateway.RefundResult{}, fmt.Errorf("wechat refund %s: %w: %w", req.OutRequestNo, gateway.ErrUnknownOutcome, err)
	}
	r, err := refundResultOf(resp, req.OutTradeNo, req.OutRequestNo)
	if err != nil {
		return gateway.RefundResult{}, fmt.Errorf("wechat refund %s: %w: %w", req.OutRequestNo, gateway.ErrUnknownOutcome, err)
	}
	if r.Amount != req.Amount {
		return r, fmt.Errorf("wechat refund %s: %w: the platform reports %s refunded, %s was asked", req.OutRequestNo, gateway.ErrUnknownOutcome, r.Amount, req.Amount)
	}
	r.Raw = rawBody(result)
	return r, nil
}

// QueryRefund asks for one refund by out_refund_no. An unknown number is
// gateway.ErrRefundNotFound. outTradeNo, when given, must be the refund's
// order.
func (c *Client) QueryRefund(ctx context.Context, outTradeNo, outRequestNo string) (gateway.RefundResult, error) {
	if outRequestNo == "" {
		return gateway.RefundResult{}, errors.New("wechat query refund: out_refund_no is empty")
	}
	if err := limitOutRefundNo.Check(gateway.WeChat, outRequestNo); err != nil {
		return gateway.RefundResult{}, fmt.Errorf("wechat query refund: %w", err)
	}
	svc := refunddomestic.RefundsApiService{Client: c.core}
	resp, result, err := svc.QueryByOutRefundNo(ctx, refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: &outRequestNo})
	if err != nil {
		if e := c.signedRefusal("query refund", err); e != nil {
			if e.Status == http.StatusNotFound || e.Code == "RESOURCE_NOT_EXISTS" {
				return gateway.RefundResult{}, fmt.Errorf("%w: %s: %w", gateway.ErrRefundNotFound, outRequestNo, e)
			}
			return gateway.RefundResult{}, e
		}
		return gateway.RefundResult{}, fmt.Errorf("wechat query refund %s: %w", outRequestNo, err)
	}
	r, err := refundResultOf(resp, outTradeNo, outRequestNo)
	if err != nil {
		return gateway.RefundResult{}, fmt.Errorf("wechat query refund %s: %w", outRequestNo, err)
	}
	r.Raw = rawBody(result)
	return r, nil
}

// refundResultOf normalizes a verified refund object. PROCESSING is
// pending; CLOSED (closed without being carried out) is failed; ABNORMAL
// (the money left the merchant and did not reach the buyer) is
// gateway.RefundAbnormal.
func refundResultOf(resp *refunddomestic.Refund, outTradeNo, outRefundNo string) (gateway.RefundResult, error) {
	if got := str(resp.OutRefundNo); got != outRefundNo {
		return gateway.RefundResult{}, fmt.Errorf("answer is about out_refund_no %q", got)
	}
	if got := str(resp.OutTradeNo); outTradeNo != "" && got != outTradeNo {
		return gateway.RefundResult{}, fmt.Errorf("refund %s belongs to order %q, not %q", outRefundNo, got, outTradeNo)
	}
	r := gateway.RefundResult{
		OutTradeNo:   str(resp.OutTradeNo),
		OutRequestNo: outRefundNo,
		RefundID:     str(resp.RefundId),
	}
	if resp.Status != nil {
		r.PlatformState = string(*resp.Status)
	}
	switch r.PlatformState {
	case "SUCCESS":
		r.Status = gateway.RefundSuccess
	case "PROCESSING":
		r.Status = gateway.RefundPending
	case "ABNORMAL":
		r.Status = gateway.RefundAbnormal
	case "CLOSED":
		r.Status = gateway.RefundFailed
	default:
		return gateway.RefundResult{}, fmt.Errorf("unknown refund status %q", r.PlatformState)
	}
	if resp.Amount == nil || resp.Amount.Refund == nil {
		return gateway.RefundResult{}, errors.New("answer has no amount.refund")
	}
	r.Amount = gateway.MoneyFromFen(*resp.Amount.Refund)
	if resp.SuccessTime != nil {
		r.RefundedAt = resp.SuccessTime.UTC()
	}
	if r.Status == gateway.RefundSuccess && r.RefundedAt.IsZero() {
		return gateway.RefundResult{}, errors.New("status SUCCESS without success_time")
	}
	return r, nil
}

// signedRefusal returns the platform's error answer when err is one and its
// signature verifies; nil otherwise. The SDK checks signatures of 2xx
// answers only, but an unsigned or forged refusal must not pass for a
// definite "no": a refund taken as refused while it went through could be
// made again under a new number.
func (c *Client) signedRefusal(op string, err error) *APIError {
	var ae *core.APIError
	if !errors.As(err, &ae) {
		return nil
	}
	resp := &http.Response{StatusCode: ae.StatusCode, Header: ae.Header, Body: io.NopCloser(strings.NewReader(ae.Body))}
	if c.validator.Validate(context.Background(), resp) != nil {
		return nil
	}
	return &APIError{Op: op, Status: ae.StatusCode, Code: ae.Code, Message: ae.Message}
}

// rawBody returns the verified answer body, which the SDK leaves re-readable.
func rawBody(result *core.APIResult) []byte {
	if result == nil || result.Response == nil || result.Response.Body == nil {
		return nil
	}
	b, err := io.ReadAll(result.Response.Body)
	if err != nil {
		return nil
	}
	result.Response.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
