package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/gateway/wechat"
	"github.com/paydesk/paydesk/internal/testkit"
)

// TestV2DownloadFundBill fetches the Basic account's 资金账单 through
// /pay/downloadfundflow: over mutual TLS, signed HMAC-SHA256 whatever the
// merchant's sign type, the same text as APIv3's fundflowbill.
func TestV2DownloadFundBill(t *testing.T) {
	s := testkit.StartSandbox(t)
	ctx := context.Background()
	day := yesterday()
	tr := paidTrade(t, s, "V2-FUND-1", 5000, day)
	if err := s.AddFundMovement(gateway.WeChat, sandbox.FundMovement{Time: day.Add(time.Hour), Amount: -2000, Kind: gateway.FundWithdrawal}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{wechat.SignMD5, wechat.SignHMACSHA256} {
		c := newV2(t, v2Config(t, s, st))
		var buf bytes.Buffer
		f, err := c.DownloadFundBill(ctx, day, &buf)
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		if !strings.Contains(f.Name, "downloadfundflow") || f.Size != int64(buf.Len()) {
			t.Errorf("%s: file %+v", st, f)
		}
		_, lines, err := readFunds(t, f.Name, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 3 || lines[0].TradeNo != tr.TradeNo || lines[0].Amount != 5000 || lines[1].Amount != -30 || lines[2].Kind != gateway.FundWithdrawal {
			t.Errorf("%s: movements %+v", st, lines)
		}
	}
	c := newV2(t, v2Config(t, s, ""))
	if _, err := c.DownloadFundBill(ctx, time.Date(2001, 1, 1, 12, 0, 0, 0, gateway.Shanghai), &bytes.Buffer{}); !errors.Is(err, gateway.ErrBillNotReady) {
		t.Errorf("a day without movements: %v", err)
	}
	// Without the merchant certificate nothing is sent.
	cfg := v2Config(t, s, "")
	cfg.CertPEM, cfg.KeyPEM = nil, nil
	if _, err := newV2(t, cfg).DownloadFundBill(ctx, day, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "apiclient_cert_file") {
		t.Errorf("without a certificate: %v", err)
	}
}
