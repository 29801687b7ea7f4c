package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/testkit"
)

// sharedSamples lists files of ../shared/samples/wechat/<dir> when present;
// fuzz seeds come from them without skipping when they are absent.
func sharedSamples(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(testkit.RepoRoot(), "..", "shared", "samples", "wechat", dir, "*"))
	return files
}

// FuzzOpenBill: whatever the bytes, the parser never panics, every error is
// a *gateway.BillError naming the file, and a bill that reaches io.EOF has
// stated totals equal to the totals of its rows.
func FuzzOpenBill(f *testing.F) {
	seeds, _ := filepath.Glob(testkit.Testdata("wechat", "*.txt"))
	seeds = append(seeds, sharedSamples("bill")...)
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br, err := OpenBill("fuzz.txt", bytes.NewReader(data))
		for err == nil {
			_, err = br.Next()
		}
		if err == io.EOF {
			if br.Stated() != br.Computed() {
				t.Fatalf("consistent bill with stated %+v, computed %+v", br.Stated(), br.Computed())
			}
			return
		}
		var be *gateway.BillError
		if !errors.As(err, &be) || be.File != "fuzz.txt" {
			t.Fatalf("error is not a BillError naming the file: %#v", err)
		}
	})
}

// trustAll accepts every signature: it lets the fuzzer reach what lies
// behind the signature check (the SDK's envelope parsing, decryption and
// paydesk's normalization), which a real signature would keep it from.
type trustAll struct{}

func (trustAll) Verify(context.Context, string, string, string) error { return nil }
func (trustAll) GetSerial(context.Context) (string, error)            { return "fuzz", nil }

// FuzzVerifyNotification: whatever the headers and body, verification never
// panics and fails only with the typed errors (or, behind a trusted
// signature, the wrong-APIv3-key error); a notification it accepts is
// complete and addressed to this merchant.
func FuzzVerifyNotification(f *testing.F) {
	c := testClient(f)
	trusting, err := newNotifyVerifier(c.cfg.MchID, c.cfg.AppID, c.cfg.APIv3Key, trustAll{})
	if err != nil {
		f.Fatal(err)
	}
	at := time.Unix(1795000000, 0)
	for _, nt := range []notice{
		{eventType: "TRANSACTION.SUCCESS", plaintext: paidPlain, signedAt: at},
		{eventType: "REFUND.SUCCESS", plaintext: refundPlain, signedAt: at},
		{eventType: "TRANSACTION.SUCCESS", plaintext: paidPlain, signedAt: at, nonce: "short"},
	} {
		h, body := nt.build(f)
		f.Add(h.Get("Wechatpay-Serial"), h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), h.Get("Wechatpay-Signature"), body)
	}
	var sampleHeader map[string]string
	var sampleBody []byte
	for _, p := range sharedSamples("notify") {
		switch {
		case strings.HasSuffix(p, ".headers.json"):
			if b, err := os.ReadFile(p); err == nil {
				_ = json.Unmarshal(b, &sampleHeader)
			}
		case strings.HasSuffix(p, ".body.json"):
			sampleBody, _ = os.ReadFile(p)
		}
	}
	if sampleHeader != nil && sampleBody != nil {
		f.Add(sampleHeader["Wechatpay-Serial"], sampleHeader["Wechatpay-Timestamp"], sampleHeader["Wechatpay-Nonce"], sampleHeader["Wechatpay-Signature"], sampleBody)
	}
	f.Fuzz(func(t *testing.T, serial, ts, nonce, signature string, body []byte) {
		h := http.Header{"Wechatpay-Serial": {serial}, "Wechatpay-Timestamp": {ts}, "Wechatpay-Nonce": {nonce}, "Wechatpay-Signature": {signature}}
		received := time.Now()
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && sec > 0 && sec < 1<<40 {
			received = time.Unix(sec, 0) // fresh, so the fuzzer gets past the window
		}
		if n, err := c.VerifyNotification(h, body, received); err != nil && !gateway.IsRejection(err) {
			t.Fatalf("untyped error: %v", err)
		} else if err == nil && (n.MchID != c.cfg.MchID || n.Event == "") {
			t.Fatalf("accepted %+v", n)
		}
		n, err := trusting.verify(h, body, received)
		switch {
		case err == nil:
			if n.MchID != c.cfg.MchID || n.Event == "" || n.Channel != gateway.WeChat {
				t.Fatalf("accepted %+v", n)
			}
		case gateway.IsRejection(err):
		case strings.Contains(err.Error(), "cannot decrypt"):
		default:
			t.Fatalf("untyped error: %v", err)
		}
	})
}
