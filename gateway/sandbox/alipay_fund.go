package sandbox

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"io"
	"strconv"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// The layout of Alipay's 账务明细 (bill_type signcustomer), as merchants
// download it: a zip of GBK files, the detail and its (汇总) summary. The
// detail has the twelve columns documented since 2012 and the four newer
// ones after them; 支出 is printed negative, as current files do.
const (
	alipayFundTitle  = "#支付宝账务明细查询"
	alipayFundBegin  = "#-----------------------------------------账务明细列表----------------------------------------"
	alipayFundEnd    = "#----------------------------------------账务明细列表结束-------------------------------------"
	AlipayFundHeader = "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注,业务描述,业务账单来源,业务基础订单号,业务订单号"
)

// AlipayFundOpening is the balance the sandbox's Alipay account has before
// any day's movements.
const AlipayFundOpening gateway.Money = 1_000_000

// AlipayFundRow is one movement of a 账务明细.
type AlipayFundRow struct {
	FlowNo     string // 账务流水号
	BizNo      string // 业务流水号: the trade number, or the movement's own
	OutTradeNo string
	Subject    string
	Time       time.Time
	Peer       string        // 对方账号, already masked
	Amount     gateway.Money // signed: money in positive
	Type       string        // 业务类型: 在线支付, 收费, 交易退款, 提现, 转账, 其它
	Remark     string
	Desc       string // 业务描述
}

// AlipayFundWriter streams a 账务明细 zip row by row; Close writes the end
// marker, the stated totals and the summary file.
type AlipayFundWriter struct {
	zw      *zip.Writer
	out     *bufio.Writer
	account string
	start   time.Time
	zone    *time.Location
	balance gateway.Money

	nIn, nOut     int
	sumIn, sumOut gateway.Money
	buf           []byte
	exportedAt    time.Time
	err           error
}

// NewAlipayFundZip starts the 账务明细 zip of account for the business date
// of day (in day's location), from opening balance.
func NewAlipayFundZip(w io.Writer, account string, day time.Time, opening gateway.Money) *AlipayFundWriter {
	start, _ := gateway.Day(day, day.Location())
	f := &AlipayFundWriter{zw: zip.NewWriter(w), account: account, start: start, zone: day.Location(), balance: opening, exportedAt: start.AddDate(0, 0, 1).Add(9 * time.Hour)}
	f.zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) { return flate.NewWriter(out, flate.BestSpeed) })
	d := start.Format("20060102")
	entry, err := f.zw.CreateHeader(&zip.FileHeader{Name: alipayGBK(account + "_" + d + "_账务明细.csv"), NonUTF8: true, Method: zip.Deflate, Modified: start})
	f.err = err
	f.out = bufio.NewWriterSize(orDiscard(entry), 64<<10)
	f.line(alipayFundTitle)
	f.line("#账号：[" + account + "]")
	f.line("#起始日期：[" + alipayCNTime(start) + "]   终止日期：[" + alipayCNTime(start.AddDate(0, 0, 1)) + "]")
	f.line(alipayFundBegin)
	f.line(AlipayFundHeader)
	return f
}

// SetExportedAt sets the #导出时间 printed at the end.
func (f *AlipayFundWriter) SetExportedAt(t time.Time) { f.exportedAt = t }

func (f *AlipayFundWriter) line(s string) {
	if f.err != nil {
		return
	}
	_, f.err = f.out.WriteString(alipayGBK(s))
	if f.err == nil {
		_, f.err = f.out.WriteString("\r\n")
	}
}

// Add writes one movement, keeping the balance and the totals.
func (f *AlipayFundWriter) Add(r *AlipayFundRow) error {
	if f.err != nil {
		return f.err
	}
	f.balance += r.Amount
	p := f.buf[:0]
	for _, v := range []string{r.FlowNo, r.BizNo, r.OutTradeNo} {
		p = append(p, alipayGBK(alipayCell(v))...)
		p = append(p, "\t,"...)
	}
	p = append(p, alipayGBK(alipayCell(r.Subject))...)
	p = append(p, "\t,"...)
	p = r.Time.In(f.zone).AppendFormat(p, time.DateTime)
	p = append(p, ',')
	p = append(p, alipayGBK(alipayCell(r.Peer))...)
	p = append(p, "\t,"...)
	if r.Amount > 0 {
		p = append(p, r.Amount.String()...)
		p = append(p, ',')
		f.nIn++
		f.sumIn += r.Amount
	} else {
		p = append(p, ',')
		p = append(p, r.Amount.String()...)
		f.nOut++
		f.sumOut += r.Amount
	}
	p = append(p, ',')
	p = append(p, f.balance.String()...)
	p = append(p, alipayGBK(",支付宝\t,")...)
	p = append(p, alipayGBK(alipayCell(r.Type))...)
	p = append(p, "\t,"...)
	p = append(p, alipayGBK(alipayCell(r.Remark))...)
	p = append(p, "\t,"...)
	p = append(p, alipayGBK(alipayCell(r.Desc))...)
	p = append(p, alipayGBK("\t,支付宝\t,\t,\t\r\n")...)
	f.buf = p
	_, f.err = f.out.Write(p)
	return f.err
}

// Close writes the end marker, #支出合计 and #收入合计, and the summary
// file, and closes the zip (not w).
func (f *AlipayFundWriter) Close() error {
	f.line(alipayFundEnd)
	f.line("#支出合计：" + strconv.Itoa(f.nOut) + "笔，共" + f.sumOut.String() + "元")
	f.line("#收入合计：" + strconv.Itoa(f.nIn) + "笔，共" + f.sumIn.String() + "元")
	f.line("#导出时间：[" + alipayCNTime(f.exportedAt.In(f.zone)) + "]")
	if f.err == nil {
		f.err = f.out.Flush()
	}
	if f.err != nil {
		return f.err
	}
	d := f.start.Format("20060102")
	sum, err := f.zw.CreateHeader(&zip.FileHeader{Name: alipayGBK(f.account + "_" + d + "_账务明细(汇总).csv"), NonUTF8: true, Method: zip.Deflate, Modified: f.start})
	if err != nil {
		return err
	}
	f.out = bufio.NewWriter(sum)
	f.line("#支付宝账务汇总查询")
	f.line("#账号：[" + f.account + "]")
	f.line("类型,收入笔数,收入金额（+元）,支出笔数,支出金额（-元）,总金额（元）")
	f.line("合计," + strconv.Itoa(f.nIn) + "," + f.sumIn.String() + "," + strconv.Itoa(f.nOut) + "," + f.sumOut.String() + "," + (f.sumIn + f.sumOut).String())
	if f.err == nil {
		f.err = f.out.Flush()
	}
	if f.err == nil {
		f.err = f.zw.Close()
	}
	return f.err
}

// WriteAlipayFundZip writes the 账务明细 zip of a business day (in the
// sandbox's zone) for its Alipay account: every movement of fundRows, a
// payment's fee as its own 收费 row naming the trade in 备注
// (服务费[trade number]), a refund's returned fee as 服务费退回(trade number).
// It returns the number of detail rows.
func (s *Server) WriteAlipayFundZip(w io.Writer, day time.Time) (int, error) {
	a, ok := s.sides[gateway.Alipay].(*alipaySide)
	if !ok {
		return 0, errChannelNotEnabled
	}
	start, _ := gateway.Day(day, s.Zone())
	fw := NewAlipayFundZip(w, a.billAccount(), start, AlipayFundOpening)
	fw.SetExportedAt(a.exportedAt("signcustomer", start)) // made once: a re-download is the same bytes
	n := 0
	add := func(r AlipayFundRow) error {
		n++
		if r.FlowNo == "" {
			r.FlowNo = fundFlowNo("", start, n)
		}
		return fw.Add(&r)
	}
	const sys = "sys***@alipay.com"
	for _, r := range s.fundRows(gateway.Alipay, day) {
		var err error
		switch t := r.trade; r.kind {
		case gateway.FundPayment:
			err = add(AlipayFundRow{BizNo: t.TradeNo, OutTradeNo: t.OutTradeNo, Subject: t.Subject, Time: r.at,
				Peer: alipayMaskLogonID(t.BuyerID), Amount: r.amount, Type: "在线支付", Desc: "交易收款"})
			if err == nil && r.fee != 0 {
				err = add(AlipayFundRow{BizNo: t.TradeNo, OutTradeNo: t.OutTradeNo, Subject: t.Subject, Time: r.at,
					Peer: sys, Amount: -r.fee, Type: "收费", Remark: "服务费[" + t.TradeNo + "]", Desc: "交易服务费"})
			}
		case gateway.FundRefund:
			err = add(AlipayFundRow{BizNo: t.TradeNo, OutTradeNo: t.OutTradeNo, Subject: t.Subject, Time: r.at,
				Peer: alipayMaskLogonID(t.BuyerID), Amount: r.amount, Type: "交易退款", Remark: r.remark, Desc: "退款"})
			if err == nil && r.feeBack != 0 {
				err = add(AlipayFundRow{BizNo: t.TradeNo, OutTradeNo: t.OutTradeNo, Subject: t.Subject, Time: r.at,
					Peer: sys, Amount: r.feeBack, Type: "收费", Remark: "服务费退回(" + t.TradeNo + ")", Desc: "服务费退回"})
			}
		case gateway.FundWithdrawal:
			err = add(AlipayFundRow{BizNo: fundFlowNo("3", start, n+1), Time: r.at, Peer: "银行卡", Amount: r.amount,
				Type: "提现", Remark: r.remark, Desc: "提现"})
		default:
			typ := "其它"
			if r.amount > 0 {
				typ = "转账"
			}
			err = add(AlipayFundRow{BizNo: fundFlowNo("4", start, n+1), OutTradeNo: r.outTradeNo, Time: r.at, Peer: sys,
				Amount: r.amount, Type: typ, Remark: r.remark, Desc: typ})
		}
		if err != nil {
			return 0, err
		}
	}
	return n, fw.Close()
}
