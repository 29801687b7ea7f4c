package ops

import (
	"fmt"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// RefundNeedingAction is a refund a person must act on, with what to do.
type RefundNeedingAction struct {
	OutRequestNo string               `json:"out_request_no"`
	OutTradeNo   string               `json:"out_trade_no"`
	Status       gateway.RefundStatus `json:"status"`
	Amount       gateway.Money        `json:"amount"`
	Action       string               `json:"action"`
}

// RefundAction says what a person must do about a refund, or "" when
// nothing. It is the one wording of 异常退款 handling, used by the console,
// the CLI and --json alike.
func RefundAction(f store.Refund) string {
	if !f.Status.NeedsAction() {
		return ""
	}
	// ABNORMAL is WeChat Pay's status; the wording follows its refund
	// guide (https://pay.weixin.qq.com/doc/v3/merchant/4013071031, 退款异常
	// and 发起异常退款).
	return fmt.Sprintf("退款异常 (ABNORMAL): the %s left your WeChat Pay account but did not reach the buyer "+
		"(their bank card is closed or frozen); it waits in WeChat Pay's refund account. Do not refund it again: "+
		"the amount stays out of what the order can refund. Handle it in the merchant platform "+
		"(交易中心 → 退款管理 → 异常退款: to a bank card the buyer gives, or back to your own bank account) "+
		"or with the 发起异常退款 API (POST /v3/refund/domestic/refunds/%s/apply-abnormal-refund); "+
		"paydesk marks it SUCCESS when WeChat Pay reports it paid out (REFUND.SUCCESS, or `paydesk refund --retry %s`).",
		f.Amount.Yuan(), refundIDOrPlaceholder(f.RefundID), f.OutRequestNo)
}

// refundsNeedingAction picks the refunds a person must act on.
func refundsNeedingAction(refunds []store.Refund) []RefundNeedingAction {
	var out []RefundNeedingAction
	for _, f := range refunds {
		if a := RefundAction(f); a != "" {
			out = append(out, RefundNeedingAction{OutRequestNo: f.OutRequestNo, OutTradeNo: f.OutTradeNo, Status: f.Status, Amount: f.Amount, Action: a})
		}
	}
	return out
}

func refundIDOrPlaceholder(s string) string {
	if s == "" {
		return "{refund_id}"
	}
	return s
}
