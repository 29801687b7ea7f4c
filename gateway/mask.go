package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Buyer identifiers are personal data and never leave paydesk whole
// (ARCHITECTURE.md, the money rules: no secret leaves). This file is the one
// place that says what a buyer identifier is and how it is shown; the
// console, the exports, the logs and every --json listing call it.
//
// The rule is the first 3 and the last 2 characters. It has to be safe for
// every kind of identifier at once, and the weakest is a buyer logon id that
// is a mobile number: 11 digits, of which 4+4 would leave 3 hidden (a
// thousand guesses give the number back), while 3+2 hides 6. The extra
// characters 4+4 shows buy nothing elsewhere either: an Alipay buyer id
// always starts 2088, and the openids of one app share their first
// characters. What still tells two buyers apart on a call is the end and
// the length, which 3+2 keeps. Identifiers shorter than 11 characters
// (hand-typed logon ids, e-mail addresses of a few letters) keep only their
// first and last character, and the shortest are starred whole.

// buyerFields are the names platforms give buyer identifiers in callbacks
// and API answers — Alipay's buyer_id/buyer_open_id (2088… or an OpenID),
// buyer_logon_id (a phone number or an e-mail, which Alipay itself masks
// only partly), WeChat's openid/sub_openid/sp_openid, the payer ids of
// both — and the bill columns that hold them: WeChat's 用户标识 (the
// openid) and Alipay's 对方账户 (the buyer's logon id).
var buyerFields = map[string]bool{
	"buyer_id": true, "buyer_logon_id": true, "buyer_open_id": true, "buyer_user_id": true,
	"openid": true, "sub_openid": true, "sp_openid": true,
	"payer_account": true, "payer_logon_id": true, "payer_user_id": true, "payer_id": true,
	"用户标识": true, "对方账户": true,
}

// IsBuyerField reports whether a field of that name holds a buyer
// identifier. Every field of WeChat's "payer" object is one too; callers
// walking a payload pass inPayer for those.
func IsBuyerField(name string, inPayer bool) bool {
	return inPayer || buyerFields[strings.ToLower(strings.TrimSpace(name))]
}

// MaskBuyerID masks one buyer identifier, known to be one: the first 3
// and last 2 characters stay.
func MaskBuyerID(id string) string {
	n := utf8.RuneCountInString(id)
	head, tail := 3, 2
	switch {
	case n < 4:
		return strings.Repeat("*", n)
	case n < 11:
		head, tail = 1, 1
	}
	r := []rune(id)
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}

// MaskBuyerIDs masks every buyer identifier in free text (an apply
// detail, a platform's error message, a resolution note, an order's
// subject, a log line). In text an identifier is known by its shape alone:
// a word of exactly these characters —
//   - an Alipay buyer id: 2088 and twelve more digits;
//   - a WeChat openid: 28 letters, digits, '-' or '_', starting with 'o';
//   - a mainland mobile number (a logon id): 11 digits starting 13–19.
//
// A word is a run of letters, digits, '-' and '_', so a longer number (a
// trade number that holds 2088 somewhere) is left alone. E-mail addresses
// are masked only where a field says they are a buyer's (IsBuyerField):
// in free text an address is as likely an operator's or the merchant's.
func MaskBuyerIDs(s string) string {
	var b strings.Builder
	start := -1 // start of the current word
	last := 0   // bytes of s up to here are written
	flush := func(end int) {
		if start < 0 {
			return
		}
		if w := s[start:end]; isBuyerIDShape(w) {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:start])
			b.WriteString(MaskBuyerID(w))
			last = end
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		if isWordByte(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
}

func isBuyerIDShape(w string) bool {
	switch len(w) {
	case 16:
		return strings.HasPrefix(w, "2088") && allDigits(w)
	case 28:
		return w[0] == 'o'
	case 11:
		return w[0] == '1' && w[1] >= '3' && allDigits(w)
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaskLogs wraps a log handler so that every line it writes has its
// message and its text values passed through MaskBuyerIDs: what the
// endpoint and the operations log (a platform's error, an apply detail)
// may quote a callback, and a callback may hold a buyer's identity.
func MaskLogs(h slog.Handler) slog.Handler { return maskingHandler{h} }

type maskingHandler struct{ next slog.Handler }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return m.next.Enabled(ctx, l)
}

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, MaskBuyerIDs(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.next.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{m.next.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{m.next.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, MaskBuyerIDs(v.String()))
	case slog.KindGroup:
		g := v.Group()
		masked := make([]any, len(g))
		for i, x := range g {
			masked[i] = maskAttr(x)
		}
		return slog.Group(a.Key, masked...)
	case slog.KindAny:
		// Errors and named string types (a status) print as text.
		s := fmt.Sprint(v.Any())
		if m := MaskBuyerIDs(s); m != s {
			return slog.String(a.Key, m)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
