package ops

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// textError is a problem with an order file's bytes, at a line (and, when
// known, a column).
type textError struct {
	line   int
	column string
	err    error
}

func (e *textError) Error() string { return e.err.Error() }
func (e *textError) Unwrap() error { return e.err }

// ErrOrderEncoding marks an order file whose bytes are not text in an
// encoding paydesk reads (UTF-8; GBK for CSV).
var ErrOrderEncoding = errors.New("encoding")

// Encodings of an order file.
const (
	encodingUTF8 = "UTF-8"
	encodingGBK  = "GBK"
)

// orderText hands out an order file as UTF-8 text. Its encoding is decided
// at the first bytes that are not ASCII (everything before them reads the
// same either way): UTF-8 when they are valid UTF-8, otherwise GBK (in its
// GB18030 superset) when allowed — what Excel on a Chinese Windows saves
// as "CSV (逗号分隔)". From then on the file must stay in that encoding; a
// byte that is not is refused with its line, never passed on as mojibake.
//
// The decision is unambiguous in practice: a run of Chinese characters in
// GBK is almost never also valid UTF-8 (GBK's second bytes reach below
// 0x80 and its first bytes above 0xDF are three-byte UTF-8 leads that need
// two continuation bytes), and were a short run to pass as UTF-8, the
// next one would not, and the file would be refused, not misread.
type orderText struct {
	src     *bufio.Reader
	allow   bool // GBK allowed (CSV); JSON text is UTF-8 only (RFC 8259)
	enc     string
	gbk     transform.Transformer
	lines   int    // newlines decoded so far
	pending []byte // decoded, not yet read
	buf     []byte
	err     error
}

func newOrderText(src *bufio.Reader, allowGBK bool) *orderText {
	return &orderText{src: src, allow: allowGBK}
}

// encoding is the file's encoding as decided so far: UTF-8 until the
// first non-ASCII bytes say otherwise.
func (t *orderText) encoding() string {
	if t.enc == "" {
		return encodingUTF8
	}
	return t.enc
}

func (t *orderText) Read(p []byte) (int, error) {
	for len(t.pending) == 0 && t.err == nil {
		t.fill()
	}
	if len(t.pending) > 0 {
		n := copy(p, t.pending)
		t.pending = t.pending[n:]
		return n, nil
	}
	return 0, t.err
}

// chunk is how much is decoded at a time.
const chunk = 32 << 10

func (t *orderText) fill() {
	// Never more than the buffer holds: Peek past it reports a full
	// buffer, never the end of the file.
	in, perr := t.src.Peek(min(chunk, t.src.Size()))
	atEOF := perr != nil
	if atEOF && len(in) == 0 {
		t.err = io.EOF
		if perr != io.EOF {
			t.err = perr
		}
		return
	}
	if t.enc == "" {
		i := 0
		for i < len(in) && in[i] < utf8.RuneSelf {
			i++
		}
		if i > 0 {
			t.emit(in[:i])
			t.src.Discard(i)
			return
		}
		if t.enc = t.decide(in, atEOF); t.enc == "" {
			return
		}
	}
	switch t.enc {
	case encodingUTF8:
		t.fillUTF8(in, atEOF)
	case encodingGBK:
		t.fillGBK(in, atEOF)
	}
}

// decide chooses the encoding from the run of non-ASCII bytes in starts
// with.
func (t *orderText) decide(in []byte, atEOF bool) string {
	j := 0
	for j < len(in) && in[j] >= utf8.RuneSelf {
		j++
	}
	run := in[:j]
	if j == len(in) && !atEOF {
		// The run goes on past what is buffered: judge its complete part.
		for k := 0; k < utf8.UTFMax && len(run) > 0 && !utf8.FullRune(run); k++ {
			run = run[:len(run)-1]
		}
	}
	if utf8.Valid(run) && len(run) > 0 {
		return encodingUTF8
	}
	if t.allow {
		t.gbk = simplifiedchinese.GB18030.NewDecoder()
		return encodingGBK
	}
	t.err = t.notText("not UTF-8 (JSON text is UTF-8): save the file as UTF-8")
	return ""
}

func (t *orderText) fillUTF8(in []byte, atEOF bool) {
	n := len(in)
	if s := lastStart(in); !atEOF && !utf8.FullRune(in[s:]) {
		n = s // a character cut by the end of the buffer: next time
	}
	ok := in[:n]
	if !utf8.Valid(ok) {
		bad := 0
		for bad < len(ok) {
			r, size := utf8.DecodeRune(ok[bad:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			bad += size
		}
		t.emit(ok[:bad])
		t.src.Discard(bad)
		hint := "save the whole file as UTF-8"
		if t.allow {
			hint = "the file mixes UTF-8 with another encoding: save all of it as CSV UTF-8 (逗号分隔)"
		}
		t.err = t.notText("not UTF-8 although the file began as UTF-8; " + hint)
		return
	}
	t.emit(ok)
	t.src.Discard(n)
}

// lastStart is where the last (possibly incomplete) character of b begins.
func lastStart(b []byte) int {
	i := len(b) - 1
	for i > 0 && len(b)-i < utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	return max(i, 0)
}

func (t *orderText) fillGBK(in []byte, atEOF bool) {
	if cap(t.buf) < 3*len(in)+16 {
		t.buf = make([]byte, 3*len(in)+16) // 0x80 (1 byte) is € (3)
	}
	dst := t.buf[:cap(t.buf)]
	nDst, nSrc, err := t.gbk.Transform(dst, in, atEOF)
	if err != nil && !errors.Is(err, transform.ErrShortSrc) {
		t.err = t.notText(fmt.Sprintf("cannot be read as GBK: %v", err))
		return
	}
	out := dst[:nDst]
	// The decoder writes U+FFFD for a byte sequence GBK does not have.
	if k := bytes.IndexRune(out, utf8.RuneError); k >= 0 {
		t.emit(out[:k])
		t.err = t.notText("neither UTF-8 nor GBK: save the file as CSV UTF-8 (逗号分隔) from Excel")
		return
	}
	if nSrc == 0 {
		// Only at the end of the file can nothing be decoded.
		t.err = t.notText("the file ends inside a GBK character")
		return
	}
	t.emit(out)
	t.src.Discard(nSrc)
}

// emit queues decoded text. It is copied: the source buffer moves on.
func (t *orderText) emit(b []byte) {
	t.lines += bytes.Count(b, []byte{'\n'})
	t.pending = append(t.pending[:0], b...)
}

func (t *orderText) notText(msg string) error {
	return &textError{line: t.lines + 1, err: fmt.Errorf("%w: %s", ErrOrderEncoding, msg)}
}

// csvLimits passes a CSV order file through and stops it at the first
// field longer than MaxCSVField, or record with more fields than there are
// columns, while the bytes stream past: csv.Reader would otherwise hold a
// whole 100 MB field (or a line of a million commas) in memory before any
// check could see it. It follows CSV's quoting only as far as finding
// where fields end; csv.Reader still does the parsing.
type csvLimits struct {
	r io.Reader

	line, fieldLine int // current line; the line the current field began on
	field, size     int // index of the current field; its raw length
	quoted          bool
	quoteSeen       bool // inside quotes, a quote that may close them or be doubled
	fieldStart      bool
	seenContent     bool // the current record has a byte

	header   []string // the first record's fields, to name a column in an error
	cur      []byte
	inHeader bool
	err      error
}

func newCSVLimits(r io.Reader) *csvLimits {
	return &csvLimits{r: r, line: 1, fieldLine: 1, fieldStart: true, inHeader: true}
}

func (c *csvLimits) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	for i := 0; i < n; i++ {
		if c.step(p[i]) {
			// Hand on what came before the bad byte; the error next.
			return i, nil
		}
	}
	return n, err
}

// step takes one byte; true when it breaks a limit (c.err is then set).
func (c *csvLimits) step(b byte) bool {
	if c.quoted {
		switch {
		case c.quoteSeen && b == '"': // a doubled quote: one quote of text
			c.quoteSeen = false
			return c.grow(b)
		case c.quoteSeen: // the quote closed the field's quoting
			c.quoted, c.quoteSeen = false, false
		case b == '"':
			c.quoteSeen = true
			return c.grow(b)
		default:
			if b == '\n' {
				c.line++
			}
			return c.grow(b)
		}
	}
	switch b {
	case ',':
		c.endField()
		c.field++
		if c.field >= len(OrderColumns) {
			c.err = &textError{line: c.line, err: fmt.Errorf("more than %d fields: an order file has at most the %d columns %s", len(OrderColumns), len(OrderColumns), orderColumnNames())}
			return true
		}
		c.fieldStart, c.size, c.fieldLine = true, 0, c.line
		c.seenContent = true
		return false
	case '\n':
		c.endField()
		if c.inHeader && c.seenContent {
			c.inHeader = false
		}
		c.line++
		c.field, c.size, c.fieldLine, c.fieldStart, c.seenContent = 0, 0, c.line, true, false
		return false
	case '"':
		if c.fieldStart {
			c.quoted = true
		}
	}
	c.fieldStart = false
	c.seenContent = true
	return c.grow(b)
}

func (c *csvLimits) grow(b byte) bool {
	c.size++
	if c.inHeader && len(c.cur) < 64 && b != '"' {
		c.cur = append(c.cur, b)
	}
	if c.size > MaxCSVField {
		col := fmt.Sprintf("field %d", c.field+1)
		if c.field < len(c.header) && c.header[c.field] != "" {
			col = c.header[c.field]
		}
		limit := "the longest column allows 256 characters"
		if oc, ok := orderColumn(col); ok {
			limit = fmt.Sprintf("at most %d characters", oc.Max)
		}
		c.err = &textError{line: c.fieldLine, column: col, err: fmt.Errorf("longer than %d bytes; %s: stopped reading it", MaxCSVField, limit)}
		return true
	}
	return false
}

func (c *csvLimits) endField() {
	if c.inHeader {
		name := string(bytes.TrimPrefix(c.cur, []byte("\ufeff")))
		c.header = append(c.header, string(bytes.ToLower(bytes.TrimSpace([]byte(name)))))
		c.cur = c.cur[:0]
	}
}
