package gateway

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// RefundStatus is a refund's state, locally and at the platform.
type RefundStatus string

const (
	RefundPending RefundStatus = "PENDING"
	RefundSuccess RefundStatus = "SUCCESS"
	// RefundFailed: no money left the merchant (refused, or WeChat CLOSED:
	// never carried out). The amount is refundable again.
	RefundFailed RefundStatus = "FAILED"
	// RefundAbnormal: WeChat's ABNORMAL (退款异常). The money left the
	// merchant's account but did not reach the buyer (their bank card was
	// closed or frozen); it waits in WeChat Pay's refund account until the
	// merchant handles it (商户平台 → 交易中心 → 退款管理, or the 发起异常退款
	// API). Not a failure: the amount is not refundable again.
	RefundAbnormal RefundStatus = "ABNORMAL"
)

// RefundStatuses lists every refund status.
var RefundStatuses = []RefundStatus{RefundPending, RefundSuccess, RefundFailed, RefundAbnormal}

// ParseRefundStatus reads a refund status as people type it ("abnormal").
func ParseRefundStatus(s string) (RefundStatus, error) {
	st := RefundStatus(strings.ToUpper(strings.TrimSpace(s)))
	if slices.Contains(RefundStatuses, st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown refund status %q (want pending, success, failed or abnormal)", s)
}

// Holds says whether a refund in this status holds its amount out of the
// order's refund ceiling without having refunded it: a refund whose outcome
// is open, or one whose money is stuck on its way to the buyer.
func (s RefundStatus) Holds() bool { return s == RefundPending || s == RefundAbnormal }

// NeedsAction says whether a person must act on a refund in this status.
func (s RefundStatus) NeedsAction() bool { return s == RefundAbnormal }

// RefundRequest asks the platform to refund part or all of a paid trade.
// OutRequestNo identifies the request: sending it again must never refund
// twice, which is what makes a retry after a timeout safe.
type RefundRequest struct {
	OutTradeNo   string
	TradeNo      string
	OutRequestNo string
	Amount       Money // this refund
	Total        Money // the order total (WeChat requires it)
	Currency     string
	Reason       string
}

// RefundResult is the platform's answer about one refund request.
type RefundResult struct {
	OutTradeNo    string       `json:"out_trade_no"`
	OutRequestNo  string       `json:"out_request_no"`
	RefundID      string       `json:"refund_id,omitempty"`
	Status        RefundStatus `json:"status"`
	PlatformState string       `json:"platform_state,omitempty"`
	Amount        Money        `json:"amount"`
	RefundedAt    time.Time    `json:"refunded_at,omitzero"`
	Raw           []byte       `json:"-"`
}
