package sandbox

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// The WeChat Pay fund-flow bill (资金账单) as /v3/bill/fundflowbill serves
// it: the APIv3 header (ASCII parentheses), rows whose every value starts
// with a backtick, and the five-figure summary.
const (
	WeChatFundHeader       = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号"
	wechatFundSummaryTitle = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额"
)

// WeChatFundOpening is the BASIC account's balance before any day's
// movements.
const WeChatFundOpening gateway.Money = 1_000_000

// WeChatFundRow is one movement of a 资金账单.
type WeChatFundRow struct {
	Time     time.Time
	BizNo    string // 微信支付业务单号: the transaction or refund id
	FlowNo   string // 资金流水单号
	Name     string // 业务名称: 交易, 退款, 提现, 其他
	Type     string // 业务类型: 交易, 扣除交易手续费, 退款, 提现, …
	Amount   gateway.Money
	Proposer string // 资金变更提交申请人
	Remark   string
	Voucher  string // 业务凭证号: out_trade_no or out_refund_no
}

// WeChatFundWriter streams a 资金账单; Close writes the summary.
type WeChatFundWriter struct {
	w       *bufio.Writer
	zone    *time.Location
	balance gateway.Money
	nIn     int
	nOut    int
	sumIn   gateway.Money
	sumOut  gateway.Money
	err     error
}

// NewWeChatFundWriter starts a fund bill with its header; times are
// written in zone, the balance runs from opening. Lines end in CRLF.
func NewWeChatFundWriter(w io.Writer, zone *time.Location, opening gateway.Money) *WeChatFundWriter {
	f := &WeChatFundWriter{w: bufio.NewWriterSize(w, 64<<10), zone: zone, balance: opening}
	_, f.err = f.w.WriteString(WeChatBillBOM + WeChatFundHeader + "\r\n")
	return f
}

// Add writes one movement.
func (f *WeChatFundWriter) Add(r *WeChatFundRow) error {
	if f.err != nil {
		return f.err
	}
	f.balance += r.Amount
	dir, amount := "收入", r.Amount
	if r.Amount < 0 {
		dir, amount = "支出", -r.Amount
		f.nOut++
		f.sumOut += amount
	} else {
		f.nIn++
		f.sumIn += amount
	}
	vals := []string{r.Time.In(f.zone).Format(time.DateTime), r.BizNo, r.FlowNo, r.Name, r.Type, dir, amount.String(),
		f.balance.String(), r.Proposer, r.Remark, r.Voucher}
	for i, v := range vals {
		vals[i] = "`" + wechatClean(v)
	}
	_, f.err = f.w.WriteString(strings.Join(vals, ",") + "\r\n")
	return f.err
}

// Close writes the summary and flushes (it does not close w).
func (f *WeChatFundWriter) Close() error {
	if f.err != nil {
		return f.err
	}
	_, f.err = f.w.WriteString(wechatFundSummaryTitle + "\r\n`" + strconv.Itoa(f.nIn+f.nOut) + ",`" + strconv.Itoa(f.nIn) + ",`" +
		f.sumIn.String() + ",`" + strconv.Itoa(f.nOut) + ",`" + f.sumOut.String() + "\r\n")
	if f.err == nil {
		f.err = f.w.Flush()
	}
	return f.err
}

// WriteWeChatFundBill writes the BASIC account's 资金账单 of a business day
// (in the sandbox's zone): each payment as 交易/交易/收入 followed by its fee
// as 交易/扣除交易手续费/支出; each refund as one 退款/退款/支出 of the refund
// less the fee it gives back (备注 退款总金额X元;含手续费Y元, the platform's
// wording); then withdrawals (提现) and other movements (其他). It returns
// the number of detail rows.
func (s *Server) WriteWeChatFundBill(w io.Writer, day time.Time) (int, error) {
	if _, ok := s.sides[gateway.WeChat]; !ok {
		return 0, errChannelNotEnabled
	}
	start, _ := gateway.Day(day, s.Zone())
	fw := NewWeChatFundWriter(w, s.Zone(), WeChatFundOpening)
	api := s.cfg.Keys.WeChatMchID + "API"
	n := 0
	add := func(r WeChatFundRow) error {
		n++
		if r.FlowNo == "" {
			r.FlowNo = fundFlowNo("1", start, n)
		}
		return fw.Add(&r)
	}
	for _, r := range s.fundRows(gateway.WeChat, day) {
		var err error
		switch t := r.trade; r.kind {
		case gateway.FundPayment:
			err = add(WeChatFundRow{Time: r.at, BizNo: t.TradeNo, FlowNo: t.TradeNo, Name: "交易", Type: "交易", Amount: r.amount,
				Proposer: "system", Remark: "结算总金额 " + r.amount.String() + " 元;含手续费 " + r.fee.String() + " 元", Voucher: t.OutTradeNo})
			if err == nil && r.fee != 0 {
				err = add(WeChatFundRow{Time: r.at, BizNo: t.TradeNo, FlowNo: t.TradeNo, Name: "交易", Type: "扣除交易手续费", Amount: -r.fee,
					Proposer: "system", Remark: "扣除交易手续费", Voucher: t.OutTradeNo})
			}
		case gateway.FundRefund:
			rf := r.refund
			err = add(WeChatFundRow{Time: r.at, BizNo: rf.RefundID, FlowNo: t.TradeNo, Name: "退款", Type: "退款", Amount: r.amount + r.feeBack,
				Proposer: api, Remark: "退款总金额" + (-r.amount).String() + "元;含手续费" + r.feeBack.String() + "元", Voucher: rf.OutRequestNo})
		case gateway.FundWithdrawal:
			err = add(WeChatFundRow{Time: r.at, Name: "提现", Type: "提现", Amount: r.amount, Proposer: s.cfg.Keys.WeChatMchID, Remark: r.remark})
		default:
			err = add(WeChatFundRow{Time: r.at, Name: "其他", Type: "调账", Amount: r.amount, Proposer: "system", Remark: r.remark, Voucher: r.outTradeNo})
		}
		if err != nil {
			return 0, err
		}
	}
	return n, fw.Close()
}
