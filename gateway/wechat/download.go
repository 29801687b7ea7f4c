package wechat

import (
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/validators"
	"github.com/wechatpay-apiv3/wechatpay-go/core/consts"

	"github.com/paydesk/paydesk/gateway"
)

// tradeBillAnswer is the signed answer of GET /v3/bill/tradebill (and of
// /v3/bill/fundflowbill, which answers the same three fields).
type tradeBillAnswer struct {
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
	DownloadURL string `json:"download_url"`
}

// DownloadBill fetches the ALL trade bill of the business date day falls on
// (in the Config's zone): it asks /v3/bill/tradebill for a gzip download
// (the answer is signed and names the SHA1 of the text), downloads it with a
// signed request (the file itself comes unsigned, as the SDK expects for
// downloads), and streams the inflated text to dst while hashing it: the
// SHA1 covers the bytes as the platform made them, its UTF-8 BOM included.
// When the SHA1 does not hold, the error says so and the caller discards
// what dst received. A bill that does not exist yet, or a day without
// trades, is gateway.ErrBillNotReady.
func (c *Client) DownloadBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	date := day.In(c.cfg.Zone).Format("2006-01-02")
	q := url.Values{"bill_date": {date}, "bill_type": {"ALL"}, "tar_type": {"GZIP"}}
	name := fmt.Sprintf("wechat_tradebill_%s_%s_ALL.txt", c.cfg.MchID, strings.ReplaceAll(date, "-", ""))
	return c.downloadBill(ctx, "trade bill", "/v3/bill/tradebill", date, q, name, dst)
}

// DownloadFundBill fetches the fund-flow bill (资金账单) of the BASIC
// account (基本账户, where payments arrive and refunds and fees leave) from
// /v3/bill/fundflowbill, with the same checks as DownloadBill.
func (c *Client) DownloadFundBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	date := day.In(c.cfg.Zone).Format("2006-01-02")
	q := url.Values{"bill_date": {date}, "account_type": {"BASIC"}, "tar_type": {"GZIP"}}
	name := fmt.Sprintf("wechat_fundflowbill_%s_%s_BASIC.txt", c.cfg.MchID, strings.ReplaceAll(date, "-", ""))
	return c.downloadBill(ctx, "fund bill", "/v3/bill/fundflowbill", date, q, name, dst)
}

// downloadBill asks a bill endpoint for a gzip download and streams the
// inflated text to dst as name while checking its SHA1 (see DownloadBill):
// the caller spools and hashes what it keeps, and drops it on an error.
func (c *Client) downloadBill(ctx context.Context, what, path, date string, q url.Values, name string, dst io.Writer) (gateway.BillFile, error) {
	result, err := c.core.Get(ctx, consts.WechatPayAPIServer+path+"?"+q.Encode())
	if err != nil {
		if e := c.signedRefusal(what+" "+date, err); e != nil {
			switch e.Code {
			case "NO_STATEMENT_EXIST", "STATEMENT_CREATING":
				return gateway.BillFile{}, fmt.Errorf("%w: %w", gateway.ErrBillNotReady, e)
			}
			return gateway.BillFile{}, e
		}
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: %w", what, date, err)
	}
	var ans tradeBillAnswer
	if err := json.Unmarshal(rawBody(result), &ans); err != nil {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: answer: %w", what, date, err)
	}
	if ans.HashType != "SHA1" {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: hash_type %q, want SHA1", what, date, ans.HashType)
	}
	want, err := hex.DecodeString(ans.HashValue)
	if err != nil || len(want) != sha1.Size {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: hash_value %q is not a SHA1", what, date, ans.HashValue)
	}
	u, err := url.Parse(ans.DownloadURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: download_url %q is not an http(s) URL", what, date, ans.DownloadURL)
	}

	// The download answer carries no signature: a client without a
	// validator fetches it, with the request still signed.
	dl := core.NewClientWithValidator(c.core, &validators.NullValidator{})
	res, err := dl.Get(ctx, ans.DownloadURL)
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: download: %w", what, date, err)
	}
	defer res.Response.Body.Close()
	zr, err := gzip.NewReader(res.Response.Body)
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: download is not gzip: %w", what, date, err)
	}
	h1 := sha1.New()
	n, err := io.Copy(io.MultiWriter(dst, h1), gateway.LimitInflated(zr, gateway.DefaultBillLimits.MaxInflated))
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: download: %w", what, date, err)
	}
	if got := h1.Sum(nil); !strings.EqualFold(hex.EncodeToString(got), ans.HashValue) {
		return gateway.BillFile{}, fmt.Errorf("wechat %s %s: SHA1 of the download is %x, the platform states %s: damaged or replaced in transit",
			what, date, got, ans.HashValue)
	}
	return gateway.BillFile{
		Name: name,
		Size: n,
	}, nil
}
