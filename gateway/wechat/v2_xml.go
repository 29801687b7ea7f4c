package wechat

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// v2MaxFields bounds the fields of one v2 document. The richest genuine
// one, a payment notification with coupons, has a few dozen.
const v2MaxFields = 200

// parseV2XML reads a WeChat Pay v2 document: one root element (root, e.g.
// "xml", or "root" for a decrypted refund) holding flat fields whose text
// is plain or CDATA. Anything else is refused rather than interpreted:
//
//   - a DOCTYPE or any other <!...> directive: v2 documents never carry
//     one, and entity declarations are how an XML bomb expands (the
//     decoder would not expand them, but there is no reason to read on);
//   - nested elements, text beside the fields, a field given twice (which
//     one would the signature have covered?), more than v2MaxFields fields;
//   - entity references other than XML's five, invalid UTF-8.
//
// Values are kept exactly as written (no trimming): the signature is over
// them as the platform wrote them.
func parseV2XML(body []byte, root string) (map[string]string, error) {
	if !utf8.Valid(body) {
		return nil, errors.New("not valid UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	fields := map[string]string{}
	depth, seenRoot := 0, false
	var name string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("XML: DOCTYPE and entity declarations are not accepted")
		case xml.ProcInst:
			if t.Target != "xml" || seenRoot {
				return nil, fmt.Errorf("XML: processing instruction <?%s?> not accepted", t.Target)
			}
		case xml.Comment:
		case xml.StartElement:
			switch depth {
			case 0:
				if seenRoot {
					return nil, errors.New("XML: more than one root element")
				}
				if t.Name.Local != root || t.Name.Space != "" {
					return nil, fmt.Errorf("XML: root element <%s>, want <%s>", t.Name.Local, root)
				}
				seenRoot = true
			case 1:
				name = t.Name.Local
				if _, dup := fields[name]; dup {
					return nil, fmt.Errorf("XML: field %s appears twice", name)
				}
				if len(fields) >= v2MaxFields {
					return nil, fmt.Errorf("XML: more than %d fields", v2MaxFields)
				}
				text.Reset()
			default:
				return nil, fmt.Errorf("XML: field %s holds element <%s>; v2 fields are flat", name, t.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 1 {
				fields[name] = text.String()
			}
		case xml.CharData:
			switch depth {
			case 2:
				text.Write(t)
			default:
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("XML: text outside the fields")
				}
			}
		}
	}
	if !seenRoot {
		return nil, fmt.Errorf("XML: no <%s> element", root)
	}
	return fields, nil
}

// looksLikeXML reports whether a notification body is a v2 XML document
// rather than APIv3 JSON: its first character, past whitespace and a
// byte-order mark, is '<'. Only the first bytes are looked at, so a
// truncated (oversized) body is classified the same way.
func looksLikeXML(body []byte) bool {
	b := bytes.TrimPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

// writeV2XML renders fields as a v2 document, sorted by name, each value in
// CDATA (split where it contains "]]>", so no value can end the section).
func writeV2XML(fields map[string]string) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range keys {
		fmt.Fprintf(&b, "<%s><![CDATA[%s]]></%s>", k, strings.ReplaceAll(fields[k], "]]>", "]]]]><![CDATA[>"), k)
	}
	b.WriteString("</xml>")
	return b.Bytes()
}
