package wechat

import (
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// refundAbnormal is WeChat Pay's ABNORMAL refund status: the money left
// the merchant and did not reach the buyer. It is gateway's refund status
// of that name once the store has one; until then the string is shared.
const refundAbnormal gateway.RefundStatus = "ABNORMAL"

// refundStatuses maps 退款状态 as bills print it (APIv3 names, and the v2
// names of older bills) to paydesk's refund statuses.
var refundStatuses = map[string]gateway.RefundStatus{
	"SUCCESS":     gateway.RefundSuccess,
	"PROCESSING":  gateway.RefundPending,
	"ABNORMAL":    refundAbnormal,
	"CHANGE":      refundAbnormal, // v2's name for it
	"CLOSED":      gateway.RefundFailed,
	"REFUNDCLOSE": gateway.RefundFailed, // v2
}

// holdRow holds a parsed row to the options: of the merchant, on the day,
// and not a repeat of an earlier row.
func (b *billReader) holdRow(l *gateway.BillLine, f []string, business string) error {
	if m := b.merchantOf(f); m != b.account || b.accountLine == 0 {
		switch {
		case b.accountLine != 0:
			return b.fail(b.line, "%w: the row is of merchant %s, the rows before it (from line %d) of %s", gateway.ErrBillMerchant, m, b.accountLine, b.account)
		case m == "" && (b.Opt.Merchant != "" || b.Opt.Account != ""):
			return b.fail(b.line, "%w: the bill has no %s column to check the merchant by", gateway.ErrBillMerchant, colMchID)
		case b.Opt.Merchant != "" && m != b.Opt.Merchant:
			return b.fail(b.line, "%w: the row is of merchant %s, not %s ([wechat] mchid): a bill of another merchant", gateway.ErrBillMerchant, m, b.Opt.Merchant)
		case b.Opt.Account != "" && m != b.Opt.Account:
			return b.fail(b.line, "%w: the row is of merchant %s, but this workspace's bills are of %s (recorded from its first bill; set [wechat] mchid to say otherwise)",
				gateway.ErrBillMerchant, m, b.Opt.Account)
		}
		b.account, b.accountLine = strings.Clone(m), b.line
	}
	if !b.OnDay(l.Time) {
		what := "交易时间"
		if l.Kind == gateway.LineRefund {
			what = "交易时间 (when the refund was asked for, which dates a refund row)"
		}
		return b.fail(b.line, "%w: %s %s is not on the business day %s: a row of another day's bill", gateway.ErrBillDay,
			what, l.Time.Format(time.DateTime), b.DayStart.Format(time.DateOnly))
	}
	if r := b.Keys.Add(l, business); r != nil {
		return b.repeated(r)
	}
	return nil
}

// repeated refuses a row that repeats an earlier one, at its own line.
func (b *billReader) repeated(r *gateway.KeyRepeat) error {
	req := ""
	if r.Line.OutRequestNo != "" {
		req = ", refund " + r.Line.OutRequestNo
	}
	return b.fail(r.Line.Line, "%w: %s row of trade %s%s is on line %d already", gateway.ErrBillRepeated, r.Business, r.Line.TradeNo, req, r.First)
}

// merchantOf is the merchant a row belongs to: its 特约商户号 when a service
// provider's bill names one (not empty, not "0"), else its 商户号.
func (b *billReader) merchantOf(f []string) string {
	c := &b.cols
	if c.subMchID >= 0 {
		if sub := f[c.subMchID]; sub != "" && sub != "0" {
			return sub
		}
	}
	if c.mchID >= 0 {
		return f[c.mchID]
	}
	return ""
}

// Account returns the merchant the rows belong to (see merchantOf); empty
// before the first row, or for a bill without rows.
func (b *billReader) Account() string { return b.account }

// wholeCount drops a zero fraction from a count: wechatpay-axios-plugin's
// fixture bill states 总交易单数 as `45.0.
func wholeCount(s string) string {
	if i := strings.IndexByte(s, '.'); i > 0 && strings.Trim(s[i+1:], "0") == "" {
		return s[:i]
	}
	return s
}
