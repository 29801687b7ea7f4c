package ops_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// swapBillDownload hands back another valid gzip bill (one amount changed)
// for every bill download: only the SHA1 of the signed answer can tell.
type swapBillDownload struct{}

func (swapBillDownload) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/v3/billdownload/") {
		return resp, err
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, err
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	text = bytes.Replace(text, []byte("`12.00,"), []byte("`1.00,"), 1)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(text)
	zw.Close()
	resp.Body = io.NopCloser(&out)
	resp.Header.Set("Content-Length", strconv.Itoa(out.Len()))
	resp.ContentLength = int64(out.Len())
	return resp, nil
}

// TestFetchBillWithABadHashKeepsNothing: the download is spooled once, as
// it arrives; when its SHA1 does not hold, the spool is dropped: no bill
// row, no file in the workspace, the refusal audited.
func TestFetchBillWithABadHashKeepsNothing(t *testing.T) {
	t.Parallel()
	day := yesterday()
	env := testenv.New(t, testenv.Options{})
	env.Pay(t, testenv.Order{OutTradeNo: "PDHASH0001", Channel: gateway.WeChat, Amount: 1200, CreatedAt: day.Add(9 * time.Hour)}, day.Add(10*time.Hour))
	platforms := testenv.Platforms(t, env.Sandbox, &http.Client{Transport: swapBillDownload{}})
	svc, err := ops.New(ops.Options{Store: env.Store, Platforms: platforms, Operator: ops.Operator{Name: "fin", Role: ops.Viewer}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = svc.FetchBill(ctx, gateway.WeChat, day)
	if err == nil || !strings.Contains(err.Error(), "SHA1") {
		t.Fatalf("a replaced bill was kept: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(env.Dir, "bills", "*", "*")); len(files) != 0 {
		t.Fatalf("files left in the workspace: %v", files)
	}
	if acct, ok, err := env.Store.FirstBillAccount(ctx, gateway.WeChat); ok || err != nil {
		t.Fatalf("a bill row was stored (account %q): %v", acct, err)
	}
	audit, err := svc.ListAudit(ctx, store.AuditFilter{Action: string(ops.ActReconcile)}, 0, 1)
	if err != nil || len(audit) != 1 || audit[0].Outcome != store.AuditError || !strings.Contains(audit[0].Error, "SHA1") {
		t.Fatalf("audit: %+v %v", audit, err)
	}
	// The same fetch through an honest connection keeps the bill.
	if b, err := env.Service.FetchBill(ctx, gateway.WeChat, day); err != nil || b.Lines != 1 {
		t.Fatalf("honest fetch: %+v %v", b, err)
	}
}
