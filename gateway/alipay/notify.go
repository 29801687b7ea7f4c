package alipay

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/paydesk/paydesk/gateway"
)

// VerifyNotification checks an Alipay asynchronous notification (the form
// body Alipay posts to notify_url) and returns it normalized.
//
// The signature is the app's sign type (SHA256withRSA for RSA2, SHA1withRSA
// for an app configured RSA; a notification naming the other type is
// refused) over every non-empty field except sign and sign_type, sorted by
// name, joined as k=v&k=v. It is computed over the bytes of the values in
// the notification's charset: Alipay sends a notification in the charset
// the merchant used when creating the trade, and its SDK verifies
// content.getBytes(charset) (alipay-sdk-java-all AlipaySignature.rsaCheckV1
// → AsymmetricManager.verify(content, charset, …)), where content is built
// from the values the servlet decoded from that charset. The percent-decoded
// values are exactly those bytes, so the check runs on them as received;
// only afterwards are GBK values decoded to UTF-8. A charset other than
// UTF-8 or GBK (and its GB2312/GB18030 names) is ErrMalformed, as are values
// that are not valid text in the declared charset.
//
// Alipay notifications carry no timestamp to judge freshness by (notify_time
// is informational and retries resend the same one), so header and
// receivedAt play no part.
//
// The SDK's own verifier is not used here because it signs empty fields
// too ("k=&"), which Alipay excludes, and knows RSA2 only.
func (c *Client) VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (gateway.Notification, error) {
	fields, err := parseNotifyForm(body)
	if err != nil {
		return gateway.Notification{}, err
	}
	return c.verifyFields(fields, body)
}

// verifyFields is VerifyNotification on the body's fields, parsed once by
// whoever routed it (Merchant).
func (c *Client) verifyFields(fields map[string]string, body []byte) (gateway.Notification, error) {
	if err := c.verifyNotifySignature(fields); err != nil {
		return gateway.Notification{}, err
	}
	if err := decodeCharset(fields); err != nil {
		return gateway.Notification{}, err
	}
	if got := fields["app_id"]; got != c.appID {
		return gateway.Notification{}, fmt.Errorf("%w: app_id %q, this client is %q", gateway.ErrWrongMerchant, got, c.appID)
	}
	n, err := c.normalize(fields)
	if err != nil {
		return gateway.Notification{}, err
	}
	n.Raw, n.VerifiedBy = body, c.keyName
	return n, nil
}

// parseNotifyForm splits the form body, refusing what a genuine notification
// never has: nothing, a repeated field, or no signature.
func parseNotifyForm(body []byte) (map[string]string, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", gateway.ErrMalformed)
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form body does not parse: %v", gateway.ErrMalformed, err)
	}
	fields := make(map[string]string, len(vals))
	for k, vs := range vals {
		if len(vs) != 1 {
			// Two values for one field: which one did the signature cover?
			return nil, fmt.Errorf("%w: field %q appears %d times", gateway.ErrMalformed, k, len(vs))
		}
		fields[k] = vs[0]
	}
	if fields["sign"] == "" {
		return nil, fmt.Errorf("%w: no sign field", gateway.ErrMalformed)
	}
	return fields, nil
}

func (c *Client) verifyNotifySignature(fields map[string]string) error {
	switch st := fields["sign_type"]; st {
	case c.signType, "":
	case SignRSA:
		// SHA1withRSA is the legacy type; this app signs RSA2, so an RSA
		// notification is a downgrade nobody at Alipay would send it.
		return fmt.Errorf("%w: sign_type RSA (SHA1) refused as a downgrade: this app is configured %s ([alipay] sign_type)", gateway.ErrBadSignature, c.signType)
	default:
		return fmt.Errorf("%w: sign_type %q, this app is configured %s ([alipay] sign_type)", gateway.ErrBadSignature, st, c.signType)
	}
	sig, err := base64.StdEncoding.DecodeString(fields["sign"])
	if err != nil {
		return fmt.Errorf("%w: sign is not base64", gateway.ErrBadSignature)
	}
	if err := verifySign(c.verifyKey, c.signType, notifySignContent(fields, "sign", "sign_type"), sig); err != nil {
		return fmt.Errorf("%w: not signed by the configured Alipay key", gateway.ErrBadSignature)
	}
	return nil
}

// notifySignContent is what Alipay signs: every non-empty field but the
// excluded ones (a notification excludes sign and sign_type, a request only
// sign), sorted by name, joined as k=v&k=v with the values as they are.
func notifySignContent(fields map[string]string, exclude ...string) []byte {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != "" && !slices.Contains(exclude, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(fields[k])
	}
	return []byte(b.String())
}

// decodeCharset turns every value into UTF-8 per the notification's
// charset field, or fails with ErrMalformed.
func decodeCharset(fields map[string]string) error {
	cs := strings.ToLower(strings.TrimSpace(fields["charset"]))
	switch cs {
	case "", "utf-8", "utf8":
		for k, v := range fields {
			if !utf8.ValidString(v) {
				return fmt.Errorf("%w: field %s is not valid UTF-8 though charset is %q", gateway.ErrMalformed, k, fields["charset"])
			}
		}
		return nil
	case "gbk", "gb2312", "gb18030":
		// GB18030 decodes GBK and GB2312 text alike (it is a superset).
		dec := simplifiedchinese.GB18030.NewDecoder()
		for k, v := range fields {
			if isASCII(v) {
				continue
			}
			out, err := dec.String(v)
			if err != nil || strings.ContainsRune(out, utf8.RuneError) {
				return fmt.Errorf("%w: field %s is not valid %s", gateway.ErrMalformed, k, cs)
			}
			fields[k] = out
		}
		return nil
	}
	return fmt.Errorf("%w: charset %q is not one Alipay uses (utf-8, gbk)", gateway.ErrMalformed, fields["charset"])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalize reads the verified fields into a Notification. A notification
// that carries refund fields (refund_fee, out_biz_no, gmt_refund) reports a
// refund whatever its trade_status: TRADE_SUCCESS after a partial refund,
// TRADE_CLOSED after a full one.
func (c *Client) normalize(f map[string]string) (gateway.Notification, error) {
	if err := requireFields(f, "out_trade_no", "trade_status", "total_amount"); err != nil {
		return gateway.Notification{}, err
	}
	amount, err := yuanField(f, "total_amount")
	if err != nil {
		return gateway.Notification{}, err
	}
	n := gateway.Notification{
		Channel:       gateway.Alipay,
		NotifyID:      f["notify_id"],
		PlatformState: f["trade_status"],
		AppID:         f["app_id"],
		OutTradeNo:    f["out_trade_no"],
		TradeNo:       f["trade_no"],
		Amount:        amount,
		Currency:      "CNY",
		BuyerID:       cmpOr(f["buyer_id"], f["buyer_open_id"]),
	}
	if n.PaidAt, err = c.notifyTime(f, "gmt_payment"); err != nil {
		return gateway.Notification{}, err
	}
	var refundFee gateway.Money
	if f["refund_fee"] != "" {
		if refundFee, err = gateway.ParseMoney(f["refund_fee"]); err != nil {
			return gateway.Notification{}, fmt.Errorf("%w: refund_fee: %w", gateway.ErrMalformed, err)
		}
	}
	// refund_fee 0.00 alone is not a refund; out_biz_no and gmt_refund
	// only ever come with one.
	if refundFee != 0 || f["out_biz_no"] != "" || f["gmt_refund"] != "" {
		n.Event = gateway.EventRefund
		n.RefundTotal = refundFee
		if n.RefundTotal <= 0 || n.RefundTotal > amount {
			return gateway.Notification{}, fmt.Errorf("%w: refund_fee %s outside (0, %s]", gateway.ErrMalformed, n.RefundTotal, amount)
		}
		// Alipay names the refund's request number out_biz_no and gives
		// only the trade's cumulative refund, not this refund's amount;
		// RefundAmount stays zero and the request number identifies it.
		n.OutRequestNo = f["out_biz_no"]
		if n.RefundedAt, err = c.notifyTime(f, "gmt_refund"); err != nil {
			return gateway.Notification{}, err
		}
		return n, nil
	}
	n.Event = tradeStatusEvent(f["trade_status"])
	return n, nil
}

// notifyTime reads an optional time field; gmt_refund carries milliseconds
// ("2015-11-27 15:45:57.320").
func (c *Client) notifyTime(f map[string]string, key string) (time.Time, error) {
	s := f[key]
	if s == "" {
		return time.Time{}, nil
	}
	layout := time.DateTime
	if len(s) > len(time.DateTime) {
		layout = "2006-01-02 15:04:05.999999999"
	}
	t, err := time.ParseInLocation(layout, s, c.zone)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not yyyy-MM-dd HH:mm:ss", gateway.ErrMalformed, key, s)
	}
	return t, nil
}

// NotifyReply is what Alipay expects back: the plain text "success" ends
// the retries; anything else ("fail") makes Alipay send the notification
// again (for about a day at growing gaps).
func (c *Client) NotifyReply(err error) gateway.Reply { return notifyReply(err) }
