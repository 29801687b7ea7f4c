package ops_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// TestFetchBillWithABadHashKeepsNothing: the download is spooled once, as
// it arrives; when its SHA1 does not hold, the spool is dropped: no bill
// row, no file in the workspace, the refusal audited.
func TestFetchBillWithABadHashKeepsNothing(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, db string) {
		day := yesterday()
		env := testenv.New(t, testenv.Options{DB: db})
		env.Pay(t, testenv.Order{OutTradeNo: "PDHASH0001", Channel: gateway.WeChat, Amount: 1200, CreatedAt: day.Add(9 * time.Hour)}, day.Add(10*time.Hour))
		platforms := testenv.Platforms(t, env.Sandbox, &http.Client{Transport: testkit.SwapWeChatBillDownload{Old: "`12.00,", New: "`1.00,"}})
		svc, err := ops.New(ops.Options{Store: env.Store, Platforms: platforms, Operator: ops.Operator{Name: "fin", Role: ops.Viewer},
			BillsDir: filepath.Join(env.Dir, "bills")})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, err = svc.FetchBill(ctx, gateway.WeChat, day, store.BillTrade)
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
		if b, err := env.Service.FetchBill(ctx, gateway.WeChat, day, store.BillTrade); err != nil || b.Lines != 1 {
			t.Fatalf("honest fetch: %+v %v", b, err)
		}
	})
}
