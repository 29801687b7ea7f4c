package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// wechatTransaction is the APIv3 transaction object: the answer to a query
// by out_trade_no and the plaintext of a TRANSACTION.SUCCESS notification.
type wechatTransaction struct {
	AppID          string           `json:"appid"`
	MchID          string           `json:"mchid"`
	OutTradeNo     string           `json:"out_trade_no"`
	TransactionID  string           `json:"transaction_id,omitempty"`
	TradeType      string           `json:"trade_type,omitempty"`
	TradeState     string           `json:"trade_state"`
	TradeStateDesc string           `json:"trade_state_desc"`
	BankType       string           `json:"bank_type,omitempty"`
	Attach         string           `json:"attach"`
	SuccessTime    string           `json:"success_time,omitempty"`
	Payer          *wechatPayer     `json:"payer,omitempty"`
	Amount         wechatAmount     `json:"amount"`
	Promotion      []map[string]any `json:"promotion_detail,omitempty"`
}

type wechatPayer struct {
	OpenID string `json:"openid"`
}

// wechatAmount is in fen, as every APIv3 amount.
type wechatAmount struct {
	Total         int64  `json:"total"`
	PayerTotal    *int64 `json:"payer_total,omitempty"`
	Currency      string `json:"currency"`
	PayerCurrency string `json:"payer_currency"`
}

// wechatTransactionOf renders a trade as the platform reports it. A paid
// trade with any refund is REFUND ("转入退款"), as WeChat reports it from the
// first refund on.
func (w *wechatSide) wechatTransactionOf(t *Trade) wechatTransaction {
	k := w.s.cfg.Keys
	tx := wechatTransaction{
		AppID: k.WeChatAppID, MchID: k.WeChatMchID, OutTradeNo: t.OutTradeNo,
		Amount: wechatAmount{Total: int64(t.Amount), Currency: "CNY", PayerCurrency: "CNY"},
	}
	switch t.State {
	case gateway.TradeNotPaid:
		tx.TradeState, tx.TradeStateDesc = "NOTPAY", "订单未支付"
		return tx
	case gateway.TradeClosed:
		tx.TradeState, tx.TradeStateDesc = "CLOSED", "订单已关闭"
		return tx
	}
	tx.TradeState, tx.TradeStateDesc = "SUCCESS", "支付成功"
	if len(t.Refunds) > 0 {
		tx.TradeState, tx.TradeStateDesc = "REFUND", "订单发生过退款，退款详情请查询退款单"
	}
	payer := int64(t.Amount)
	tx.TransactionID, tx.TradeType, tx.BankType = t.TradeNo, "NATIVE", "OTHERS"
	tx.SuccessTime = t.PaidAt.In(w.s.Zone()).Format(time.RFC3339)
	tx.Payer = &wechatPayer{OpenID: t.BuyerID}
	tx.Amount.PayerTotal = &payer
	return tx
}

// GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=
func (w *wechatSide) handleQuery(rw http.ResponseWriter, r *http.Request) {
	if _, ok := w.authenticate(rw, r); !ok {
		return
	}
	out := r.PathValue("out_trade_no")
	switch mchid := r.URL.Query().Get("mchid"); mchid {
	case "":
		w.replyError(rw, &wechatError{http.StatusBadRequest, "PARAM_ERROR", "缺少参数 mchid"})
		return
	case w.s.cfg.Keys.WeChatMchID:
	default:
		w.replyError(rw, &wechatError{http.StatusBadRequest, "PARAM_ERROR", "mchid 与请求的商户号不一致"})
		return
	}
	f := w.s.fault(gateway.WeChat, out)
	if !w.s.beforeAPI(rw, r, f) {
		return
	}
	t, found := w.s.Trade(gateway.WeChat, out)
	if !w.s.afterAPI(r, f) {
		return
	}
	if !found {
		w.replyError(rw, &wechatError{http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在"})
		return
	}
	w.reply(rw, http.StatusOK, w.wechatTransactionOf(t))
}

// wechatRefund is the APIv3 refund object (create and query answers).
type wechatRefund struct {
	RefundID            string             `json:"refund_id"`
	OutRefundNo         string             `json:"out_refund_no"`
	TransactionID       string             `json:"transaction_id"`
	OutTradeNo          string             `json:"out_trade_no"`
	Channel             string             `json:"channel"`
	UserReceivedAccount string             `json:"user_received_account"`
	SuccessTime         string             `json:"success_time,omitempty"`
	CreateTime          string             `json:"create_time"`
	Status              string             `json:"status"`
	FundsAccount        string             `json:"funds_account"`
	Amount              wechatRefundAmount `json:"amount"`
	PromotionDetail     []map[string]any   `json:"promotion_detail"`
}

type wechatRefundAmount struct {
	Total            int64            `json:"total"`
	Refund           int64            `json:"refund"`
	From             []map[string]any `json:"from"`
	PayerTotal       int64            `json:"payer_total"`
	PayerRefund      int64            `json:"payer_refund"`
	SettlementRefund int64            `json:"settlement_refund"`
	SettlementTotal  int64            `json:"settlement_total"`
	DiscountRefund   int64            `json:"discount_refund"`
	Currency         string           `json:"currency"`
	RefundFee        int64            `json:"refund_fee"`
}

// wechatRefundStatus spells a refund's state as APIv3 does: a refund the
// bank bounced is ABNORMAL (退款异常: the money did not reach the buyer), one
// never carried out is CLOSED (退款关闭).
func wechatRefundStatus(st gateway.RefundStatus) string {
	switch st {
	case gateway.RefundSuccess:
		return "SUCCESS"
	case gateway.RefundPending:
		return "PROCESSING"
	case gateway.RefundAbnormal:
		return "ABNORMAL"
	}
	return "CLOSED"
}

func (w *wechatSide) wechatRefundOf(t *Trade, ref *Refund) wechatRefund {
	z := w.s.Zone()
	out := wechatRefund{
		RefundID: ref.RefundID, OutRefundNo: ref.OutRequestNo, TransactionID: t.TradeNo, OutTradeNo: t.OutTradeNo,
		Channel: "ORIGINAL", UserReceivedAccount: "支付用户零钱", CreateTime: ref.CreatedAt.In(z).Format(time.RFC3339),
		Status: wechatRefundStatus(ref.Status), FundsAccount: "AVAILABLE",
		Amount: wechatRefundAmount{
			Total: int64(t.Amount), Refund: int64(ref.Amount), From: []map[string]any{},
			PayerTotal: int64(t.Amount), PayerRefund: int64(ref.Amount),
			SettlementRefund: int64(ref.Amount), SettlementTotal: int64(t.Amount),
			Currency: "CNY", RefundFee: int64(WeChatFee(ref.Amount)),
		},
		PromotionDetail: []map[string]any{},
	}
	if ref.Status == gateway.RefundSuccess {
		out.SuccessTime = ref.SucceededAt.In(z).Format(time.RFC3339)
	}
	return out
}

// wechatRefundRequest is the body of POST /v3/refund/domestic/refunds.
type wechatRefundRequest struct {
	TransactionID string `json:"transaction_id"`
	OutTradeNo    string `json:"out_trade_no"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason"`
	NotifyURL     string `json:"notify_url"`
	FundsAccount  string `json:"funds_account"`
	Amount        *struct {
		Refund   *int64 `json:"refund"`
		Total    *int64 `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// POST /v3/refund/domestic/refunds
//
// A refund's notifications go to the request's notify_url when it has one,
// ahead of the trade's. Faults: RefundRateLimited answers 429
// FREQUENCY_LIMITED without refunding; RefundSystemError refunds and answers
// 500 SYSTEM_ERROR, both signed as WeChat signs its errors.
func (w *wechatSide) handleRefund(rw http.ResponseWriter, r *http.Request) {
	body, ok := w.authenticate(rw, r)
	if !ok {
		return
	}
	var req wechatRefundRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		w.replyError(rw, &wechatError{http.StatusBadRequest, "PARAM_ERROR", "请求体不是合法的 JSON: " + err.Error()})
		return
	}
	if e := checkWeChatRefundRequest(&req); e != nil {
		w.replyError(rw, e)
		return
	}
	t := w.findTrade(req.OutTradeNo, req.TransactionID)
	if t == nil {
		w.replyError(rw, &wechatError{http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在"})
		return
	}
	if *req.Amount.Total != int64(t.Amount) {
		w.replyError(rw, &wechatError{http.StatusBadRequest, "INVALID_REQUEST", "订单金额 total 与原订单金额不一致"})
		return
	}
	// out_refund_no is unique per merchant, not per order: a number already
	// used on another order is refused rather than treated as a retry.
	if other, _ := w.findRefund(req.OutRefundNo); other != nil && other.OutTradeNo != t.OutTradeNo {
		w.replyError(rw, &wechatError{http.StatusBadRequest, "INVALID_REQUEST", "商户退款单号已用于其他订单"})
		return
	}
	f := w.s.fault(gateway.WeChat, t.OutTradeNo)
	if !w.s.beforeAPI(rw, r, f) {
		return
	}
	if f.RefundRateLimited {
		w.replyError(rw, &wechatError{http.StatusTooManyRequests, "FREQUENCY_LIMITED", "你的操作过于频繁，请稍后再试"})
		return
	}
	t2, ref, _, err := w.s.apiRefund(RefundSpec{Channel: gateway.WeChat, OutTradeNo: t.OutTradeNo, OutRequestNo: req.OutRefundNo,
		Amount: gateway.Money(*req.Amount.Refund), Reason: req.Reason, NotifyURL: req.NotifyURL})
	if !w.s.afterAPI(r, f) {
		return // Hang: the refund is made, the answer never comes
	}
	if err != nil {
		w.replyError(rw, wechatRefundRefusal(err))
		return
	}
	if f.RefundSystemError {
		w.replyError(rw, &wechatError{http.StatusInternalServerError, "SYSTEM_ERROR", "系统超时，请不要更换商户退款单号，请使用相同参数再次调用API"})
		return
	}
	w.reply(rw, http.StatusOK, w.wechatRefundOf(t2, ref))
}

// checkWeChatRefundRequest refuses what the refund API documents as
// invalid (申请退款, https://pay.weixin.qq.com/doc/v3/merchant/4012552567):
// field lengths in bytes, a notify_url with parameters, a missing amount.
func checkWeChatRefundRequest(req *wechatRefundRequest) *wechatError {
	bad := func(msg string) *wechatError { return &wechatError{http.StatusBadRequest, "PARAM_ERROR", msg} }
	switch {
	case req.OutRefundNo == "" || len(req.OutRefundNo) > 64:
		return bad("out_refund_no 必填，且不超过 64 个字节")
	case len(req.OutTradeNo) > 32 || len(req.TransactionID) > 32:
		return bad("out_trade_no 与 transaction_id 不超过 32 个字节")
	case len(req.Reason) > 80:
		return bad("reason 不超过 80 个字节")
	case len(req.NotifyURL) > 256:
		return bad("notify_url 不超过 256 个字节")
	case req.NotifyURL != "" && !validNotifyURL(req.NotifyURL):
		return bad("notify_url 必须为外网可访问的 url，不能携带参数")
	case req.OutTradeNo == "" && req.TransactionID == "":
		return bad("out_trade_no 与 transaction_id 必填其一")
	case req.Amount == nil || req.Amount.Refund == nil || req.Amount.Total == nil:
		return bad("amount.refund 与 amount.total 必填")
	case req.Amount.Currency != "CNY":
		return bad("amount.currency 只支持 CNY")
	case *req.Amount.Refund <= 0:
		return bad("amount.refund 必须大于 0")
	}
	return nil
}

func validNotifyURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.RawQuery == ""
}

// wechatRefundRefusal maps the trade book's refusals to APIv3 errors.
func wechatRefundRefusal(err error) *wechatError {
	switch {
	case errors.Is(err, ErrNoSuchTrade):
		return &wechatError{http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在"}
	case errors.Is(err, ErrNotPaid):
		return &wechatError{http.StatusBadRequest, "INVALID_REQUEST", "订单未支付，不能退款"}
	case errors.Is(err, ErrRefundTooLarge):
		return &wechatError{http.StatusBadRequest, "INVALID_REQUEST", "申请退款金额超过订单可退金额"}
	case errors.Is(err, ErrRefundNoMismatch):
		return &wechatError{http.StatusBadRequest, "INVALID_REQUEST", "同一商户退款单号的退款金额与之前的请求不一致"}
	case errors.Is(err, ErrInvalidAmount):
		return &wechatError{http.StatusBadRequest, "PARAM_ERROR", "退款金额必须大于 0"}
	}
	return &wechatError{http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误"}
}

// findTrade finds a WeChat trade by out_trade_no, or else by transaction_id.
func (w *wechatSide) findTrade(outTradeNo, transactionID string) *Trade {
	if outTradeNo != "" {
		t, _ := w.s.Trade(gateway.WeChat, outTradeNo)
		return t
	}
	for _, t := range w.s.Trades(gateway.WeChat) {
		if t.TradeNo == transactionID {
			return t
		}
	}
	return nil
}

// findRefund finds a refund by out_refund_no, which the refund query names
// without its order. The book is scanned: the sandbox holds demo and test
// volumes, not production ones.
func (w *wechatSide) findRefund(outRefundNo string) (*Trade, *Refund) {
	for _, t := range w.s.Trades(gateway.WeChat) {
		if ref := t.Refund(outRefundNo); ref != nil {
			return t, ref
		}
	}
	return nil, nil
}

// GET /v3/refund/domestic/refunds/{out_refund_no}
func (w *wechatSide) handleRefundQuery(rw http.ResponseWriter, r *http.Request) {
	if _, ok := w.authenticate(rw, r); !ok {
		return
	}
	t, ref := w.findRefund(r.PathValue("out_refund_no"))
	var f Fault
	if t != nil {
		f = w.s.fault(gateway.WeChat, t.OutTradeNo)
	} else {
		f = w.s.fault(gateway.WeChat, "")
	}
	if !w.s.beforeAPI(rw, r, f) || !w.s.afterAPI(r, f) {
		return
	}
	if ref == nil {
		w.replyError(rw, &wechatError{http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在"})
		return
	}
	w.reply(rw, http.StatusOK, w.wechatRefundOf(t, ref))
}
