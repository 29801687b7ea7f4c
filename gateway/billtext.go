package gateway

// LineText is one bill line as the platform wrote it, for a person to
// compare with the platform's own file: where it is, the text of the line,
// and its values beside the header's column names.
type LineText struct {
	// File is the bill file, and in a zip the entry the line is in.
	File string `json:"file"`
	// Line is the 1-based line number in that file (BillLine.Line).
	Line int `json:"line"`
	// Text is the whole line, decoded to UTF-8 (Alipay's GBK) and
	// otherwise as written.
	Text string `json:"text"`
	// Columns are the header's names and Fields the line's values in the
	// same order, each as written (WeChat's leading backtick, the
	// separator, is not part of a value).
	Columns []string `json:"columns"`
	Fields  []string `json:"fields"`
}

// LineTexter is a BillReader that can give the text of the line its Next
// returned last (valid until Next is called again). paydesk keeps a bill's
// file, not its lines: a finding's line is read again from that file.
type LineTexter interface {
	LineText() LineText
}
