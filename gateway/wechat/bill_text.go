package wechat

import (
	"slices"

	"github.com/paydesk/paydesk/gateway"
)

// LineText is the row Next returned last as the file holds it (WeChat's
// bills are UTF-8); its values are those the parser split, without the
// backtick WeChat puts before each.
func (b *billReader) LineText() gateway.LineText {
	return gateway.LineText{File: b.name, Line: b.line, Text: b.last, Columns: b.header, Fields: slices.Clone(b.fields)}
}
