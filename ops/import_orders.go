package ops

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// ImportError names the file, line and column of a bad order row.
type ImportError struct {
	File   string
	Line   int
	Column string
	Err    error
}

func (e *ImportError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": %s", e.Column)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *ImportError) Unwrap() error { return e.Err }

// ImportResult reports a finished import.
type ImportResult struct {
	File   string `json:"file"`
	Format string `json:"format"`
	// Encoding is the text encoding the file was read in: UTF-8, or GBK
	// (what Excel on a Chinese Windows saves), decided from its bytes.
	Encoding string        `json:"encoding"`
	Orders   int           `json:"orders"`
	Duration time.Duration `json:"duration_ns"`
}

// ImportOrders imports a CSV or JSONL file of orders. The whole file lands
// or, at the first bad row, nothing does; the error names file, line and
// column.
func (s *Service) ImportOrders(ctx context.Context, path string) (ImportResult, error) {
	if err := s.allow(ctx, ActImportOrders, path); err != nil {
		return ImportResult{}, err
	}
	res, err := s.importOrders(ctx, path)
	detail := ""
	if err == nil {
		detail = fmt.Sprintf("%d orders (%s)", res.Orders, res.Format)
		if res.Encoding != encodingUTF8 {
			detail = fmt.Sprintf("%d orders (%s, %s)", res.Orders, res.Format, res.Encoding)
		}
	}
	s.auditResult(ctx, ActImportOrders, path, detail, err)
	return res, err
}

func (s *Service) importOrders(ctx context.Context, path string) (ImportResult, error) {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return ImportResult{}, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	name := filepath.Base(path)
	format, err := sniffOrderFormat(name, br)
	if err != nil {
		return ImportResult{}, &ImportError{File: name, Err: err}
	}
	var rows orderRows
	switch format {
	case "csv":
		rows, err = newCSVRows(br)
	case "jsonl":
		rows = newJSONLRows(br)
	}
	if err != nil {
		return ImportResult{}, importError(name, 1, "", err)
	}
	var lines []int32 // line of each inserted order, to name the line of a failed insert
	n, err := s.store.ImportOrders(ctx, s.now(), func(im *store.OrderImporter) error {
		for {
			line, get, err := rows.next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return importError(name, line, "", err)
			}
			if col, err := checkLengths(get); err != nil {
				return &ImportError{File: name, Line: line, Column: col, Err: err}
			}
			o, col, err := s.orderFromRow(get)
			if err != nil {
				return &ImportError{File: name, Line: line, Column: col, Err: err}
			}
			lines = append(lines, int32(line))
			if err := im.Insert(ctx, o); err != nil {
				return rowError(name, lines, err)
			}
		}
	})
	if err != nil {
		return ImportResult{}, rowError(name, lines, err)
	}
	return ImportResult{File: path, Format: format, Encoding: rows.encoding(), Orders: n, Duration: time.Since(start)}, nil
}

// importError names where err happened: a *textError knows its own line
// and column better than the row that was being read.
func importError(file string, line int, col string, err error) error {
	var te *textError
	if errors.As(err, &te) {
		if te.line > 0 {
			line = te.line
		}
		if te.column != "" {
			col = te.column
		}
		err = te.err
	}
	return &ImportError{File: file, Line: line, Column: col, Err: err}
}

// checkLengths holds every value to its column's limit (OrderColumns).
func checkLengths(get func(string) (string, bool)) (string, error) {
	for _, c := range OrderColumns {
		v, _ := get(c.Name)
		if n := utf8.RuneCountInString(v); n > c.Max {
			return c.Name, fmt.Errorf("%d characters; at most %d", n, c.Max)
		}
	}
	return "", nil
}

// rowError maps a store error about the i-th inserted order to its line.
func rowError(file string, lines []int32, err error) error {
	var re *store.ImportRowError
	if errors.As(err, &re) && re.Index < len(lines) {
		return &ImportError{File: file, Line: int(lines[re.Index]), Column: "out_trade_no", Err: re.Err}
	}
	return err
}

// sniffOrderFormat decides CSV or JSONL from the extension, or from the
// first byte when the extension says nothing.
func sniffOrderFormat(name string, br *bufio.Reader) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv", nil
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	}
	head, _ := br.Peek(512)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 {
		return "", errors.New("file is empty")
	}
	if head[0] == '{' {
		return "jsonl", nil
	}
	return "csv", nil
}

// orderFromRow validates one row; on error it names the column.
func (s *Service) orderFromRow(get func(string) (string, bool)) (store.Order, string, error) {
	var o store.Order
	var err error
	val := func(c string) string { v, _ := get(c); return v }

	o.OutTradeNo = val("out_trade_no")
	if err := validOutTradeNo(o.OutTradeNo); err != nil {
		return o, "out_trade_no", err
	}
	if o.Channel, err = gateway.ParseChannel(val("channel")); err != nil {
		return o, "channel", err
	}
	if o.Channel == gateway.WeChat && len(o.OutTradeNo) > 32 {
		return o, "out_trade_no", fmt.Errorf("%q is %d characters; WeChat Pay allows 32", o.OutTradeNo, len(o.OutTradeNo))
	}
	if o.Amount, err = gateway.ParseMoney(val("amount")); err != nil {
		return o, "amount", err
	}
	if o.Amount <= 0 {
		return o, "amount", fmt.Errorf("%s: must be positive", o.Amount)
	}
	o.Subject = val("subject")
	o.Currency = strings.ToUpper(val("currency"))
	if o.Currency == "" {
		o.Currency = "CNY"
	}
	o.Status = store.OrderPending
	if v := val("status"); v != "" {
		if o.Status, err = store.ParseOrderStatus(v); err != nil {
			return o, "status", err
		}
	}
	if o.CreatedAt, err = parseLocalTime(val("created_at"), s.zone); err != nil {
		return o, "created_at", err
	}
	o.TradeNo = val("trade_no")
	if v := val("paid_at"); v != "" {
		if o.PaidAt, err = parseLocalTime(v, s.zone); err != nil {
			return o, "paid_at", err
		}
	}
	if !o.Status.IsPaid() && (o.TradeNo != "" || !o.PaidAt.IsZero()) {
		return o, "status", fmt.Errorf("%s order has a trade_no or paid_at; a paid order is PAID, PARTIALLY_REFUNDED or REFUNDED", o.Status)
	}
	if v := val("refunded"); v != "" {
		if o.Refunded, err = gateway.ParseMoney(v); err != nil {
			return o, "refunded", err
		}
	}
	switch {
	case o.Status == store.OrderRefunded && o.Refunded == 0:
		o.Refunded = o.Amount
	case o.Refunded < 0 || o.Refunded > o.Amount:
		return o, "refunded", fmt.Errorf("%s is outside 0..%s", o.Refunded, o.Amount)
	case o.Status == store.OrderRefunded && o.Refunded != o.Amount:
		return o, "refunded", fmt.Errorf("a REFUNDED order refunded %s of %s; use PARTIALLY_REFUNDED", o.Refunded, o.Amount)
	case o.Status == store.OrderPartiallyRefunded && (o.Refunded == 0 || o.Refunded == o.Amount):
		return o, "refunded", fmt.Errorf("a PARTIALLY_REFUNDED order needs a refunded amount between 0 and %s", o.Amount)
	case !o.Status.IsPaid() && o.Refunded != 0:
		return o, "refunded", fmt.Errorf("a %s order cannot have refunds", o.Status)
	case o.Status == store.OrderPaid && o.Refunded != 0:
		return o, "refunded", fmt.Errorf("a PAID order with refunds is PARTIALLY_REFUNDED or REFUNDED")
	}
	return o, "", nil
}

// validOutTradeNo applies the platforms' common rule for merchant order
// numbers: letters, digits and _-|*, at most 64 characters.
func validOutTradeNo(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > 64 {
		return fmt.Errorf("%q is longer than 64 characters", s)
	}
	for _, c := range []byte(s) {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c == '|' || c == '*'
		if !ok {
			return fmt.Errorf("%q has %q; allowed are letters, digits and _-|*", s, c)
		}
	}
	return nil
}

// parseLocalTime reads RFC 3339, or "YYYY-MM-DD HH:MM:SS" in the business
// zone (how both platforms print times).
func parseLocalTime(s string, zone *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateTime, s, zone); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-11-22T10:00:00+08:00) or 2026-11-22 10:00:00", s)
}
