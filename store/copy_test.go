package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
)

// fillEveryTable puts rows in every table a copy moves, through the store's
// own transitions.
func fillEveryTable(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	var orders []Order
	for i := range 25 {
		o := pending(fmt.Sprintf("CP%04d", i), gateway.Money(100+i))
		o.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		if i%3 == 0 {
			o.Channel = gateway.WeChat
		}
		orders = append(orders, o)
	}
	seed(t, s, orders...)
	for i := range 20 {
		o := orders[i]
		id, err := s.SaveRawNotification(ctx, RawNotification{Channel: o.Channel, ReceivedAt: t0.Add(time.Hour), RemoteAddr: "10.0.0.1",
			Header: http.Header{"Wechatpay-Serial": {"PUB_KEY_ID_1"}}, Body: []byte(fmt.Sprintf("body %d \x00\xff raw bytes", i))})
		if err != nil {
			t.Fatal(err)
		}
		p := Payment{OutTradeNo: o.OutTradeNo, Channel: o.Channel, TradeNo: fmt.Sprint("TR", i), Amount: o.Amount, PaidAt: t0.Add(time.Hour), Via: ViaNotify}
		_, _, err = s.MarkPaidRecording(ctx, p, t0.Add(time.Hour), id, func(PaymentResult, error) Attempt {
			amount := o.Amount
			return Attempt{Kind: AttemptIntake, At: t0.Add(time.Hour), VerifyStatus: Verified, ApplyStatus: ApplyApplied,
				OutTradeNo: o.OutTradeNo, TradeNo: p.TradeNo, Event: gateway.EventPayment, Amount: &amount}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// A rejected notification whose error quotes bytes PostgreSQL's text
	// refuses.
	bad, err := s.SaveRawNotification(ctx, RawNotification{Channel: gateway.Alipay, ReceivedAt: t0, Body: []byte("\xb2\xe2\xca\xd4")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, bad, Attempt{Kind: AttemptIntake, At: t0, VerifyStatus: Rejected, ApplyStatus: ApplyRejected,
		VerifyError: "bad field \"\xb2\xe2\x00\""}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkPaid(ctx, Payment{OutTradeNo: "CP0001", Channel: gateway.WeChat, TradeNo: "DUP1", Amount: 101, Via: ViaNotify}, t0); err != nil {
		t.Fatal(err)
	}
	f, err := s.BeginRefund(ctx, "CP0002", 50, "damaged", "alice", t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRefund(ctx, f.OutRequestNo, RefundOutcome{Status: gateway.RefundSuccess, RefundID: "R1"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginRefund(ctx, "CP0004", 104, "full", "alice", t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "CP0005", OutRequestNo: "CONSOLE1", Amount: 5}, t0); err != nil {
		t.Fatal(err)
	}
	amount := gateway.Money(103)
	if err := s.RecordTradeQuery(ctx, TradeQuery{Channel: gateway.Alipay, OutTradeNo: "CP0003", At: t0, Operator: "bob", State: gateway.TradeState("PAID"),
		Amount: &amount, Latency: 80 * time.Millisecond, Raw: []byte(`{"ok":true}`)}); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if err := s.AppendAudit(ctx, AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Operator: "alice", Role: "admin", Action: "refund",
			Target: fmt.Sprint("CP000", i), Outcome: AuditOK}); err != nil {
			t.Fatal(err)
		}
	}
	// Two runs of one day: the first superseded by the second, which keeps
	// a resolution.
	bill := Bill{Channel: gateway.Alipay, Day: "2026-11-22", Source: "file", FileName: "b.csv", Path: "/kept/bills/alipay/abc.csv", SHA256: "abc", Size: 1234, Lines: 3, CreatedAt: t0}
	findings := []Finding{
		{Channel: gateway.Alipay, Day: "2026-11-22", FirstDay: "2026-11-22", Category: "AMOUNT_MISMATCH", Severity: "critical", Kind: "payment", OutTradeNo: "CP0003", LocalAmount: 103, PlatformAmount: 130},
		{Channel: gateway.Alipay, Day: "2026-11-22", FirstDay: "2026-11-22", Category: "MISSING_LOCAL", Severity: "critical", Kind: "payment", TradeNo: "X9", PlatformAmount: 999},
	}
	run := Run{Channel: gateway.Alipay, Day: "2026-11-22", Operator: "alice", StartedAt: t0, FinishedAt: t0, Orders: 25, Lines: 3,
		Counts: map[string]CategoryTotal{"AMOUNT_MISMATCH": {1, 27}}, Fees: 12, Net: 3000}
	r1, err := s.SaveRun(ctx, bill, run, findings)
	if err != nil {
		t.Fatal(err)
	}
	fs, _ := s.ListFindings(ctx, FindingFilter{RunID: r1.ID})
	if _, err := s.ResolveFinding(ctx, fs[0].ID, "resolved", "asked the platform", "alice", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveRun(ctx, bill, run, findings); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads back everything a copy must carry, through the store's API.
func snapshot(t *testing.T, s *Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	page, err := s.ListOrders(ctx, OrderFilter{}, nil, Older, 1000)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := s.ListNotifications(ctx, NotificationFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var attempts [][]Attempt
	for _, n := range notes {
		a, err := s.Attempts(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		attempts = append(attempts, a)
	}
	refunds, _ := s.ListRefunds(ctx, RefundFilter{}, 0, 1000)
	audit, _ := s.ListAudit(ctx, AuditFilter{}, 0, 1000)
	queries, _ := s.TradeQueries(ctx, "CP0003")
	dups, _ := s.DuplicatePayments(ctx, "CP0001")
	runs, _ := s.ListRuns(ctx, 100)
	var findings [][]Finding
	var full []Run
	for _, r := range runs {
		f, _ := s.ListFindings(ctx, FindingFilter{RunID: r.ID})
		findings = append(findings, f)
		g, err := s.GetRun(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		full = append(full, g)
	}
	counts := map[OrderStatus]int{}
	for _, st := range OrderStatuses {
		counts[st], _ = s.CountOrders(ctx, OrderFilter{Status: st})
	}
	return map[string]any{"orders": page.Orders, "notifications": notes, "attempts": attempts, "refunds": refunds, "audit": audit,
		"queries": queries, "duplicates": dups, "runs": full, "findings": findings, "counts": counts}
}

// TestCopyToPostgresIsResumableAndVerified: a copy cut off part way (here
// after its first chunks) is run again and finishes; what the PostgreSQL
// store then shows is what the SQLite one showed, ids included, and the
// PostgreSQL store goes on from there.
func TestCopyToPostgresIsResumableAndVerified(t *testing.T) {
	src := openTemp(t)
	fillEveryTable(t, src)
	dst := openDSN(t, dbtest.PostgresDB(t))
	ctx := context.Background()

	copyChunk = 4
	t.Cleanup(func() { copyChunk = 20000 })
	cut, cancel := context.WithCancel(ctx)
	_, err := src.CopyTo(cut, dst, func(p CopyProgress) {
		if p.Table == "notifications" && p.Copied >= 8 {
			cancel() // as if the process died here
		}
	})
	if err == nil {
		t.Fatal("the interrupted copy reported success")
	}
	var already int64
	rep, err := src.CopyTo(ctx, dst, func(p CopyProgress) {
		if p.Table == "notifications" {
			already = p.AlreadyThere
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if already < 8 {
		t.Fatalf("the second copy found %d notifications already there; the first had copied 8 or more", already)
	}
	var sanitized int64
	for _, p := range rep.Tables {
		sanitized += p.SanitizedTexts
	}
	if sanitized != 2 || rep.Sums["orders.amount"] == 0 || rep.Sums["refunds.amount"] != 159 {
		t.Fatalf("report %+v", rep)
	}

	a, b := snapshot(t, src), snapshot(t, dst)
	// The one text PostgreSQL refuses arrives with its bad bytes replaced;
	// the raw body is bytes on both sides and arrives exactly.
	fixText := func(m map[string]any) {
		notes := m["notifications"].([]Notification)
		for i := range notes {
			notes[i].VerifyError, notes[i].ApplyDetail = pgSafe(notes[i].VerifyError), pgSafe(notes[i].ApplyDetail)
		}
		for _, as := range m["attempts"].([][]Attempt) {
			for i := range as {
				as[i].Detail = pgSafe(as[i].Detail)
			}
		}
	}
	fixText(a)
	for k := range a {
		if !reflect.DeepEqual(a[k], b[k]) {
			ja, _ := json.MarshalIndent(a[k], "", " ")
			jb, _ := json.MarshalIndent(b[k], "", " ")
			t.Errorf("%s differs after the copy:\nsqlite %s\npostgres %s", k, ja, jb)
		}
	}
	if bodies := b["notifications"].([]Notification); string(bodies[len(bodies)-1].Body) != "body 0 \x00\xff raw bytes" {
		t.Errorf("raw body %q", bodies[len(bodies)-1].Body)
	}

	// The copy goes on: new rows get ids above the copied ones.
	seed(t, dst, pending("AFTER1", 100))
	o, _ := dst.GetOrder(ctx, "AFTER1")
	if o.ID != 26 {
		t.Errorf("the first order after the copy has id %d; want 26", o.ID)
	}

	// A destination holding other data is refused, and left as it was.
	other := openDSN(t, dbtest.PostgresDB(t))
	seed(t, other, pending("ELSEWHERE", 100))
	if _, err := src.CopyTo(ctx, other, nil); !errors.Is(err, ErrCopyTarget) {
		t.Fatalf("copy into a database with other orders: %v", err)
	}
	if n, _ := other.CountOrders(ctx, OrderFilter{}); n != 1 {
		t.Fatalf("the refused copy left %d orders", n)
	}
}
