package sandbox

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// WeChat Pay trade-bill layouts, as the platform writes them (UTF-8, a
// header line, detail rows whose every value starts with a backtick, a
// summary title line and one summary row).
var (
	wechatBillHeaders = map[string][]string{
		"ALL": {"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
			"交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
			"充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"},
		"SUCCESS": {"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
			"交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "费率备注"},
		"REFUND": {"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
			"交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "退款申请时间", "退款成功时间", "微信退款单号",
			"商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率",
			"订单金额", "申请退款金额", "费率备注"},
	}
	wechatBillSummaryTitle = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)

// WeChatFeeRate is the service-fee rate the sandbox charges, in basis
// points (60 = 0.60%), the common rate for ordinary merchants.
const WeChatFeeRate = 60

// WeChatFee is the fee on an amount at WeChatFeeRate, rounded half up to the
// fen as the platform rounds it. A refund returns WeChatFee of the refunded
// amount (booked negative on the refund row).
func WeChatFee(amount gateway.Money) gateway.Money {
	neg := amount < 0
	if neg {
		amount = -amount
	}
	fee := (int64(amount)*WeChatFeeRate + 5000) / 10000
	if neg {
		fee = -fee
	}
	return gateway.Money(fee)
}

// WeChatBillRow is one detail row of a WeChat trade bill.
type WeChatBillRow struct {
	// Time is 交易时间: when the payment succeeded, or for a refund row when
	// the refund was asked for (发起退款时间), which dates the row into its
	// bill whenever the refund succeeds.
	Time       time.Time
	AppID      string
	MchID      string
	TradeNo    string // 微信订单号
	OutTradeNo string // 商户订单号
	OpenID     string // 用户标识
	TradeType  string // NATIVE, JSAPI, ...; default NATIVE
	Subject    string // 商品名称
	Attach     string // 商户数据包
	// Amount is the order amount (订单金额, and 应结订单金额 since the sandbox
	// has no coupons). Refund rows print 0.00 in both, as the platform does.
	Amount gateway.Money
	// Fee is 手续费: positive on a payment, negative (returned) on a refund.
	Fee gateway.Money

	// Refund rows only.
	RefundID     string        // 微信退款单号
	OutRefundNo  string        // 商户退款单号
	RefundAmount gateway.Money // 退款金额 and 申请退款金额
	// RefundSucceededAt is 退款成功时间 (REFUND bills); empty unless the
	// row's status is SUCCESS.
	RefundSucceededAt time.Time
	// RefundStatus is 退款状态 as of when the bill was cut, never updated
	// afterwards: SUCCESS (default), PROCESSING, ABNORMAL or CLOSED.
	RefundStatus string
}

// WeChatBillWriter writes a WeChat trade bill row by row, so a bill of any
// size is made without holding it in memory: NewWeChatBillWriter, then
// Payment and Refund in any order, then Close, which writes the summary.
type WeChatBillWriter struct {
	// Zone is the zone times are written in; default Asia/Shanghai.
	Zone *time.Location

	w    *bufio.Writer
	kind string
	buf  []byte
	err  error

	rows                                         int
	settle, refund, fee, order, applyRefundTotal gateway.Money
}

// WeChatBillBOM starts every bill the platform serves: its trade and fund
// bills are UTF-8 with a byte-order mark (wechatpay-axios-plugin's fixture
// bill has it, and that client's parser drops the first three bytes
// unconditionally), and the SHA1 in hash_value covers it.
const WeChatBillBOM = "\ufeff"

// NewWeChatBillWriter starts a bill of kind ALL, SUCCESS or REFUND and
// writes the BOM and its header line. Lines end in CRLF.
func NewWeChatBillWriter(w io.Writer, kind string) (*WeChatBillWriter, error) {
	h, ok := wechatBillHeaders[kind]
	if !ok {
		return nil, fmt.Errorf("sandbox: unknown WeChat bill type %q (want ALL, SUCCESS or REFUND)", kind)
	}
	bw := &WeChatBillWriter{Zone: gateway.Shanghai, w: bufio.NewWriterSize(w, 64<<10), kind: kind, buf: make([]byte, 0, 512)}
	_, bw.err = bw.w.WriteString(WeChatBillBOM + strings.Join(h, ",") + "\r\n")
	return bw, bw.err
}

// Rows is the number of detail rows written so far.
func (bw *WeChatBillWriter) Rows() int { return bw.rows }

// Payment writes a payment row (交易状态 SUCCESS). A REFUND bill has none.
func (bw *WeChatBillWriter) Payment(r *WeChatBillRow) error {
	if bw.err != nil {
		return bw.err
	}
	if bw.kind == "REFUND" {
		return errors.New("sandbox: a REFUND bill has no payment rows")
	}
	b := bw.common(bw.buf[:0], r, "SUCCESS")
	b = append(b, ",`"...)
	b = wechatMoney(b, r.Amount) // 应结订单金额
	b = append(b, ",`0.00"...)   // 代金券金额
	if bw.kind == "ALL" {
		b = append(b, ",`0,`0,`0.00,`0.00,`,`"...) // no refund: ids 0, amounts 0.00, type and state empty
	}
	b = bw.tail(b, r, r.Amount, 0)
	bw.settle += r.Amount
	bw.order += r.Amount
	return bw.emit(b, r)
}

// Refund writes a refund row (交易状态 REFUND, 退款状态 RefundStatus): the
// original order's numbers, 0.00 in the order amounts, the refund in 退款金额
// and 申请退款金额. A SUCCESS bill has none.
func (bw *WeChatBillWriter) Refund(r *WeChatBillRow) error {
	if bw.err != nil {
		return bw.err
	}
	if bw.kind == "SUCCESS" {
		return errors.New("sandbox: a SUCCESS bill has no refund rows")
	}
	b := bw.common(bw.buf[:0], r, "REFUND")
	b = append(b, ",`0.00,`0.00"...) // 应结订单金额, 代金券金额
	status := r.RefundStatus
	if status == "" {
		status = "SUCCESS"
	}
	if bw.kind == "REFUND" {
		b = append(b, ",`"...)
		b = bw.clock(b, r.Time) // 退款申请时间: the row's 交易时间
		b = append(b, ",`"...)
		if !r.RefundSucceededAt.IsZero() {
			b = bw.clock(b, r.RefundSucceededAt)
		}
	}
	b = append(b, ",`"...)
	b = append(b, wechatClean(r.RefundID)...)
	b = append(b, ",`"...)
	b = append(b, wechatClean(r.OutRefundNo)...)
	b = append(b, ",`"...)
	b = wechatMoney(b, r.RefundAmount)
	b = append(b, ",`0.00,`ORIGINAL,`"...) // 充值券退款金额, 退款类型
	b = append(b, wechatClean(status)...)  // 退款状态
	b = bw.tail(b, r, 0, r.RefundAmount)
	bw.refund += r.RefundAmount
	bw.applyRefundTotal += r.RefundAmount
	return bw.emit(b, r)
}

// common writes the columns every row and layout starts with, up to and
// including 货币种类.
func (bw *WeChatBillWriter) common(b []byte, r *WeChatBillRow, state string) []byte {
	tradeType := r.TradeType
	if tradeType == "" {
		tradeType = "NATIVE"
	}
	b = append(b, '`')
	b = bw.clock(b, r.Time)
	for _, v := range [...]string{r.AppID, r.MchID, "0", "", r.TradeNo, r.OutTradeNo, r.OpenID, tradeType, state, "OTHERS", "CNY"} {
		b = append(b, ",`"...)
		b = append(b, wechatClean(v)...)
	}
	return b
}

// tail writes 商品名称 to the end: the subject, attach, fee with five
// decimals, rate, 订单金额, 申请退款金额 (not in SUCCESS bills) and an empty
// 费率备注.
func (bw *WeChatBillWriter) tail(b []byte, r *WeChatBillRow, order, applyRefund gateway.Money) []byte {
	b = append(b, ",`"...)
	b = append(b, wechatClean(r.Subject)...)
	b = append(b, ",`"...)
	b = append(b, wechatClean(r.Attach)...)
	b = append(b, ",`"...)
	b = wechatMoney(b, r.Fee)
	b = append(b, "000,`0.60%,`"...) // five decimals; the rate of WeChatFeeRate
	b = wechatMoney(b, order)
	if bw.kind != "SUCCESS" {
		b = append(b, ",`"...)
		b = wechatMoney(b, applyRefund)
	}
	return append(b, ",`\r\n"...)
}

func (bw *WeChatBillWriter) emit(b []byte, r *WeChatBillRow) error {
	bw.buf = b
	bw.rows++
	bw.fee += r.Fee
	_, bw.err = bw.w.Write(b)
	return bw.err
}

// Close writes the summary title and row and flushes. It does not close the
// underlying writer.
func (bw *WeChatBillWriter) Close() error {
	if bw.err != nil {
		return bw.err
	}
	b := append(bw.buf[:0], wechatBillSummaryTitle...)
	b = append(b, "\r\n`"...)
	b = strconv.AppendInt(b, int64(bw.rows), 10)
	for i, m := range []gateway.Money{bw.settle, bw.refund, 0, bw.fee, bw.order, bw.applyRefundTotal} {
		b = append(b, ",`"...)
		b = wechatMoney(b, m)
		if i == 3 {
			b = append(b, "000"...) // the fee total has five decimals like the fees
		}
	}
	b = append(b, "\r\n"...)
	if _, bw.err = bw.w.Write(b); bw.err != nil {
		return bw.err
	}
	bw.err = bw.w.Flush()
	if bw.err == nil {
		bw.err = errors.New("sandbox: bill writer is closed")
		return nil
	}
	return bw.err
}

// clock appends "2006-01-02 15:04:05" in the writer's zone.
func (bw *WeChatBillWriter) clock(b []byte, t time.Time) []byte {
	t = t.In(bw.Zone)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), ' ')
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':')
	return append(b, byte('0'+s/10), byte('0'+s%10))
}

// wechatMoney appends yuan with two decimals ("12.30", "-0.27").
func wechatMoney(b []byte, m gateway.Money) []byte {
	v := int64(m)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/100, 10)
	return append(b, '.', byte('0'+v%100/10), byte('0'+v%10))
}

// wechatClean keeps free text from breaking the layout: no line breaks, and no
// backtick, which starts a value.
func wechatClean(s string) string {
	if !strings.ContainsAny(s, "\r\n`") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', '`':
			return ' '
		}
		return r
	}, s)
}

// WriteWeChatBill writes the trade bill of kind ALL, SUCCESS or REFUND for
// the business date of day (in the sandbox's zone), as the platform cuts it:
// payments by the time they were paid, refund rows by the time the refund
// was asked for (so a refund shows in a later day's bill than its payment,
// and in the bill of its request whenever it succeeds), with the 退款状态 it
// had when the bill was cut, at 09:00 the next morning, never updated: a
// refund still pending then is PROCESSING on the bill for good. Rows come
// in book order, not sorted by time, as in real bills. It returns the
// number of detail rows.
func (s *Server) WriteWeChatBill(w io.Writer, day time.Time, kind string) (int, error) {
	bw, err := NewWeChatBillWriter(w, kind)
	if err != nil {
		return 0, err
	}
	bw.Zone = s.Zone()
	start, end := gateway.Day(day, s.Zone())
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }
	cut := end.Add(wechatBillCutAfter)
	k := s.cfg.Keys
	for _, t := range s.Trades(gateway.WeChat) {
		row := WeChatBillRow{AppID: k.WeChatAppID, MchID: k.WeChatMchID, TradeNo: t.TradeNo, OutTradeNo: t.OutTradeNo,
			OpenID: t.BuyerID, Subject: t.Subject, Amount: t.Amount}
		if kind != "REFUND" && in(t.BookedAt()) {
			p := row
			p.Time, p.Fee = t.BookedAt(), s.tradeFee(t)
			if err := bw.Payment(&p); err != nil {
				return 0, err
			}
		}
		if kind == "SUCCESS" {
			continue
		}
		for _, r := range t.Refunds {
			if !in(r.CreatedAt.Add(t.BookDelay)) {
				continue
			}
			rr := row
			rr.Time = r.CreatedAt.Add(t.BookDelay)
			rr.RefundID, rr.OutRefundNo, rr.RefundAmount = r.RefundID, r.OutRequestNo, r.Amount
			rr.RefundStatus = wechatRefundStatusAt(r, cut)
			if rr.RefundStatus == "SUCCESS" {
				rr.RefundSucceededAt = t.RefundBookedAt(r)
			}
			rr.Fee = -WeChatFee(r.Amount)
			if err := bw.Refund(&rr); err != nil {
				return 0, err
			}
		}
	}
	return bw.Rows(), bw.Close()
}

// wechatBillCutAfter is when, after its day, the platform makes a day's
// bill: it starts at 09:00 the next morning ("微信在次日9点启动生成前一天的
// 对账单"); statuses are as of then.
const wechatBillCutAfter = 9 * time.Hour

// wechatRefundStatusAt is the 退款状态 a bill cut at cut prints for r, as
// the refund stood then: SUCCESS once it succeeded by then, ABNORMAL once it
// had gone ABNORMAL (and was not yet paid out), CLOSED once it was closed
// (WeChat has no FAILED; a refund failed without a closing time, never
// carried out, is closed from the start), else PROCESSING.
func wechatRefundStatusAt(r *Refund, cut time.Time) string {
	switch {
	case r.Status == gateway.RefundSuccess && !r.SucceededAt.After(cut):
		return "SUCCESS"
	case !r.AbnormalAt.IsZero() && !r.AbnormalAt.After(cut):
		return "ABNORMAL"
	case r.Status == gateway.RefundFailed && !r.ClosedAt.After(cut):
		return "CLOSED"
	}
	return "PROCESSING"
}

// wechatBillFile is a bill prepared by /v3/bill/tradebill and fetched
// through its download URL.
type wechatBillFile struct {
	data        []byte // as served: the text, or its gzip
	contentType string
	expires     time.Time
}

// wechatBillURLLife is how long a download URL works: the platform's
// download_url is valid for 30 seconds.
const wechatBillURLLife = 30 * time.Second

// GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL|SUCCESS|REFUND&tar_type=GZIP
//
// The answer names a SHA1 of the uncompressed text and a download URL on
// this listener. Bills exist for past business dates only: today's is still
// being made (STATEMENT_CREATING), and a day without trades has none
// (NO_STATEMENT_EXIST), as at the platform.
func (w *wechatSide) handleTradeBill(rw http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("bill_type")
	if kind == "" {
		kind = "ALL"
	}
	_, known := wechatBillHeaders[kind]
	w.serveBill(rw, r, known, "bill_type 只能是 ALL、SUCCESS 或 REFUND",
		func(out io.Writer, day time.Time) (int, error) { return w.s.WriteWeChatBill(out, day, kind) })
}

// GET /v3/bill/fundflowbill?bill_date=YYYY-MM-DD&account_type=BASIC|OPERATION|FEES&tar_type=GZIP
//
// The fund-flow bill of an account, answered like the trade bill. The
// sandbox's merchant has money only in its BASIC account (the default):
// the OPERATION and FEES accounts have no statement.
func (w *wechatSide) handleFundBill(rw http.ResponseWriter, r *http.Request) {
	account := r.URL.Query().Get("account_type")
	write := w.s.WriteWeChatFundBill
	if account == "OPERATION" || account == "FEES" {
		write = func(io.Writer, time.Time) (int, error) { return 0, nil }
	}
	known := account == "" || account == "BASIC" || account == "OPERATION" || account == "FEES"
	w.serveBill(rw, r, known, "account_type 只能是 BASIC、OPERATION 或 FEES", write)
}

// serveBill checks a bill request (signature, the bill's own parameter —
// known, else refused with badKind —, bill_date, tar_type), makes the bill
// with write, and answers its SHA1 and a download URL.
func (w *wechatSide) serveBill(rw http.ResponseWriter, r *http.Request, known bool, badKind string, write func(io.Writer, time.Time) (int, error)) {
	if _, ok := w.authenticate(rw, r); !ok {
		return
	}
	q := r.URL.Query()
	bad := func(msg string) { w.replyError(rw, &wechatError{http.StatusBadRequest, "PARAM_ERROR", msg}) }
	if !known {
		bad(badKind)
		return
	}
	zone := w.s.Zone()
	day, err := time.ParseInLocation("2006-01-02", q.Get("bill_date"), zone)
	if err != nil {
		bad("bill_date 格式应为 YYYY-MM-DD")
		return
	}
	tar := q.Get("tar_type")
	if tar != "" && tar != "GZIP" {
		bad("tar_type 只能是 GZIP")
		return
	}
	f := w.s.fault(gateway.WeChat, "")
	if !w.s.beforeAPI(rw, r, f) {
		return
	}
	today, _ := gateway.Day(w.s.now(), zone)
	switch {
	case day.After(today):
		bad("bill_date 不能晚于今天")
		return
	case day.Equal(today):
		w.replyError(rw, &wechatError{http.StatusBadRequest, "STATEMENT_CREATING", "账单生成中，请次日 10 点后再下载"})
		return
	}
	var text bytes.Buffer
	rows, err := write(&text, day)
	if err != nil {
		w.replyError(rw, &wechatError{http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误"})
		return
	}
	if rows == 0 {
		w.replyError(rw, &wechatError{http.StatusBadRequest, "NO_STATEMENT_EXIST", "当日无交易，账单不存在"})
		return
	}
	sum := sha1.Sum(text.Bytes())
	file := &wechatBillFile{data: text.Bytes(), contentType: "text/plain; charset=utf-8", expires: time.Now().Add(wechatBillURLLife)}
	if tar == "GZIP" {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(text.Bytes())
		_ = zw.Close()
		file.data, file.contentType = gz.Bytes(), "application/gzip"
	}
	token := wechatToken(40)
	w.mu.Lock()
	now := time.Now()
	for tk, bf := range w.bills { // drop expired URLs so the map stays small
		if now.After(bf.expires) {
			delete(w.bills, tk)
		}
	}
	w.bills[token] = file
	w.mu.Unlock()
	if !w.s.afterAPI(r, f) {
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.reply(rw, http.StatusOK, map[string]string{
		"hash_type":    "SHA1",
		"hash_value":   hex.EncodeToString(sum[:]),
		"download_url": scheme + "://" + r.Host + wechatBillDownloadPath + "?token=" + token,
	})
}

// GET /v3/billdownload/file?token=...
//
// The request must be signed like any API call. The answer is the file
// itself and is not signed: the platform leaves downloads unsigned (the SDK
// reads them with a NullValidator) and the SHA1 in the signed tradebill
// answer is what vouches for the bytes.
func (w *wechatSide) handleBillDownload(rw http.ResponseWriter, r *http.Request) {
	if _, ok := w.authenticate(rw, r); !ok {
		return
	}
	w.mu.Lock()
	file := w.bills[r.URL.Query().Get("token")]
	w.mu.Unlock()
	if file == nil || time.Now().After(file.expires) {
		w.replyError(rw, &wechatError{http.StatusBadRequest, "INVALID_REQUEST", "下载链接无效或已过期，请重新申请账单"})
		return
	}
	rw.Header().Set("Content-Type", file.contentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(file.data)))
	_, _ = rw.Write(file.data)
}
