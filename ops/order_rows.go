package ops

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// orderRows yields the rows of an order file as a lookup of column values.
type orderRows interface {
	// next returns the row's line and a getter; io.EOF at the end. An
	// error may be a *textError naming its own line and column.
	next() (line int, get func(col string) (string, bool), err error)
	// encoding is the file's text encoding, as far as it was read.
	encoding() string
}

type csvRows struct {
	text   *orderText
	r      *csv.Reader
	index  map[string]int
	record []string
}

func newCSVRows(br *bufio.Reader) (*csvRows, error) {
	// Excel writes a UTF-8 byte order mark; it is not part of the header.
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	text := newOrderText(br, true)
	r := csv.NewReader(newCSVLimits(text))
	r.ReuseRecord = true
	c := &csvRows{text: text, r: r}
	header, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("file is empty: want a header line (out_trade_no,channel,amount,...)")
	}
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, ok := orderColumn(h); !ok {
			return nil, fmt.Errorf("unknown column %q (columns: %s)", h, orderColumnNames())
		}
		if _, dup := index[h]; dup {
			return nil, fmt.Errorf("column %q appears twice", h)
		}
		index[h] = i
	}
	for _, oc := range OrderColumns {
		if _, ok := index[oc.Name]; oc.Required && !ok {
			return nil, fmt.Errorf("missing column %q", oc.Name)
		}
	}
	c.index = index
	return c, nil
}

func (c *csvRows) encoding() string { return c.text.encoding() }

func (c *csvRows) next() (int, func(string) (string, bool), error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return 0, nil, io.EOF
	}
	line, _ := c.r.FieldPos(0)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return pe.Line, nil, pe.Err
		}
		return line, nil, err
	}
	c.record = rec
	return line, func(col string) (string, bool) {
		i, ok := c.index[col]
		if !ok {
			return "", false
		}
		return strings.TrimSpace(c.record[i]), true
	}, nil
}

// jsonlRows reads one JSON object per line. Lines are read whole up to
// MaxJSONLine bytes; a longer one is refused naming the key it was in.
type jsonlRows struct {
	text *orderText
	br   *bufio.Reader
	line int
}

func newJSONLRows(br *bufio.Reader) *jsonlRows {
	text := newOrderText(br, false)
	return &jsonlRows{text: text, br: bufio.NewReaderSize(text, MaxJSONLine)}
}

func (j *jsonlRows) encoding() string { return j.text.encoding() }

func (j *jsonlRows) next() (int, func(string) (string, bool), error) {
	for {
		b, err := j.br.ReadSlice('\n')
		if len(b) == 0 && err != nil {
			if err == io.EOF {
				return 0, nil, io.EOF
			}
			return j.line + 1, nil, err
		}
		j.line++
		if errors.Is(err, bufio.ErrBufferFull) {
			key := lastKey(b)
			limit := ""
			if oc, ok := orderColumn(key); ok {
				limit = fmt.Sprintf(" (%s: at most %d characters)", key, oc.Max)
			}
			return j.line, nil, &textError{line: j.line, column: key, err: fmt.Errorf("line longer than %d bytes%s: stopped reading it", MaxJSONLine, limit)}
		}
		if err != nil && err != io.EOF {
			return j.line, nil, err
		}
		b = bytes.TrimSpace(b)
		if j.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) == 0 {
			continue
		}
		get, err := jsonOrder(b)
		return j.line, get, err
	}
}

// jsonOrder reads one line's object strictly: a key given twice (which
// encoding/json would quietly settle by taking the last) and anything
// after the object are errors, since either means the line does not say
// one thing.
func jsonOrder(b []byte) (func(string) (string, bool), error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	// Numbers keep their text: an amount written as 12.30 is parsed as
	// the decimal it says, never through a float.
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object: %s", tokenOrError(tok, err))
	}
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", err)
		}
		key, _ := tok.(string)
		if _, ok := orderColumn(key); !ok {
			return nil, fmt.Errorf("unknown key %q (keys: %s)", key, orderColumnNames())
		}
		if _, dup := obj[key]; dup {
			return nil, &textError{column: key, err: fmt.Errorf("key %q is given twice", key)}
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", err)
		}
		obj[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("text after the object (at byte %d: %s); one object per line", dec.InputOffset()+1, tokenOrError(tok, err))
	}
	for _, oc := range OrderColumns {
		if _, ok := obj[oc.Name]; oc.Required && !ok {
			return nil, fmt.Errorf("missing key %q", oc.Name)
		}
	}
	for k, v := range obj {
		switch v.(type) {
		case nil, string, json.Number:
		default:
			return nil, &textError{column: k, err: fmt.Errorf("want a string, got %s", jsonKind(v))}
		}
	}
	return func(col string) (string, bool) {
		switch x := obj[col].(type) {
		case string:
			return strings.TrimSpace(x), true
		case json.Number:
			return x.String(), true
		}
		return "", false
	}, nil
}

func tokenOrError(tok json.Token, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%v", tok)
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "true/false"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// lastKey is the key whose value a JSON line was in when it was cut off:
// the last string followed by a colon in b.
func lastKey(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	key := ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ = tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			break
		}
	}
	if !utf8.ValidString(key) || len(key) > 64 {
		return ""
	}
	return key
}
