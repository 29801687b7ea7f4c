package alipay

import (
	"strings"

	"github.com/paydesk/paydesk/gateway"
)

// LineText is the row Next returned last as the file holds it, decoded from
// GBK where the file is GBK. Alipay's values keep the TAB it appends to
// many of them. A 备注 holding commas stays one value, as the parser reads
// it.
func (b *billReader) LineText() gateway.LineText {
	text := b.decode(b.last)
	fields := strings.Split(text, ",")
	if n := len(b.columns); b.extra && len(fields) > n {
		fields = append(fields[:n-1], strings.Join(fields[n-1:], ","))
	}
	return gateway.LineText{File: b.file, Line: b.line, Text: text, Columns: b.columns, Fields: fields}
}
