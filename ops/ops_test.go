package ops

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/internal/dbtest"
	"github.com/paydesk/paydesk/store"
)

func TestMain(m *testing.M) {
	os.Exit(dbtest.Run(m, func(dsn string) error {
		st, err := store.Open(dsn)
		if err != nil {
			return err
		}
		return st.Close()
	}))
}

// eachEngine runs f once on each store engine, as subtests, with the
// database f's service or environment is to open.
func eachEngine(t *testing.T, f func(t *testing.T, db string)) {
	dbtest.Engines(t, f)
}

// testService opens the store at db (an SQLite path or a PostgreSQL URL)
// and a service acting as role.
func testService(t *testing.T, role Role, db string) *Service {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Options{Store: st, Operator: Operator{Name: "tester", Role: role}, BillsDir: filepath.Join(t.TempDir(), "bills"),
		Now: func() time.Time { return time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodCSV = "\ufeffout_trade_no,channel,amount,subject,status,created_at,trade_no,paid_at\n" +
	"PD20261122A1B2C3,alipay,12.30,会员月卡,PAID,2026-11-22 10:00:00,2026112222001400001,2026-11-22 10:00:30\n" +
	"PD20261122D4E5F6,wechat,0.01,Test,PENDING,2026-11-22T23:59:50+08:00,,\n" +
	"\"PD20261122G7H8J9\",alipay,\"1,000.00\",\"quoted, subject\",CLOSED,2026-11-22 11:00:00,,\n"

func TestImportOrdersCSV(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Admin, db)
		ctx := context.Background()
		p := writeFile(t, "orders.csv", strings.Replace(goodCSV, `"1,000.00"`, "1000.00", 1))
		res, err := s.ImportOrders(ctx, p)
		if err != nil || res.Orders != 3 || res.Format != "csv" {
			t.Fatalf("%+v %v", res, err)
		}
		o, err := s.store.GetOrder(ctx, "PD20261122A1B2C3")
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
		if o.Amount != 1230 || o.Status != store.OrderPaid || o.PaidVia != store.ViaImport || !o.CreatedAt.Equal(want) || o.Subject != "会员月卡" {
			t.Fatalf("imported %+v", o)
		}
		audit, _ := s.store.ListAudit(ctx, store.AuditFilter{Action: string(ActImportOrders)}, 0, 10)
		if len(audit) != 1 || audit[0].Outcome != store.AuditOK || !strings.Contains(audit[0].Detail, "3 orders") {
			t.Fatalf("audit: %+v", audit)
		}
	})
}

func TestImportOrdersJSONLKeepsDecimalsExact(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Engineer, db)
		ctx := context.Background()
		p := writeFile(t, "orders.jsonl", `{"out_trade_no":"PDJ000001","channel":"wechat","amount":0.29,"created_at":"2026-11-22 08:00:00"}
{"out_trade_no":"PDJ000002","channel":"alipay","amount":"19.99","created_at":"2026-11-22T08:00:00Z","status":"REFUNDED","trade_no":"X1","paid_at":"2026-11-22 08:01:00"}

{"out_trade_no":"PDJ000003","channel":"alipay","amount":"5","created_at":"2026-11-22 08:00:00","status":"PARTIALLY_REFUNDED","refunded":"2.50","trade_no":"X2"}
`)
		res, err := s.ImportOrders(ctx, p)
		if err != nil || res.Orders != 3 {
			t.Fatalf("%+v %v", res, err)
		}
		o1, _ := s.store.GetOrder(ctx, "PDJ000001")
		o2, _ := s.store.GetOrder(ctx, "PDJ000002")
		o3, _ := s.store.GetOrder(ctx, "PDJ000003")
		if o1.Amount != 29 || o2.Refunded != 1999 || o2.Status != store.OrderRefunded || o3.Refunded != 250 {
			t.Fatalf("%+v\n%+v\n%+v", o1, o2, o3)
		}
	})
}

func TestImportOrdersBadFileImportsNothing(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, file, content string
		want                string // in the error
	}{
		{"bad amount", "o.csv", "out_trade_no,channel,amount,created_at\nPD000001,alipay,1.00,2026-11-22 10:00:00\nPD000002,alipay,1.234,2026-11-22 10:00:00\n", "o.csv:3: amount: invalid amount \"1.234\""},
		{"bad channel", "o.csv", "out_trade_no,channel,amount,created_at\nPD000001,paypal,1.00,2026-11-22 10:00:00\n", "o.csv:2: channel: unknown channel \"paypal\""},
		{"duplicate in file", "o.csv", "out_trade_no,channel,amount,created_at\nPD000001,alipay,1.00,2026-11-22 10:00:00\nPD000002,alipay,1.00,2026-11-22 10:00:00\nPD000001,alipay,2.00,2026-11-22 10:00:00\n", "o.csv:4: out_trade_no: order already exists: PD000001 appears twice in this import"},
		{"already stored", "o.csv", "out_trade_no,channel,amount,created_at\nPD000009,alipay,1.00,2026-11-22 10:00:00\nEXISTING1,alipay,1.00,2026-11-22 10:00:00\n", "o.csv:3: out_trade_no: order already exists: EXISTING1 already in the database"},
		{"unknown column", "o.csv", "out_trade_no,channel,amout,created_at\n", "o.csv:1: unknown column \"amout\""},
		{"missing column", "o.csv", "out_trade_no,channel,created_at\n", "o.csv:1: missing column \"amount\""},
		{"bad time", "o.csv", "out_trade_no,channel,amount,created_at\nPD000001,alipay,1.00,22/11/2026\n", "o.csv:2: created_at: \"22/11/2026\""},
		{"wrong field count", "o.csv", "out_trade_no,channel,amount,created_at\nPD000001,alipay,1.00\n", "o.csv:2: wrong number of fields"},
		{"paid fields on pending", "o.csv", "out_trade_no,channel,amount,created_at,trade_no\nPD000001,alipay,1.00,2026-11-22 10:00:00,T1\n", "o.csv:2: status: PENDING order has a trade_no"},
		{"bad number", "o.csv", "out_trade_no,channel,amount,created_at\nPD 0001,alipay,1.00,2026-11-22 10:00:00\n", "o.csv:2: out_trade_no: \"PD 0001\" has ' '"},
		{"wechat number too long", "o.csv", "out_trade_no,channel,amount,created_at\nPD0000000000000000000000000000001,wechat,1.00,2026-11-22 10:00:00\n", "WeChat Pay allows 32"},
		{"jsonl garbage", "o.jsonl", "{\"out_trade_no\":\"PD000001\",\"channel\":\"alipay\",\"amount\":\"1\",\"created_at\":\"2026-11-22 10:00:00\"}\n{oops\n", "o.jsonl:2: not a JSON object"},
		{"jsonl float amount", "o.jsonl", "{\"out_trade_no\":\"PD000001\",\"channel\":\"alipay\",\"amount\":1.001,\"created_at\":\"2026-11-22 10:00:00\"}\n", "o.jsonl:1: amount: invalid amount \"1.001\""},
		{"empty", "o.csv", "", "o.csv:1: file is empty"},
		{"negative", "o.csv", "out_trade_no,channel,amount,created_at\nPD000001,alipay,-1.00,2026-11-22 10:00:00\n", "must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, db string) {
				s := testService(t, Admin, db)
				if _, err := s.ImportOrders(ctx, writeFile(t, "seed.csv", "out_trade_no,channel,amount,created_at\nEXISTING1,alipay,9.99,2026-11-21 10:00:00\n")); err != nil {
					t.Fatal(err)
				}
				_, err := s.ImportOrders(ctx, writeFile(t, c.file, c.content))
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v; want it to contain %q", err, c.want)
				}
				var ie *ImportError
				if !errors.As(err, &ie) {
					t.Fatalf("%T is not an *ImportError", err)
				}
				if n, _ := s.store.CountOrders(ctx, store.OrderFilter{}); n != 1 {
					t.Fatalf("a failed import left %d orders; want only the 1 seeded", n)
				}
				audit, _ := s.store.ListAudit(ctx, store.AuditFilter{Action: string(ActImportOrders)}, 0, 10)
				if len(audit) != 2 || audit[0].Outcome != store.AuditError {
					t.Fatalf("the failed import is not audited as an error: %+v", audit)
				}
			})
		})
	}
}

func TestViewerMayNotImportAndTheRefusalIsAudited(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Viewer, db)
		ctx := context.Background()
		_, err := s.ImportOrders(ctx, writeFile(t, "o.csv", goodCSV))
		if !errors.Is(err, ErrForbidden) {
			t.Fatalf("viewer import: %v", err)
		}
		if n, _ := s.store.CountOrders(ctx, store.OrderFilter{}); n != 0 {
			t.Fatal("a refused import wrote orders")
		}
		audit, _ := s.store.ListAudit(ctx, store.AuditFilter{}, 0, 10)
		if len(audit) != 1 || audit[0].Outcome != store.AuditDenied || audit[0].Operator != "tester" {
			t.Fatalf("audit: %+v", audit)
		}
	})
}

func TestRolesMatchTheDesign(t *testing.T) {
	want := map[Role][]Action{
		Viewer:   {ActRead, ActExport, ActReconcile},
		Support:  {ActRead, ActExport, ActReconcile, ActQuery, ActRefund, ActResolve},
		Engineer: {ActRead, ActExport, ActReconcile, ActQuery, ActReplay, ActResolve, ActImportOrders},
		Admin:    {ActRead, ActExport, ActReconcile, ActQuery, ActRefund, ActReplay, ActResolve, ActImportOrders},
	}
	all := []Action{ActRead, ActExport, ActReconcile, ActQuery, ActRefund, ActReplay, ActResolve, ActImportOrders}
	for role, acts := range want {
		for _, a := range all {
			should := false
			for _, x := range acts {
				should = should || x == a
			}
			if role.Can(a) != should {
				t.Errorf("%s can %s = %v, want %v", role, a, role.Can(a), should)
			}
		}
	}
}

func TestShowOrderTimeline(t *testing.T) {
	eachEngine(t, func(t *testing.T, db string) {
		s := testService(t, Admin, db)
		ctx := context.Background()
		if _, err := s.ImportOrders(ctx, writeFile(t, "o.csv", strings.Replace(goodCSV, `"1,000.00"`, "1000.00", 1))); err != nil {
			t.Fatal(err)
		}
		d, err := s.ShowOrder(ctx, "PD20261122A1B2C3")
		if err != nil {
			t.Fatal(err)
		}
		if d.Refundable != 1230 || len(d.Timeline) < 2 || d.Timeline[0].Kind != "created" || d.Timeline[1].Kind != "paid" {
			t.Fatalf("%+v", d)
		}
		if _, err := s.ShowOrder(ctx, "NOPE"); !IsNotFound(err) {
			t.Fatalf("unknown order: %v", err)
		}
	})
}

// TestCopyStoreIsForAdminsAndAudited: moving the workspace is an admin's
// act; a refusal is audited and copies nothing, a copy is audited in the
// source and that record arrives in the destination too.
func TestCopyStoreIsForAdminsAndAudited(t *testing.T) {
	ctx := context.Background()
	dst, err := store.Open(dbtest.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	viewer := testService(t, Viewer, dbtest.SQLiteFile(t))
	if _, err := viewer.CopyStore(ctx, dst, nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a viewer's copy: %v", err)
	}
	if n, _ := dst.CountOrders(ctx, store.OrderFilter{}); n != 0 {
		t.Fatal("a refused copy wrote")
	}
	admin := testService(t, Admin, dbtest.SQLiteFile(t))
	if _, err := admin.ImportOrders(ctx, writeFile(t, "o.csv", strings.Replace(goodCSV, `"1,000.00"`, "1000.00", 1))); err != nil {
		t.Fatal(err)
	}
	rep, err := admin.CopyStore(ctx, dst, nil)
	if err != nil || rep.Sums["orders.amount"] != 1230+1+100000 {
		t.Fatalf("%+v %v", rep, err)
	}
	for _, st := range []*store.Store{admin.store, dst} {
		audit, _ := st.ListAudit(ctx, store.AuditFilter{Action: string(ActCopyStore)}, 0, 10)
		if len(audit) != 1 || audit[0].Outcome != store.AuditOK || !strings.Contains(audit[0].Detail, "rows in 10 tables") {
			t.Fatalf("%s: copy audited as %+v", st.Engine(), audit)
		}
	}
}
