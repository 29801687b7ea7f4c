package alipay

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// DefaultMapiGateway is Alipay's legacy merchant API gateway (mapi), where
// notify_id is confirmed.
const DefaultMapiGateway = "https://mapi.alipay.com/gateway.do"

// MapiConfig is a partner on Alipay's legacy gateway (即时到账,
// create_direct_pay_by_user): notifications signed with MD5 and the
// partner's key.
type MapiConfig struct {
	// PID is the partner id (合作伙伴身份, 2088 and 12 digits).
	PID string
	// MD5Key is the partner's MD5 key (安全校验码, 32 letters and digits).
	MD5Key string
	// GatewayURL defaults to DefaultMapiGateway; the sandbox's otherwise.
	GatewayURL string
	// HTTPClient carries notify_verify; nil means one with a 10 s timeout.
	HTTPClient *http.Client
	// Zone is where the notifications' local times are read; default
	// gateway.Shanghai.
	Zone *time.Location
}

// Mapi verifies the legacy gateway's notifications for one partner.
type Mapi struct {
	cfg MapiConfig
}

// NewMapi checks the configuration. Nothing goes over the network.
func NewMapi(cfg MapiConfig) (*Mapi, error) {
	if len(cfg.PID) != 16 || !strings.HasPrefix(cfg.PID, "2088") || strings.Trim(cfg.PID, "0123456789") != "" {
		return nil, fmt.Errorf("alipay mapi: partner id %q is not 2088 followed by 12 digits", cfg.PID)
	}
	if len(cfg.MD5Key) != 32 {
		// The length, never the key.
		return nil, fmt.Errorf("alipay mapi: the MD5 key must be 32 characters, got %d", len(cfg.MD5Key))
	}
	if cfg.GatewayURL == "" {
		cfg.GatewayURL = DefaultMapiGateway
	}
	if u, err := url.Parse(cfg.GatewayURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("alipay mapi: gateway %q is not an http(s) URL", cfg.GatewayURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Zone == nil {
		cfg.Zone = gateway.Shanghai
	}
	return &Mapi{cfg: cfg}, nil
}

// isMapiNotification reports whether a notification body comes from the
// legacy gateway: the OpenAPI signs with RSA2 or RSA, never MD5.
func isMapiNotification(body []byte) bool {
	v, err := url.ParseQuery(string(body))
	return err == nil && strings.EqualFold(v.Get("sign_type"), "MD5")
}

// VerifyNotification checks a legacy trade_status_sync notification and
// returns it normalized:
//
//   - sign is the lowercase hex MD5 of every non-empty field but sign and
//     sign_type, sorted, joined as k=v&..., with the MD5 key appended;
//   - seller_id, when present, is the partner;
//   - notify_id is confirmed by the gateway: GET mapi_gateway
//     ?service=notify_verify&partner=PID&notify_id=ID answers "true".
//
// The signature is checked first, so nothing unsigned makes paydesk call
// out. "false" from the gateway rejects the notification (ErrBadSignature):
// it did not send it, or no longer vouches for it (the demo code Alipay
// published says a notify_id lapses after a minute, so a late replay is
// refused; a live query settles such an order). No answer, or any other
// answer ("invalid": the partner id is not the gateway's), is a failure on
// paydesk's side, so Alipay sends the notification again.
//
// total_fee is in yuan; TRADE_SUCCESS and TRADE_FINISHED are payments,
// TRADE_CLOSED closes, anything else changes nothing. The form's bytes are
// whatever charset the trade was created with (the notification does not
// say): the fields paydesk reads are ASCII, and the raw body is kept.
func (m *Mapi) VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (gateway.Notification, error) {
	fields, err := parseNotifyForm(body)
	if err != nil {
		return gateway.Notification{}, err
	}
	return m.verifyFields(fields, body)
}

// verifyFields is VerifyNotification on the body's fields, parsed once by
// whoever routed it (Merchant).
func (m *Mapi) verifyFields(fields map[string]string, body []byte) (gateway.Notification, error) {
	if st := fields["sign_type"]; !strings.EqualFold(st, "MD5") {
		return gateway.Notification{}, fmt.Errorf("%w: sign_type %q, want MD5", gateway.ErrBadSignature, st)
	}
	sum := md5.Sum(append(notifySignContent(fields, "sign", "sign_type"), m.cfg.MD5Key...))
	want := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(fields["sign"])), []byte(want)) != 1 {
		return gateway.Notification{}, fmt.Errorf("%w: not signed with the partner's MD5 key", gateway.ErrBadSignature)
	}
	if s := fields["seller_id"]; s != "" && s != m.cfg.PID {
		return gateway.Notification{}, fmt.Errorf("%w: seller_id %q, this partner is %s", gateway.ErrWrongMerchant, s, m.cfg.PID)
	}
	if fields["notify_id"] == "" {
		return gateway.Notification{}, fmt.Errorf("%w: no notify_id", gateway.ErrMalformed)
	}
	if err := m.notifyVerify(fields["notify_id"]); err != nil {
		return gateway.Notification{}, err
	}
	n, err := m.normalize(fields)
	if err != nil {
		return gateway.Notification{}, err
	}
	n.Raw = body
	return n, nil
}

// errNotifyDenied: the gateway does not confirm the notify_id.
var errNotifyDenied = errors.New("the gateway does not confirm notify_id")

// notifyVerify asks the gateway whether it sent notify_id.
func (m *Mapi) notifyVerify(notifyID string) error {
	q := url.Values{"service": {"notify_verify"}, "partner": {m.cfg.PID}, "notify_id": {notifyID}}
	u := m.cfg.GatewayURL + "?" + q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := m.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("alipay notify_verify: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return fmt.Errorf("alipay notify_verify: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("alipay notify_verify: HTTP %d", resp.StatusCode)
	}
	switch ans := strings.TrimSpace(string(b)); strings.ToLower(ans) {
	case "true":
		return nil
	case "false":
		return fmt.Errorf("%w: %w %s", gateway.ErrBadSignature, errNotifyDenied, notifyID)
	default:
		return fmt.Errorf("alipay notify_verify: unexpected answer %.40q (is [alipay] pid the partner's?)", ans)
	}
}

func (m *Mapi) normalize(f map[string]string) (gateway.Notification, error) {
	if err := requireFields(f, "out_trade_no", "trade_no", "trade_status", "total_fee"); err != nil {
		return gateway.Notification{}, err
	}
	amount, err := yuanField(f, "total_fee") // yuan, as the OpenAPI's total_amount
	if err != nil {
		return gateway.Notification{}, err
	}
	n := gateway.Notification{
		Channel:       gateway.Alipay,
		NotifyID:      f["notify_id"],
		PlatformState: f["trade_status"],
		OutTradeNo:    f["out_trade_no"],
		TradeNo:       f["trade_no"],
		Amount:        amount,
		Currency:      "CNY",
		BuyerID:       f["buyer_id"],
	}
	if s := f["gmt_payment"]; s != "" {
		at, err := time.ParseInLocation(time.DateTime, s, m.cfg.Zone)
		if err != nil {
			return gateway.Notification{}, fmt.Errorf("%w: gmt_payment %q is not yyyy-MM-dd HH:mm:ss", gateway.ErrMalformed, s)
		}
		n.PaidAt = at.UTC()
	}
	// A refund shows only as refund_status/gmt_refund beside the trade's
	// own status, naming no refund request: nothing to apply from it.
	n.Event = tradeStatusEvent(f["trade_status"])
	return n, nil
}

// NotifyReply is what the legacy gateway expects back: "success" ends the
// retries, anything else makes it send again.
func (m *Mapi) NotifyReply(err error) gateway.Reply { return notifyReply(err) }
