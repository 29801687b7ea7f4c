package alipay_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/testkit"
)

// FuzzVerifyNotification: whatever the body, VerifyNotification never
// panics, and every refusal is one of the typed rejections. Seeds: real
// signed notifications of each kind, and broken ones.
func FuzzVerifyNotification(f *testing.F) {
	k, err := testkit.LoadSandboxKeys()
	if err != nil {
		f.Fatal(err)
	}
	pay := paymentFields(k.AlipayAppID)
	for _, fields := range []map[string]string{
		pay,
		with(pay, "refund_fee", "20.00", "out_biz_no", "RQ1", "gmt_refund", "2026-11-23 08:00:00.120"),
		with(pay, "trade_status", "TRADE_CLOSED", "refund_fee", "88.80", "out_biz_no", "RQ2", "gmt_refund", "2026-11-23 08:00:00"),
		with(pay, "charset", "gbk", "subject", gbk("洗衣订单·加急")),
		with(pay, "trade_status", "WAIT_BUYER_PAY", "gmt_payment", ""),
	} {
		f.Add([]byte(signForm(f, k.AlipayPlatformKey, fields)))
	}
	f.Add([]byte(""))
	f.Add([]byte("sign=%%%&a=b"))
	f.Add([]byte("charset=big5&sign=AAAA"))
	c := offlineClient(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := c.VerifyNotification(http.Header{}, body, time.Now())
		if err != nil {
			if !gateway.IsRejection(err) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// Accepted: it must have been signed by the platform key, so it is
		// one of the seeds' field sets; its amount is exact.
		if n.OutTradeNo == "" || n.Amount <= 0 || n.Event == "" {
			t.Fatalf("accepted a notification without essentials: %+v", n)
		}
	})
}

// FuzzOpenBill: whatever the bytes, the parser never panics, every error is
// a *gateway.BillError, and a bill read to io.EOF adds up to what it states.
func FuzzOpenBill(f *testing.F) {
	files, _ := filepath.Glob(testkit.Testdata("alipay", "*"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := openBill(data)
		if err != nil {
			return
		}
		var sumNet gateway.Money
		for n := 0; ; n++ {
			l, err := r.Next()
			if err == io.EOF {
				c, s := r.Computed(), r.Stated()
				if c.Payments != s.Payments || c.Refunds != s.Refunds || (s.Net != 0 && s.Net != c.Net) || c.Net != sumNet {
					t.Fatalf("EOF with totals computed %+v stated %+v (rows net %s)", c, s, sumNet)
				}
				return
			}
			if err != nil {
				var be *gateway.BillError
				if !errors.As(err, &be) {
					t.Fatalf("error is not a *gateway.BillError: %v", err)
				}
				if _, again := r.Next(); again == nil || again.Error() != err.Error() {
					t.Fatalf("reader did not stay failed: %v then %v", err, again)
				}
				return
			}
			if l.Amount < 0 || l.TradeNo == "" || (l.Kind != gateway.LinePayment && l.Kind != gateway.LineRefund) {
				t.Fatalf("line %+v", l)
			}
			sumNet += l.Net
		}
	})
}

func openBill(data []byte) (gateway.BillReader, error) {
	r, err := alipayOpenBill("fuzz.csv", bytes.NewReader(data))
	if err != nil {
		var be *gateway.BillError
		if !errors.As(err, &be) {
			panic("OpenBill error is not a *gateway.BillError: " + err.Error())
		}
	}
	return r, err
}
