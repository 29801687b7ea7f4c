package ui

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"strings"

	"github.com/paydesk/paydesk/gateway"
)

// prettyPayload formats a stored callback body for reading: JSON indented
// in its own key order, form bodies as key=value lines in arrival order,
// anything else as it came; buyer identifiers masked in all of them.
func prettyPayload(body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		if s, err := prettyJSON(trimmed); err == nil {
			return s
		}
	}
	if looksLikeForm(trimmed) {
		return prettyForm(string(trimmed))
	}
	return strings.ToValidUTF8(string(body), "?")
}

func looksLikeForm(b []byte) bool {
	return len(b) > 0 && bytes.IndexByte(b, '=') > 0 && !bytes.ContainsAny(b, "\n{")
}

func prettyForm(s string) string {
	var b strings.Builder
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		if gateway.IsBuyerField(k, false) {
			v = gateway.MaskBuyerID(v)
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// prettyJSON re-encodes JSON token by token: decoding into a map would
// reorder the keys the platform sent, and numbers stay as written.
func prettyJSON(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var b strings.Builder
	type frame struct {
		object  bool
		n       int
		payer   bool
		wantKey bool
	}
	var stack []frame
	key := ""
	indent := func() {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", len(stack)))
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			closedEmpty := top.n == 0
			stack = stack[:len(stack)-1]
			if !closedEmpty {
				indent()
			}
			b.WriteRune(rune(d))
			if len(stack) > 0 {
				stack[len(stack)-1].wantKey = stack[len(stack)-1].object
			}
			continue
		}
		// A key of an object.
		if top != nil && top.object && top.wantKey {
			k := tok.(string)
			if top.n > 0 {
				b.WriteByte(',')
			}
			top.n++
			indent()
			b.WriteString(quoteJSON(k))
			b.WriteString(": ")
			key = k
			top.wantKey = false
			continue
		}
		// A value: in an array it needs its own separator and line.
		if top != nil && !top.object {
			if top.n > 0 {
				b.WriteByte(',')
			}
			top.n++
			indent()
		}
		inPayer := top != nil && top.payer
		switch v := tok.(type) {
		case json.Delim:
			stack = append(stack, frame{object: v == '{', wantKey: v == '{', payer: inPayer || strings.EqualFold(key, "payer")})
			b.WriteRune(rune(v))
			continue
		case string:
			if top != nil && top.object && gateway.IsBuyerField(key, inPayer) {
				v = gateway.MaskBuyerID(v)
			}
			b.WriteString(quoteJSON(v))
		case json.Number:
			b.WriteString(v.String())
		case bool:
			if v {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case nil:
			b.WriteString("null")
		}
		if top != nil && top.object {
			top.wantKey = true
		}
	}
	return b.String(), nil
}

// quoteJSON quotes a string as JSON without escaping <, > and & (payloads
// carry URLs, and the console is not HTML).
func quoteJSON(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}
