package alipay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// Merchant is one merchant's Alipay account on both gateways: the OpenAPI
// app (queries, refunds, bills, RSA2 notifications) and the legacy mapi
// partner (即时到账 notifications signed with MD5). Both post to the same
// notify_url; a notification goes to the verifier of the gateway it came
// from (sign_type MD5 is the legacy one's). Either may be absent: a
// partner that never made an OpenAPI app only receives notifications.
type Merchant struct {
	api  gateway.Platform // the OpenAPI client; nil: no app configured
	mapi *Mapi            // nil: no legacy partner configured
}

var (
	_ gateway.Platform           = (*Merchant)(nil)
	_ gateway.FundBillDownloader = (*Merchant)(nil)
	_ gateway.FundBillDownloader = (*Client)(nil)
)

// NewMerchant puts the two together; at least one must be given. api is
// the OpenAPI platform (a *Client), or nil.
func NewMerchant(api gateway.Platform, mapi *Mapi) (*Merchant, error) {
	if api == nil && mapi == nil {
		return nil, errors.New("alipay: neither an OpenAPI app nor a legacy partner is configured")
	}
	return &Merchant{api: api, mapi: mapi}, nil
}

// errNoApp refuses calls when only the legacy partner is configured.
var errNoApp = errors.New("alipay: queries, refunds and bills go through an OpenAPI app, and none is configured ([alipay] app_id and its keys); the legacy partner only receives notifications")

// Channel is gateway.Alipay.
func (m *Merchant) Channel() gateway.Channel { return gateway.Alipay }

// QueryTrade asks the OpenAPI app.
func (m *Merchant) QueryTrade(ctx context.Context, outTradeNo string) (gateway.Trade, error) {
	if m.api == nil {
		return gateway.Trade{}, errNoApp
	}
	return m.api.QueryTrade(ctx, outTradeNo)
}

// Refund refunds through the OpenAPI app.
func (m *Merchant) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	if m.api == nil {
		return gateway.RefundResult{}, errNoApp
	}
	return m.api.Refund(ctx, req)
}

// QueryRefund asks the OpenAPI app.
func (m *Merchant) QueryRefund(ctx context.Context, outTradeNo, outRequestNo string) (gateway.RefundResult, error) {
	if m.api == nil {
		return gateway.RefundResult{}, errNoApp
	}
	return m.api.QueryRefund(ctx, outTradeNo, outRequestNo)
}

// DownloadBill downloads through the OpenAPI app.
func (m *Merchant) DownloadBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	if m.api == nil {
		return gateway.BillFile{}, errNoApp
	}
	return m.api.DownloadBill(ctx, day, dst)
}

// DownloadFundBill downloads the 账务明细 through the OpenAPI app.
func (m *Merchant) DownloadFundBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	if m.api == nil {
		return gateway.BillFile{}, errNoApp
	}
	fd, ok := m.api.(gateway.FundBillDownloader)
	if !ok {
		return gateway.BillFile{}, fmt.Errorf("alipay: the %T client cannot download fund bills", m.api)
	}
	return fd.DownloadFundBill(ctx, day, dst)
}

// VerifyNotification hands an MD5-signed body to the legacy verifier and
// anything else to the OpenAPI one; with only one configured, it takes
// everything (and refuses what is not its own). A legacy notification when
// no partner is configured cannot be checked: paydesk's failure, so Alipay
// sends it again and a replay verifies it once the key is there.
//
// The form is parsed once, here, and its fields handed to the verifier it
// names (parsing it twice was a tenth of an Alipay callback's CPU).
func (m *Merchant) VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (gateway.Notification, error) {
	if m.api == nil {
		return m.mapi.VerifyNotification(header, body, receivedAt)
	}
	fields, err := parseNotifyForm(body)
	var legacy bool
	if err == nil {
		legacy = strings.EqualFold(fields["sign_type"], "MD5")
	} else {
		// Refused either way; which verifier refuses it decides the error.
		legacy = isMapiNotification(body)
	}
	switch {
	case legacy && m.mapi == nil:
		return gateway.Notification{}, errors.New("alipay: a legacy (sign_type=MD5) notification arrived but no partner is configured ([alipay] pid and md5_key_file)")
	case err != nil:
		return gateway.Notification{}, err
	case legacy:
		return m.mapi.verifyFields(fields, body)
	}
	if c, ok := m.api.(*Client); ok {
		return c.verifyFields(fields, body)
	}
	return m.api.VerifyNotification(header, body, receivedAt)
}

// NotifyReply is "success" or "fail", the same on both gateways.
func (m *Merchant) NotifyReply(err error) gateway.Reply {
	if m.api != nil {
		return m.api.NotifyReply(err)
	}
	return m.mapi.NotifyReply(err)
}
