package alipay

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
)

// The summary file (…_业务明细(汇总).csv) beside the detail file in a bill
// zip: the same #-preamble, a header (门店编号, 门店名称, 交易订单总笔数,
// 退款订单总笔数, then amounts in 元 ending with 实收净额（元）), a row per
// store and a 合计 row, an end marker.
const (
	colStore          = "门店编号"
	colPaymentCount   = "交易订单总笔数"
	colRefundCount    = "退款订单总笔数"
	summaryTotalLabel = "合计"
)

// summaryFile is what the summary states.
type summaryFile struct {
	file        string // zip name/entry name, for messages
	account     string
	accountLine int
	window      [2]time.Time
	windowLine  int
	line        int // the 合计 row
	payments    int
	refunds     int
	// figures are the 合计 row's amounts by column name, as printed
	// (refunds netted in, 服务费 with the file's sign).
	figures map[string]gateway.Money
	order   []string // the money columns in header order
	// feeSign is what 实收净额 tells of 服务费's sign (see billReader), 0
	// when it cannot tell (no 服务费, or no 实收净额).
	feeSign int
}

// columnSum is one money column of the detail file whose total the summary
// states.
type columnSum struct {
	name  string
	col   int
	total gateway.Money
	want  gateway.Money
}

// readSummary reads the summary entry and decides from it, where it can,
// the sign of 服务费.
func (b *billReader) readSummary(name string, f *zip.File, ra io.ReaderAt) error {
	fail := func(line int, kind error, format string, args ...any) error {
		return &gateway.BillError{File: name, Line: line, Err: fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))}
	}
	rc, err := openEntry(f, ra, maxSummary)
	if err != nil {
		return fail(0, ErrBillLayout, "summary file: %v", err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		if errors.Is(err, gateway.ErrBillTooLarge) {
			return fail(0, gateway.ErrBillTooLarge, "summary file larger than %d bytes", maxSummary)
		}
		return fail(0, ErrBillTruncated, "summary file: %v", err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		text, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
		if err != nil || bytes.ContainsRune(text, utf8.RuneError) {
			return fail(0, ErrBillEncoding, "summary file is neither GBK nor UTF-8")
		}
		raw = text
	}
	s := &summaryFile{file: name, figures: map[string]gateway.Money{}}
	var header []string
	for i, line := range strings.Split(string(raw), "\n") {
		n := i + 1
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case line[0] == '#':
			acct, window, err := preambleFacts(line, b.zone)
			if err != nil {
				return fail(n, ErrBillLayout, "%v", err)
			}
			if acct != "" {
				s.account, s.accountLine = acct, n
			}
			if !window[0].IsZero() {
				s.window, s.windowLine = window, n
			}
			continue
		case header == nil:
			header = splitColumns(line)
			continue
		}
		fields := splitColumns(line)
		if len(fields) != len(header) {
			return fail(n, ErrBillLayout, "summary row has %d fields, its header %d", len(fields), len(header))
		}
		if fields[0] != summaryTotalLabel {
			continue // a store's own row; the 合计 row totals them
		}
		if s.line != 0 {
			return fail(n, ErrBillLayout, "second %s row (the first is line %d)", summaryTotalLabel, s.line)
		}
		s.line = n
		for j, h := range header {
			v := fields[j]
			switch {
			case h == colPaymentCount || h == colRefundCount:
				c, err := strconv.Atoi(v)
				if err != nil || c < 0 {
					return fail(n, ErrBillLayout, "%s %q is not a count", h, v)
				}
				if h == colPaymentCount {
					s.payments = c
				} else {
					s.refunds = c
				}
			case strings.HasSuffix(h, "（元）"):
				m, err := gateway.ParseMoney(v)
				if err != nil {
					return fail(n, ErrBillLayout, "%s: %v", h, err)
				}
				s.figures[h] = m
				s.order = append(s.order, h)
			}
		}
	}
	switch {
	case header == nil || header[0] != colStore:
		return fail(0, ErrBillLayout, "summary file has no header starting with %s", colStore)
	case s.line == 0:
		return fail(0, ErrBillLayout, "summary file has no %s row", summaryTotalLabel)
	}
	for _, c := range []string{colPaymentCount, colRefundCount, colNet, colFee} {
		if !slices.Contains(header, c) {
			return fail(0, ErrBillLayout, "summary header lacks %s", c)
		}
	}
	m, fee := s.figures[colNet], s.figures[colFee]
	if n, ok := s.figures[colNetAfterFee]; ok && fee != 0 {
		switch n {
		case m + fee:
			s.feeSign = -1
		case m - fee:
			s.feeSign = 1
		default:
			return fail(s.line, ErrBillTotals, "%s %s is neither %s %s + %s %s nor their difference", colNetAfterFee, n, colNet, m, colFee, fee)
		}
	}
	b.summary = s
	if s.feeSign != 0 {
		b.feeSign, b.feeSignLine = s.feeSign, s.line
		b.feeFrom = name
	}
	return nil
}

// columnsIn lists the summary's money figures that are columns of the
// detail file (by header name), to be summed over its rows.
func (s *summaryFile) columnsIn(idx map[string]int) []columnSum {
	var out []columnSum
	for _, name := range s.order {
		if name == colNetAfterFee {
			continue // summary-only: checked through 商家实收 and 服务费
		}
		if col, ok := idx[name]; ok {
			out = append(out, columnSum{name: name, col: col, want: s.figures[name]})
		}
	}
	return out
}

// checkSummary runs at the end of the detail file: the summary's counts and
// totals must be the detail's.
func (b *billReader) checkSummary() error {
	s := b.summary
	if s == nil {
		return nil
	}
	fail := func(format string, args ...any) error {
		b.close()
		return &gateway.BillError{File: s.file, Line: s.line, Err: fmt.Errorf("%w: %s", ErrBillTotals, fmt.Sprintf(format, args...))}
	}
	c := b.computed
	if s.payments != c.Payments || s.refunds != c.Refunds {
		return fail("summary states %d payments and %d refunds, the detail file %d and %d", s.payments, s.refunds, c.Payments, c.Refunds)
	}
	for _, col := range b.sums {
		if col.total != col.want {
			return fail("summary states %s %s, the detail file's rows add up to %s", col.name, col.want, col.total)
		}
	}
	return nil
}

// preambleFacts reads the account (#账号：[20880001000000010156]) or the
// date window (#起始日期：[2026年11月22日 00:00:00]   终止日期：[…]) of a
// preamble line; other lines give nothing.
func preambleFacts(line string, zone *time.Location) (account string, window [2]time.Time, err error) {
	bracketed := func(s string) (string, string, bool) {
		_, rest, ok := strings.Cut(s, "[")
		if !ok {
			return "", "", false
		}
		v, rest, ok := strings.Cut(rest, "]")
		return strings.TrimSpace(v), rest, ok
	}
	switch {
	case strings.Contains(line, "账号"):
		v, _, ok := bracketed(line)
		if !ok {
			return "", window, fmt.Errorf("account line %q has no [account]", truncate(line, 80))
		}
		return v, window, nil
	case strings.Contains(line, "起始日期"):
		from, rest, ok1 := bracketed(line)
		to, _, ok2 := bracketed(rest)
		if !ok1 || !ok2 || !strings.Contains(rest, "终止日期") {
			return "", window, fmt.Errorf("date line %q does not state [start] and [end]", truncate(line, 120))
		}
		for i, v := range []string{from, to} {
			t, err := time.ParseInLocation("2006年01月02日 15:04:05", v, zone)
			if err != nil {
				return "", window, fmt.Errorf("date line: %q is not like 2026年11月22日 00:00:00", v)
			}
			window[i] = t
		}
		return "", window, nil
	}
	return "", window, nil
}

func splitColumns(line string) []string {
	fields := strings.Split(line, ",")
	for i, f := range fields {
		fields[i] = strings.NewReplacer("(", "（", ")", "）").Replace(strings.Trim(f, " \t"))
	}
	return fields
}
