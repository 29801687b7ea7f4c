package wechat

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-pay/gopay"
	gpwechat "github.com/go-pay/gopay/wechat"

	"github.com/paydesk/paydesk/gateway"
)

// DownloadBill fetches the ALL trade bill of the business date day falls on
// through /pay/downloadbill (gzip) and writes the text to dst: the same
// text bill as APIv3's tradebill, which OpenBill reads. A day without a
// bill (No Bill Exist) is gateway.ErrBillNotReady.
//
// The request is the SDK's (its XML and its sign), but the answer is read
// as a stream instead of through the SDK's DownloadBill, which holds the
// whole bill in memory, twice, and cuts it silently at its body cap (10 MB
// by default): bench_test.go's BenchmarkV2BillDownload measures the cost.
// v2 gives no hash of the bill, so what vouches for it is TLS to the
// platform and the bill's own summary, which OpenBill checks; dst may hold
// part of a bill when an error is returned.
func (c *V2Client) DownloadBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	date := day.In(c.cfg.Zone).Format("20060102")
	bm := c.params().Set("bill_date", date).Set("bill_type", "ALL").Set("tar_type", "GZIP").
		Set("appid", c.cfg.AppID).Set("mch_id", c.cfg.MchID)
	bm.Set("sign", gpwechat.GetReleaseSign(c.cfg.APIKey, c.cfg.SignType, bm))
	return c.downloadBill(ctx, c.http, "downloadbill", date, bm, fmt.Sprintf("wechat_downloadbill_%s_%s_ALL.txt", c.cfg.MchID, date), dst)
}

// DownloadFundBill fetches the Basic account's fund-flow bill (资金账单) of
// the business date day falls on through /pay/downloadfundflow, as the
// platform documents it (pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_18)
// and gopay's DownloadFundFlow sends it: over mutual TLS with the merchant
// API certificate, signed HMAC-SHA256 whatever the configured sign type
// (the only one it accepts), account_type Basic. The text is the same as
// APIv3's fundflowbill, which OpenFundBill reads; the answer is read like
// DownloadBill's.
func (c *V2Client) DownloadFundBill(ctx context.Context, day time.Time, dst io.Writer) (gateway.BillFile, error) {
	date := day.In(c.cfg.Zone).Format("20060102")
	if c.mtls == nil {
		return gateway.BillFile{}, fmt.Errorf("wechat v2 downloadfundflow %s: needs the merchant API certificate (apiclient_cert_file): the platform answers it over mutual TLS only", date)
	}
	bm := gopay.BodyMap{}
	bm.Set("nonce_str", wechatNonce()).Set("sign_type", SignHMACSHA256).Set("bill_date", date).Set("account_type", "Basic").
		Set("tar_type", "GZIP").Set("appid", c.cfg.AppID).Set("mch_id", c.cfg.MchID)
	bm.Set("sign", gpwechat.GetReleaseSign(c.cfg.APIKey, SignHMACSHA256, bm))
	return c.downloadBill(ctx, c.mtls, "downloadfundflow", date, bm, fmt.Sprintf("wechat_downloadfundflow_%s_%s_Basic.txt", c.cfg.MchID, date), dst)
}

// downloadBill posts a signed bill request and streams the answer (the
// bill, gzip or text, or a small XML refusal) to dst as name.
func (c *V2Client) downloadBill(ctx context.Context, hc *http.Client, api, date string, bm gopay.BodyMap, name string, dst io.Writer) (gateway.BillFile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/pay/"+api, strings.NewReader(gpwechat.GenerateXml(bm)))
	if err != nil {
		return gateway.BillFile{}, err
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("wechat v2 %s %s: %w", api, date, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return gateway.BillFile{}, fmt.Errorf("wechat v2 %s %s: HTTP %d", api, date, resp.StatusCode)
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	head, _ := br.Peek(5)
	var text io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte("<xml")):
		// A refusal is a small XML document instead of the file.
		b, _ := io.ReadAll(io.LimitReader(br, 64<<10))
		f, err := parseV2XML(b, "xml")
		if err != nil {
			return gateway.BillFile{}, fmt.Errorf("wechat v2 %s %s: answer: %v", api, date, err)
		}
		if f["return_msg"] == "No Bill Exist" {
			return gateway.BillFile{}, fmt.Errorf("%w: wechat v2 %s %s: %s (%s)", gateway.ErrBillNotReady, api, date, f["return_msg"], f["error_code"])
		}
		return gateway.BillFile{}, fmt.Errorf("wechat v2 %s %s: %s %s (%s)", api, date, f["return_code"], f["return_msg"], f["error_code"])
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return gateway.BillFile{}, fmt.Errorf("wechat v2 %s %s: gzip: %w", api, date, err)
		}
		text = zr
	}
	n, err := io.Copy(dst, gateway.LimitInflated(text, gateway.DefaultBillLimits.MaxInflated))
	if err != nil {
		return gateway.BillFile{}, fmt.Errorf("wechat v2 %s %s: %w", api, date, err)
	}
	return gateway.BillFile{Name: name, Size: n}, nil
}

// OpenBill reads a trade bill with times in the Config's zone.
func (c *V2Client) OpenBill(name string, r io.Reader) (gateway.BillReader, error) {
	return OpenBillIn(name, r, c.cfg.Zone)
}
