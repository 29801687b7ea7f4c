package ops

import (
	"fmt"
	"strings"
)

// OrderColumn is one column of an order file (a CSV header name or a
// JSONL key), with its limit.
type OrderColumn struct {
	Name     string
	Required bool
	// Max is the longest value accepted, in characters. Every column has
	// one: an order file is input from another system, and a value with
	// no limit (a 100 MB subject) would be stored and then read by every
	// listing afterwards.
	Max   int
	About string
}

// OrderColumns is the one table of order file columns: the import checks
// values against it, and `orders import --help` and the README print it.
// The limits are the platforms' own where a value goes to them (Alipay's
// out_trade_no, trade_no and subject are at most 64, 64 and 256
// characters; WeChat Pay's out_trade_no 32, checked per row), and room for
// every valid spelling elsewhere.
var OrderColumns = []OrderColumn{
	{"out_trade_no", true, 64, "merchant order number: letters, digits and _-|* (WeChat Pay: at most 32)"},
	{"channel", true, 16, "alipay or wechat"},
	{"amount", true, 32, "yuan, e.g. 12.30 (never rounded: 1.234 is an error)"},
	{"created_at", true, 40, "RFC 3339, or 2026-11-22 10:00:00 in the business zone"},
	{"subject", false, 256, "what was sold"},
	{"status", false, 32, "PENDING (default), PAID, CLOSED, REFUNDED or PARTIALLY_REFUNDED"},
	{"trade_no", false, 64, "the platform's trade number, for a paid order"},
	{"paid_at", false, 40, "as created_at, for a paid order"},
	{"refunded", false, 32, "yuan refunded so far"},
	{"currency", false, 3, "ISO 4217 code; default CNY"},
}

// Limits of an order file as a whole, beyond its columns.
const (
	// MaxCSVField bounds one CSV field as written, quotes and doubled
	// quotes included: 4 bytes for each of the longest column's
	// characters, doubled, and its quotes. A longer field is refused as
	// soon as it is seen, before it is held in memory.
	MaxCSVField = 2*4*256 + 2
	// MaxJSONLine bounds one JSONL line (ten keys at their limits take a
	// few KB).
	MaxJSONLine = 64 << 10
)

func orderColumn(name string) (OrderColumn, bool) {
	for _, c := range OrderColumns {
		if c.Name == name {
			return c, true
		}
	}
	return OrderColumn{}, false
}

func orderColumnNames() string {
	names := make([]string, len(OrderColumns))
	for i, c := range OrderColumns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// OrderColumnsHelp lays out OrderColumns as a table for help text.
func OrderColumnsHelp() string {
	var b strings.Builder
	b.WriteString("  column        max  required  what\n")
	for _, c := range OrderColumns {
		req := ""
		if c.Required {
			req = "yes"
		}
		fmt.Fprintf(&b, "  %-12s %4d  %-8s  %s\n", c.Name, c.Max, req, c.About)
	}
	return b.String()
}
