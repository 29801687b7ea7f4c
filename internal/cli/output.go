package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// printJSON writes v as indented JSON with every buyer identifier in its
// text values masked (gateway.MaskBuyerIDs): whatever a listing carries —
// an order's subject, a callback's apply detail or verification error, a
// resolution note — a script's output never holds a buyer's identity.
// Only strings are looked at: amounts are JSON numbers in fen, and an
// eleven-digit amount is not a phone number.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(maskJSONStrings(buf.Bytes()))
	return err
}

// maskJSONStrings masks buyer ids inside the string literals of encoded
// JSON. A mask only turns letters and digits into '*', which needs no
// escaping, so the document stays valid and keeps its layout.
func maskJSONStrings(doc []byte) []byte {
	out := make([]byte, 0, len(doc))
	for i := 0; i < len(doc); {
		if doc[i] != '"' {
			out = append(out, doc[i])
			i++
			continue
		}
		end := i + 1
		for end < len(doc) && doc[end] != '"' {
			if doc[end] == '\\' {
				end++
			}
			end++
		}
		end = min(end, len(doc)-1)
		out = append(out, gateway.MaskBuyerIDs(string(doc[i:end+1]))...)
		i = end + 1
	}
	return out
}

// newTable is a column writer for text listings; what it writes has buyer
// ids masked (a cell is written whole, so an id is never split across
// writes).
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(maskingWriter{w}, 0, 0, 2, ' ', 0)
}

// maskingWriter masks buyer ids in each write.
type maskingWriter struct{ w io.Writer }

func (m maskingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(m.w, gateway.MaskBuyerIDs(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// localTime prints a time in the business zone, as the platforms print it.
func localTime(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(zone).Format(time.DateTime)
}

// parseDay reads a --since/--until value: a date (midnight in the business
// zone) or an RFC 3339 time.
func parseDay(flag, v string, zone *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, zone); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--%s %q: want a date like 2026-11-22 or an RFC 3339 time", flag, v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
