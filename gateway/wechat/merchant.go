package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// API generations a merchant's calls can go through.
const (
	APIv3 = "v3"
	APIv2 = "v2"
)

// Merchant is one WeChat Pay merchant across both API generations: its
// calls (query, refund, refund query, bills) go through the one it chose,
// and its notifications, which both generations post to the same
// notify_url, are verified by the one whose protocol the body is in (v2 is
// XML, APIv3 JSON) and answered in that protocol. A merchant moving from v2
// to APIv3 receives both for a while.
type Merchant struct {
	calls gateway.Platform
	v3    gateway.Platform // the APIv3 client; nil: no APIv3 keys configured
	v2    *V2Client        // nil: no v2 API key configured
}

var (
	_ gateway.Platform           = (*Merchant)(nil)
	_ gateway.BodyReplier        = (*Merchant)(nil)
	_ gateway.FundBillDownloader = (*Merchant)(nil)
	_ gateway.FundBillDownloader = (*Client)(nil)
	_ gateway.FundBillDownloader = (*V2Client)(nil)
)

// NewMerchant puts a merchant's clients together; api ("v3" or "v2", ""
// meaning v3) names the one calls go through, which must be given. v3 is
// the APIv3 platform (a *Client), or nil.
func NewMerchant(api string, v3 gateway.Platform, v2 *V2Client) (*Merchant, error) {
	m := &Merchant{v3: v3, v2: v2}
	switch api {
	case APIv3, "":
		if v3 == nil {
			return nil, errors.New("wechat: api = \"v3\" needs the APIv3 keys")
		}
		m.calls = v3
	case APIv2:
		if v2 == nil {
			return nil, errors.New("wechat: api = \"v2\" needs the v2 API key")
		}
		m.calls = v2
	default:
		return nil, fmt.Errorf("wechat: api %q: want %q or %q", api, APIv3, APIv2)
	}
	return m, nil
}

// Channel is gateway.WeChat.
func (m *Merchant) Channel() gateway.Channel { return gateway.WeChat }

// QueryTrade asks through the configured API.
func (m *Merchant) QueryTrade(ctx context.Context, outTradeNo string) (gateway.Trade, error) {
	return m.calls.QueryTrade(ctx, outTradeNo)
}

// Refund refunds through the configured API.
func (m *Merchant) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	return m.calls.Refund(ctx, req)
}

// QueryRefund asks through the configured API.
func (m *Merchant) QueryRefund(ctx context.Context, outTradeNo, outRequestNo string) (gateway.RefundResult, error) {
	return m.calls.QueryRefund(ctx, outTradeNo, outRequestNo)
}

// DownloadBill downloads through the configured API; both give the same
// text bill.
func (m *Merchant) DownloadBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	return m.calls.DownloadBill(ctx, day, dst)
}

// DownloadFundBill downloads the BASIC account's fund-flow bill through the
// configured API (APIv3 fundflowbill, or v2 downloadfundflow); both give
// the same text.
func (m *Merchant) DownloadFundBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	fd, ok := m.calls.(gateway.FundBillDownloader)
	if !ok {
		return gateway.BillFile{}, fmt.Errorf("wechat: the %T client cannot download fund bills", m.calls)
	}
	return fd.DownloadFundBill(ctx, day, dst)
}

// VerifyNotification hands an XML body to the v2 verifier and anything
// else to the APIv3 one. A notification of a generation whose keys are not
// configured cannot be checked: that is paydesk's failure, not the
// sender's, so the platform sends it again and a replay verifies it once
// the keys are there.
func (m *Merchant) VerifyNotification(header http.Header, body []byte, receivedAt time.Time) (gateway.Notification, error) {
	if looksLikeXML(body) {
		if m.v2 == nil {
			return gateway.Notification{}, errors.New("wechat: a v2 (XML) notification arrived but no v2 API key is configured ([wechat] api_key_file)")
		}
		return m.v2.VerifyNotification(header, body, receivedAt)
	}
	if m.v3 == nil {
		return gateway.Notification{}, errors.New("wechat: an APIv3 (JSON) notification arrived but no APIv3 keys are configured in [wechat]")
	}
	return m.v3.VerifyNotification(header, body, receivedAt)
}

// NotifyReply answers in the protocol of the configured API.
func (m *Merchant) NotifyReply(err error) gateway.Reply { return m.calls.NotifyReply(err) }

// NotifyReplyTo answers in the protocol body is written in: XML for v2,
// APIv3's status and JSON otherwise.
func (m *Merchant) NotifyReplyTo(body []byte, err error) gateway.Reply {
	if looksLikeXML(body) {
		return v2Reply(err)
	}
	if m.v3 != nil {
		return m.v3.NotifyReply(err)
	}
	// No APIv3 client: its reply format needs none of a client's state.
	return (&Client{}).NotifyReply(err)
}
