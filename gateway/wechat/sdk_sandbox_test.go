package wechat_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/validators"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// sdkClient is the official SDK client exactly as a merchant builds it in
// public-key mode; only its HTTP transport points at the sandbox.
func sdkClient(t *testing.T, s *sandbox.Server, next http.RoundTripper) *core.Client {
	t.Helper()
	k := testkit.SandboxKeys(t)
	base, _ := url.Parse(s.URL())
	c, err := core.NewClient(context.Background(),
		option.WithWechatPayPublicKeyAuthCipher(k.WeChatMchID, k.WeChatMerchantSerialNo, k.WeChatMerchantKey,
			k.WeChatPlatformKeyID, &k.WeChatPlatformKey.PublicKey),
		option.WithHTTPClient(&http.Client{Transport: toSandbox{base: base, next: next}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUnmodifiedSDKTalksToTheSandbox(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	ctx := context.Background()
	paidAt := yesterday()
	paidTrade(t, s, "SDK-ORDER-1", 1234, paidAt)
	c := sdkClient(t, s, nil)

	tx, _, err := (&native.NativeApiService{Client: c}).QueryOrderByOutTradeNo(ctx,
		native.QueryOrderByOutTradeNoRequest{OutTradeNo: core.String("SDK-ORDER-1"), Mchid: core.String(k.WeChatMchID)})
	if err != nil {
		t.Fatal(err)
	}
	if *tx.TradeState != "SUCCESS" || *tx.Amount.Total != 1234 || *tx.Mchid != k.WeChatMchID || *tx.Appid != k.WeChatAppID {
		t.Fatalf("query answer: %s", tx)
	}

	_, _, err = (&native.NativeApiService{Client: c}).QueryOrderByOutTradeNo(ctx,
		native.QueryOrderByOutTradeNoRequest{OutTradeNo: core.String("NO-SUCH"), Mchid: core.String(k.WeChatMchID)})
	if !core.IsAPIError(err, "ORDER_NOT_EXIST") {
		t.Fatalf("unknown order: %v", err)
	}

	refunds := &refunddomestic.RefundsApiService{Client: c}
	create := refunddomestic.CreateRequest{
		OutTradeNo: core.String("SDK-ORDER-1"), OutRefundNo: core.String("SDK-REFUND-1"), Reason: core.String("测试"),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(234), Total: core.Int64(1234), Currency: core.String("CNY")},
	}
	r1, _, err := refunds.Create(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	if *r1.Status != refunddomestic.STATUS_SUCCESS || *r1.Amount.Refund != 234 || *r1.OutRefundNo != "SDK-REFUND-1" {
		t.Fatalf("refund answer: %s", r1)
	}
	r2, _, err := refunds.Create(ctx, create)
	if err != nil || *r2.RefundId != *r1.RefundId {
		t.Fatalf("the same out_refund_no again must be the same refund: %v, %v", r2, err)
	}
	q, _, err := refunds.QueryByOutRefundNo(ctx, refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String("SDK-REFUND-1")})
	if err != nil || *q.RefundId != *r1.RefundId || *q.Status != refunddomestic.STATUS_SUCCESS {
		t.Fatalf("refund query: %v, %v", q, err)
	}
	tr, _ := s.Trade(gateway.WeChat, "SDK-ORDER-1")
	if succeeded, _ := tr.Refunded(); succeeded != 234 {
		t.Fatalf("the sandbox refunded %s, want 2.34 once", succeeded)
	}

	// Trade bill: the signed answer names the SHA1 of the text; the file
	// comes through a signed request and an unsigned answer.
	res, err := c.Get(ctx, "https://api.mch.weixin.qq.com/v3/bill/tradebill?bill_date="+paidAt.Format("2006-01-02")+"&bill_type=ALL&tar_type=GZIP")
	if err != nil {
		t.Fatal(err)
	}
	var bill struct{ HashType, HashValue, DownloadURL string }
	if err := json.NewDecoder(res.Response.Body).Decode(&struct {
		HashType    *string `json:"hash_type"`
		HashValue   *string `json:"hash_value"`
		DownloadURL *string `json:"download_url"`
	}{&bill.HashType, &bill.HashValue, &bill.DownloadURL}); err != nil {
		t.Fatal(err)
	}
	dl, err := core.NewClientWithValidator(c, &validators.NullValidator{}).Get(ctx, bill.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(dl.Response.Body)
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(text)
	if bill.HashType != "SHA1" || hex.EncodeToString(sum[:]) != bill.HashValue {
		t.Fatalf("hash %s %s, text hashes to %x", bill.HashType, bill.HashValue, sum)
	}
	lines := readBill(t, "sdk.txt", bytes.NewReader(text))
	// The refund happened today, so yesterday's bill has the payment only.
	if len(lines) != 1 || lines[0].OutTradeNo != "SDK-ORDER-1" || lines[0].Amount != 1234 {
		t.Fatalf("bill lines: %+v", lines)
	}
}

func TestUnmodifiedSDKRejectsAnAnswerWithOneByteChanged(t *testing.T) {
	s := testkit.StartSandbox(t)
	k := testkit.SandboxKeys(t)
	ctx := context.Background()
	paidTrade(t, s, "SDK-FLIP-1", 500, yesterday())
	flip := &flipTransport{prefix: "/v3/"}
	c := sdkClient(t, s, flip)

	_, _, err := (&native.NativeApiService{Client: c}).QueryOrderByOutTradeNo(ctx,
		native.QueryOrderByOutTradeNoRequest{OutTradeNo: core.String("SDK-FLIP-1"), Mchid: core.String(k.WeChatMchID)})
	if err == nil || flip.flipped.Load() != 1 {
		t.Fatalf("a changed answer was accepted (flipped %d): %v", flip.flipped.Load(), err)
	}
	_, _, err = (&refunddomestic.RefundsApiService{Client: c}).Create(ctx, refunddomestic.CreateRequest{
		OutTradeNo: core.String("SDK-FLIP-1"), OutRefundNo: core.String("SDK-FLIP-R1"),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(100), Total: core.Int64(500), Currency: core.String("CNY")},
	})
	if err == nil {
		t.Fatal("a changed refund answer was accepted")
	}
}

// readBill parses a whole bill and fails the test on any error.
func readBill(t *testing.T, name string, r io.Reader) []gateway.BillLine {
	t.Helper()
	br, err := wechat.OpenBill(name, r)
	if err != nil {
		t.Fatal(err)
	}
	out, err := testkit.ReadAll(br.Next)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
