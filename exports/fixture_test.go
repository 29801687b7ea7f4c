package exports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/gateway/alipay"
	"github.com/paydesk/paydesk/gateway/sandbox"
	"github.com/paydesk/paydesk/recon"
	"github.com/paydesk/paydesk/store"
)

var zone = gateway.Shanghai

const testDay = "2026-11-22"

func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateTime, s, zone)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func yuan(t testing.TB, s string) gateway.Money {
	t.Helper()
	m, err := gateway.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// reconFixture is a reconciliation run as ops would leave it: a real store
// in a temp dir, a real Alipay bill zip written by the sandbox writer, the
// lines matched by recon, and the run saved with store.SaveRun.
type reconFixture struct {
	st       *store.Store
	run      store.Run
	findings []store.Finding
	lines    []gateway.BillLine
	cats     []recon.Category // the category recon gave each line
	billPath string
}

// buyer is an Alipay buyer id that must never reach a workbook unmasked.
const buyer = "2088102177846875"

func newReconFixture(t testing.TB) *reconFixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "paydesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx := &reconFixture{st: st, billPath: filepath.Join(dir, "2088000000000156_20261122.zip")}

	day, _ := time.ParseInLocation(time.DateOnly, testDay, zone)
	var buf bytes.Buffer
	bw := sandbox.NewAlipayBillZip(&buf, "20880000000000000156", day)
	rows := []sandbox.AlipayBillRow{
		{TradeNo: "2026112222001400000001", OutTradeNo: "PDA0000001", Subject: "咖啡 大杯", FinishedAt: at(t, "2026-11-22 09:00:00"), Amount: yuan(t, "12.30"), Buyer: "ali***@example.com"},
		{TradeNo: "2026112222001400000002", OutTradeNo: "PDB0000002", Subject: "Order B", FinishedAt: at(t, "2026-11-22 10:00:00"), Amount: yuan(t, "88.00")},
		{TradeNo: "2026112222001400000003", OutTradeNo: "PDC0000003", Subject: "不认识的订单", FinishedAt: at(t, "2026-11-22 11:00:00"), Amount: yuan(t, "5.01")},
		{TradeNo: "2026112222001400000004", OutTradeNo: "PDD0000004", Subject: "Order D", FinishedAt: at(t, "2026-11-22 12:00:00"), Amount: yuan(t, "20.00")},
		{Refund: true, TradeNo: "2026112222001400000001", OutTradeNo: "PDA0000001", Subject: "咖啡 大杯", FinishedAt: at(t, "2026-11-22 13:00:00"), Amount: yuan(t, "2.30"), OutRequestNo: "RQA1"},
		{Refund: true, TradeNo: "2026112222001400000001", OutTradeNo: "PDA0000001", Subject: "咖啡 大杯", FinishedAt: at(t, "2026-11-22 14:00:00"), Amount: yuan(t, "1.00"), OutRequestNo: "RQA2"},
		{TradeNo: "2026112222001400000005", OutTradeNo: "PDE0000005", Subject: "茶", FinishedAt: at(t, "2026-11-22 15:30:45"), Amount: yuan(t, "1234567.89")},
		{TradeNo: "2026112222001400000006", OutTradeNo: "PDH0000008", Subject: "Order H", FinishedAt: at(t, "2026-11-22 16:00:00"), Amount: yuan(t, "0.07")},
	}
	for _, r := range rows {
		r.CreatedAt = r.FinishedAt.Add(-time.Minute)
		r.Fee = sandbox.AlipayFee(r.Amount)
		if err := bw.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fx.billPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	paid := func(no, trade, amount, when string) recon.Order {
		return recon.Order{OutTradeNo: no, Channel: gateway.Alipay, Amount: yuan(t, amount), Status: recon.OrderPaid, TradeNo: trade,
			CreatedAt: at(t, when).Add(-time.Minute), PaidAt: at(t, when), PaidVia: recon.PaidViaNotify, NotifyVerified: true}
	}
	orderD := paid("PDD0000004", "", "20.00", "2026-11-22 12:00:00")
	orderD.Status, orderD.PaidAt, orderD.PaidVia, orderD.NotifyVerified = recon.OrderPending, time.Time{}, "", false
	orderH := paid("PDH0000008", "2026112222001400000006", "0.07", "2026-11-22 16:00:00")
	orderH.PaidVia, orderH.NotifyVerified = recon.PaidViaQuery, false
	orders := []recon.Order{
		paid("PDA0000001", "2026112222001400000001", "12.30", "2026-11-22 09:00:00"),
		paid("PDB0000002", "2026112222001400000002", "80.00", "2026-11-22 10:00:00"),
		orderD,
		paid("PDE0000005", "2026112222001400000005", "1234567.89", "2026-11-22 15:30:45"),
		paid("PDF0000006", "2026112222001499999991", "66.60", "2026-11-22 23:55:00"), // no line, near midnight: CROSS_DAY
		paid("PDG0000007", "2026112222001499999992", "9.99", "2026-11-22 10:30:00"),  // no line: MISSING_PLATFORM
		orderH,
	}
	refunds := []recon.Refund{{OutRequestNo: "RQA1", OutTradeNo: "PDA0000001", Channel: gateway.Alipay, Amount: yuan(t, "2.30"),
		Status: gateway.RefundSuccess, Source: recon.RefundSourceLocal, RefundedAt: at(t, "2026-11-22 13:00:00")}}
	started := at(t, "2026-11-23 09:15:00")
	fx.reconcile(t, day, orders, refunds, started)
	return fx
}

func (fx *reconFixture) reconcile(t testing.TB, day time.Time, orders []recon.Order, refunds []recon.Refund, started time.Time) {
	t.Helper()
	ctx := context.Background()
	m, err := recon.NewMatcher(recon.Input{Channel: gateway.Alipay, Day: day, Zone: zone, Orders: orders, Refunds: refunds})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(fx.billPath)
	if err != nil {
		t.Fatal(err)
	}
	br, err := alipay.OpenBill(filepath.Base(fx.billPath), bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		l, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Line(l)
		if err != nil {
			t.Fatal(err)
		}
		fx.lines = append(fx.lines, *l)
		fx.cats = append(fx.cats, c)
	}
	res := m.Finish()
	sum := sha256.Sum256(raw)
	bill := store.Bill{Channel: gateway.Alipay, Day: testDay, Source: "file", FileName: filepath.Base(fx.billPath), Path: fx.billPath,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(raw)), Stated: br.Stated(), Computed: br.Computed(), Lines: len(fx.lines), CreatedAt: started}
	run := store.Run{Channel: gateway.Alipay, Day: testDay, Operator: "alice", StartedAt: started, FinishedAt: started.Add(1500 * time.Millisecond),
		Orders: len(orders), Lines: len(fx.lines), Counts: map[string]store.CategoryTotal{}, Fees: res.Fees, Net: res.Net,
		Carry: mustJSON(t, res.Carry), Settled: storeFindings(res.Settled), Notices: storeFindings(res.Notices)}
	for c, ct := range res.Counts {
		run.Counts[string(c)] = store.CategoryTotal{Count: ct.Count, Amount: ct.Amount}
	}
	saved, err := fx.st.SaveRun(ctx, bill, run, storeFindings(res.Findings))
	if err != nil {
		t.Fatal(err)
	}
	fx.load(t, saved.ID)
}

// load reads the run back as ops does.
func (fx *reconFixture) load(t testing.TB, id int64) {
	t.Helper()
	ctx := context.Background()
	var err error
	if fx.run, err = fx.st.GetRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	if fx.findings, err = fx.st.ListFindings(ctx, store.FindingFilter{RunID: id}); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func storeFindings(fs []recon.Finding) []store.Finding {
	out := make([]store.Finding, len(fs))
	for i, f := range fs {
		out[i] = store.Finding{Channel: f.Channel, Day: testDay, FirstDay: f.Day.Format(store.DayFormat), Category: string(f.Category),
			Severity: string(f.Severity), Kind: string(f.Kind), Side: string(f.Side), OutTradeNo: f.OutTradeNo, TradeNo: f.TradeNo,
			OutRequestNo: f.OutRequestNo, LocalAmount: f.LocalAmount, PlatformAmount: f.PlatformAmount, LocalStatus: f.LocalStatus,
			PlatformStatus: f.PlatformStatus, NotifyStatus: f.NotifyStatus, BillLine: f.BillLine, Detail: f.Detail}
	}
	return out
}

// input is the report's input over the fixture, reading the bill file
// again as ops does.
func (fx *reconFixture) input(t testing.TB) Recon {
	return Recon{
		Run: fx.run, Findings: fx.findings, Zone: zone, ExportedAt: at(t, "2026-11-23 10:00:00"), ExportedBy: "carol",
		OpenBill: func() (gateway.BillReader, func(bool) error, error) {
			f, err := os.Open(fx.run.Bill.Path)
			if err != nil {
				return nil, nil, err
			}
			br, err := alipay.OpenBill(fx.run.Bill.FileName, f)
			if err != nil {
				f.Close()
				return nil, nil, err
			}
			return br, func(bool) error { return f.Close() }, nil
		},
	}
}
