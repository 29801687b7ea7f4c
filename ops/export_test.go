package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/exports"
	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/internal/testkit"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

// reconOnFile imports orders and reconciles 2026-11-22 from an Alipay bill
// file written by the sandbox writer, through ops.RunRecon.
func reconOnFile(t *testing.T, s *Service) store.Run {
	t.Helper()
	ctx := context.Background()
	admin := as(t, s, Admin)
	orders := writeFile(t, "orders.csv", "out_trade_no,channel,amount,subject,status,created_at,trade_no,paid_at\n"+
		"PDEXP00001,alipay,12.30,咖啡,PAID,2026-11-22 09:59:00,2026112222001400000001,2026-11-22 10:00:00\n"+
		"PDEXP00002,alipay,80.00,Order B,PAID,2026-11-22 10:59:00,2026112222001400000002,2026-11-22 11:00:00\n"+
		"PDEXP00003,alipay,9.99,Order C,PAID,2026-11-22 11:59:00,2026112222001400000003,2026-11-22 12:00:00\n")
	if _, err := admin.ImportOrders(ctx, orders); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, gateway.Shanghai)
	var buf bytes.Buffer
	bw := sandbox.NewAlipayBillCSV(&buf, "20880000000000000156", day)
	for _, r := range []sandbox.AlipayBillRow{
		{TradeNo: "2026112222001400000001", OutTradeNo: "PDEXP00001", Subject: "咖啡", Amount: 1230, FinishedAt: day.Add(10 * time.Hour)},
		{TradeNo: "2026112222001400000002", OutTradeNo: "PDEXP00002", Subject: "Order B", Amount: 8800, FinishedAt: day.Add(11 * time.Hour)},
		{TradeNo: "2026112222001400000009", OutTradeNo: "PDFOREIGN1", Subject: "?", Amount: 501, FinishedAt: day.Add(13 * time.Hour)},
	} {
		r.CreatedAt, r.Fee = r.FinishedAt.Add(-time.Minute), sandbox.AlipayFee(r.Amount)
		if err := bw.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	bill := writeFile(t, "20880000000000000156_20261122_业务明细.csv", buf.String())
	run, err := s.RunRecon(ctx, ReconRequest{Channel: gateway.Alipay, Day: day, BillFile: bill}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestExportReconEndToEnd(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Viewer, db) // finance staff export as viewers
		ctx := context.Background()
		run := reconOnFile(t, s)
		out := filepath.Join(t.TempDir(), "recon.xlsx")
		res, err := s.ExportRecon(ctx, run.ID, out, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Path != out || res.Rows != 4+3 || // 4 findings (NOTIFY_MISSING: imported as paid), 3 lines
			strings.Join(res.Sheets, ",") != "Summary,Findings,Lines" {
			t.Fatalf("result %+v", res)
		}
		f, err := excelize.OpenFile(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, _ := f.GetRows(exports.SummarySheet, excelize.Options{RawCellValue: true})
		seen := 0
		for _, r := range rows {
			if len(r) >= 4 && recon.Category(r[0]).Valid() {
				ct := run.Counts[r[0]]
				if r[2] != strconv.Itoa(ct.Count) || r[3] != strings.TrimSuffix(strings.TrimSuffix(ct.Amount.String(), "0"), ".0") {
					t.Errorf("Summary %s: count %s amount %s, run has %d %s", r[0], r[2], r[3], ct.Count, ct.Amount)
				}
				seen++
			}
		}
		if seen != len(recon.Categories) {
			t.Errorf("Summary lists %d categories", seen)
		}
		lines, _ := f.GetRows(exports.LinesSheet)
		if len(lines) != run.Lines+2 || lines[1][11] != string(recon.NotifyMissing) || lines[2][11] != string(recon.AmountMismatch) || lines[3][11] != string(recon.MissingLocal) {
			t.Errorf("Lines: %q", lines)
		}
		audit, _ := s.store.ListAudit(ctx, store.AuditFilter{Action: string(ActExport)}, 0, 10)
		if len(audit) != 1 || audit[0].Outcome != store.AuditOK || audit[0].Operator != "tester" ||
			!strings.HasSuffix(audit[0].Target, "recon.xlsx") || !strings.Contains(audit[0].Detail, "7 rows") {
			t.Fatalf("audit %+v", audit)
		}

		// An existing file is refused without force and kept as it was.
		before, _ := os.ReadFile(out)
		if _, err := s.ExportRecon(ctx, run.ID, out, false); !errors.Is(err, ErrExportExists) {
			t.Fatalf("second export without force: %v", err)
		}
		if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
			t.Fatal("a refused export changed the file")
		}
		if _, err := s.ExportRecon(ctx, run.ID, out, true); err != nil {
			t.Fatalf("with force: %v", err)
		}

		// The kept bill changed since the run: the export fails, names the
		// cause, and leaves neither the file nor a temporary one.
		if err := os.WriteFile(run.Bill.Path, append(mustRead(t, run.Bill.Path), '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		other := filepath.Join(filepath.Dir(out), "other.xlsx")
		if _, err := s.ExportRecon(ctx, run.ID, other, false); err == nil || !strings.Contains(err.Error(), "changed since the run") {
			t.Fatalf("export of a changed bill: %v", err)
		}
		entries, _ := os.ReadDir(filepath.Dir(out))
		if len(entries) != 1 || entries[0].Name() != "recon.xlsx" {
			t.Fatalf("files left after a failed export: %v", entries)
		}
		audit, _ = s.store.ListAudit(ctx, store.AuditFilter{Action: string(ActExport)}, 0, 10)
		if audit[0].Outcome != store.AuditError || !strings.Contains(audit[0].Error, "changed since the run") {
			t.Fatalf("the failure is not audited: %+v", audit[0])
		}
		if _, err := s.ExportRecon(ctx, 999, other, false); !errors.Is(err, store.ErrRunNotFound) {
			t.Fatalf("unknown run: %v", err)
		}
	})
}

// as is another operator with role on the same store.
func as(t *testing.T, s *Service, role Role) *Service {
	t.Helper()
	o, err := New(Options{Store: s.store, Operator: Operator{Name: "admin", Role: role}, Now: s.now})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExportOrdersPagesThroughEveryOrder exports more orders than one
// page holds and checks every one is there once, and the total.
func TestExportOrdersPagesThroughEveryOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Support, db)
		ctx := context.Background()
		var csv strings.Builder
		csv.WriteString("out_trade_no,channel,amount,subject,status,created_at\n")
		const n = 2*exportPage + 345
		var want gateway.Money
		for i := range n {
			amount := gateway.Money(1 + i*7)
			want += amount
			fmt.Fprintf(&csv, "PDORD%06d,alipay,%s,商品 %d,PENDING,2026-11-22 %02d:%02d:%02d\n", i, amount, i, i/3600%24, i/60%60, i%60)
		}
		csv.WriteString("PDOTHER001,wechat,1.00,other channel,PENDING,2026-11-22 08:00:00\n")
		if _, err := as(t, s, Admin).ImportOrders(ctx, writeFile(t, "orders.csv", csv.String())); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "orders.xlsx")
		res, err := s.ExportOrders(ctx, store.OrderFilter{Channel: gateway.Alipay}, out, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != n || strings.Join(res.Sheets, ",") != "Orders,About" {
			t.Fatalf("result %+v", res)
		}
		f, err := excelize.OpenFile(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, _ := f.GetRows(exports.OrdersSheet)
		if len(rows) != n+2 {
			t.Fatalf("%d rows, want %d orders + header + total", len(rows), n)
		}
		seen := map[string]bool{}
		for _, r := range rows[1 : n+1] {
			if seen[r[1]] || !strings.HasPrefix(r[1], "PDORD") {
				t.Fatalf("order %q twice or not selected", r[1])
			}
			seen[r[1]] = true
		}
		got, err := f.CalcCellValue(exports.OrdersSheet, "E"+strconv.Itoa(n+2), excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := gateway.ParseMoney(got); err != nil || m != want {
			t.Errorf("total %q, want %s", got, want)
		}
		if v, _ := f.GetCellValue(exports.AboutSheet, "B2"); v != "channel alipay" {
			t.Errorf("About says the selection was %q", v)
		}
	})
}

// TestExportNotificationsWritesNoSecret stores a callback whose headers
// carry a signature and whose body names the buyer, and checks that
// neither reaches the workbook.
func TestExportNotificationsWritesNoSecret(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Engineer, db)
		ctx := context.Background()
		const (
			signature = "c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1sZWF2ZQ=="
			openid    = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
			bodyMark  = "ciphertext-of-the-resource"
		)
		id, err := s.store.SaveRawNotification(ctx, store.RawNotification{Channel: gateway.WeChat, ReceivedAt: s.now(), RemoteAddr: "127.0.0.1:5555",
			Header: http.Header{"Wechatpay-Signature": {signature}}, Body: []byte(`{"resource":{"ciphertext":"` + bodyMark + `"},"payer":{"openid":"` + openid + `"}}`)})
		if err != nil {
			t.Fatal(err)
		}
		amount := gateway.Money(1999)
		if err := s.store.RecordAttempt(ctx, id, store.Attempt{Kind: store.AttemptIntake, At: s.now(), VerifyStatus: store.Verified,
			ApplyStatus: store.ApplyUnknownOrder, Detail: "no order PDX for payer " + openid, OutTradeNo: "PDX", Amount: &amount}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "notifications.xlsx")
		res, err := s.ExportNotifications(ctx, store.NotificationFilter{Failed: true}, out, false)
		if err != nil || res.Rows != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		all := testkit.XLSXText(t, out)
		for _, secret := range []string{signature, openid, bodyMark, "Wechatpay-Signature"} {
			if strings.Contains(all, secret) {
				t.Errorf("the workbook contains %q", secret)
			}
		}
		if !strings.Contains(all, gateway.MaskBuyerID(openid)) {
			t.Error("the masked openid is not in the detail")
		}
		f, err := excelize.OpenFile(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if v, _ := f.GetCellValue(exports.NotificationsSheet, "H2", excelize.Options{RawCellValue: true}); v != "19.99" {
			t.Errorf("amount cell %q", v)
		}

		out = filepath.Join(t.TempDir(), "audit.xlsx")
		res, err = s.ExportAudit(ctx, store.AuditFilter{}, out, false)
		if err != nil || res.Rows != 1 { // the notifications export
			t.Fatalf("audit export %+v %v", res, err)
		}
	})
}
