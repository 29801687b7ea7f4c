package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// paidOrder seeds an order and pays it.
func paidOrder(t *testing.T, s *Store, no string, amount gateway.Money) {
	t.Helper()
	seed(t, s, pending(no, amount))
	if _, err := s.MarkPaid(context.Background(), Payment{OutTradeNo: no, Channel: gateway.Alipay, TradeNo: "T" + no, Amount: amount, Via: ViaNotify}, t0); err != nil {
		t.Fatal(err)
	}
}

func TestAbnormalRefundHoldsTheCeilingUntilItSucceeds(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		paidOrder(t, s, "AB1", 1000)
		f, err := s.BeginRefund(ctx, "AB1", 700, "r", "alice", t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishRefund(ctx, f.OutRequestNo, RefundOutcome{Status: gateway.RefundAbnormal, Error: "platform: ABNORMAL"}, t0); err != nil {
			t.Fatal(err)
		}
		c, _, _ := s.RefundCeiling(ctx, "AB1")
		if c.Abnormal != 700 || c.Pending != 0 || c.Remaining() != 300 {
			t.Fatalf("ceiling with an ABNORMAL refund: %+v", c)
		}
		if _, err := s.BeginRefund(ctx, "AB1", 301, "more", "alice", t0); !errors.Is(err, ErrRefundCeiling) {
			t.Fatalf("a refund past the ABNORMAL one's hold: %v", err)
		}
		// ABNORMAL is never taken as FAILED: its money left.
		if _, err := s.FinishRefund(ctx, f.OutRequestNo, RefundOutcome{Status: gateway.RefundFailed}, t0); !errors.Is(err, ErrRefundNotPending) {
			t.Fatalf("ABNORMAL → FAILED: %v", err)
		}
		if _, _, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "AB1", OutRequestNo: f.OutRequestNo, Status: gateway.RefundFailed}, t0); !errors.Is(err, ErrRefundConflict) {
			t.Fatalf("REFUND.CLOSED for an ABNORMAL refund: %v", err)
		}
		// Paid out after handling: SUCCESS, and the order's refunded total.
		out, got, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "AB1", OutRequestNo: f.OutRequestNo, RefundID: "W1", RefundedAt: t0}, t0)
		if err != nil || out != PlatformRefundFinished || got.Status != gateway.RefundSuccess {
			t.Fatalf("ABNORMAL → SUCCESS: %s %+v %v", out, got, err)
		}
		if o, _ := s.GetOrder(ctx, "AB1"); o.Refunded != 700 || o.Status != OrderPartiallyRefunded {
			t.Fatalf("order: %+v", o)
		}
		if c, _, _ := s.RefundCeiling(ctx, "AB1"); c.Abnormal != 0 || c.Remaining() != 300 {
			t.Fatalf("ceiling after: %+v", c)
		}
	})
}

func TestClosedRefundReportsFailAPendingRefundOnly(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		paidOrder(t, s, "CL1", 1000)
		f, _ := s.BeginRefund(ctx, "CL1", 1000, "r", "alice", t0)
		out, got, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "CL1", OutRequestNo: f.OutRequestNo, Status: gateway.RefundFailed, Note: "platform: CLOSED"}, t0)
		if err != nil || out != PlatformRefundFinished || got.Status != gateway.RefundFailed || got.Error != "platform: CLOSED" {
			t.Fatalf("CLOSED: %s %+v %v", out, got, err)
		}
		if c, _, _ := s.RefundCeiling(ctx, "CL1"); c.Remaining() != 1000 {
			t.Fatalf("ceiling after CLOSED: %+v", c)
		}
		// A closed refund paydesk never had changes nothing.
		out, _, err = s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "CL1", OutRequestNo: "CONSOLE-X", Status: gateway.RefundFailed}, t0)
		if err != nil || out != PlatformRefundIgnored {
			t.Fatalf("unknown CLOSED: %s %v", out, err)
		}
		if rs, _ := s.ListRefunds(ctx, RefundFilter{OutTradeNo: "CL1"}, 0, 10); len(rs) != 1 {
			t.Fatalf("refunds: %+v", rs)
		}
		// An ABNORMAL refund made in the console holds the ceiling too.
		out, got, err = s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "CL1", OutRequestNo: "CONSOLE-AB", Status: gateway.RefundAbnormal, Amount: 400}, t0)
		if err != nil || out != PlatformRefundAdded || got.Status != gateway.RefundAbnormal || !got.NeedsReview {
			t.Fatalf("console ABNORMAL: %s %+v %v", out, got, err)
		}
		if c, _, _ := s.RefundCeiling(ctx, "CL1"); c.Remaining() != 600 {
			t.Fatalf("ceiling: %+v", c)
		}
		if _, _, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "CL1", OutRequestNo: "CONSOLE-AB2", Status: gateway.RefundAbnormal, Amount: 601}, t0); !errors.Is(err, ErrRefundCeiling) {
			t.Fatalf("an ABNORMAL refund past the ceiling: %v", err)
		}
	})
}

// TestRefundAndCloseApplyWithTheirAttempt: the refund or close a callback
// makes and the attempt that records it are one transaction. When the
// attempt cannot be written (here: the notification row does not exist)
// the refund does not move and the order does not close; when the report
// is refused, the attempt is recorded and nothing else changes.
func TestRefundAndCloseApplyWithTheirAttempt(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		paidOrder(t, s, "TX1", 1000)
		seed(t, s, pending("TX2", 500))
		f, _ := s.BeginRefund(ctx, "TX1", 300, "r", "alice", t0)
		attempt := Attempt{Kind: AttemptIntake, At: t0, VerifyStatus: Verified, ApplyStatus: ApplyApplied}

		const missing = 999999
		_, _, refused, err := s.RecordPlatformRefundRecording(ctx, PlatformRefund{OutTradeNo: "TX1", OutRequestNo: f.OutRequestNo}, t0, missing,
			func(PlatformRefundOutcome, Refund, error) Attempt { return attempt })
		if err == nil || refused != nil {
			t.Fatalf("recording against a missing notification: refused %v, err %v", refused, err)
		}
		if got, _ := s.GetRefund(ctx, f.OutRequestNo); got.Status != gateway.RefundPending {
			t.Fatalf("the refund moved without its attempt: %s", got.Status)
		}
		if _, _, err := s.MarkClosedRecording(ctx, "TX2", t0, missing, func(bool, error) Attempt { return attempt }); err == nil {
			t.Fatal("closed without recording")
		}
		if o, _ := s.GetOrder(ctx, "TX2"); o.Status != OrderPending {
			t.Fatalf("the order closed without its attempt: %s", o.Status)
		}

		id, err := s.SaveRawNotification(ctx, RawNotification{Channel: gateway.WeChat, ReceivedAt: t0, Body: []byte("{}")})
		if err != nil {
			t.Fatal(err)
		}
		out, got, refused, err := s.RecordPlatformRefundRecording(ctx, PlatformRefund{OutTradeNo: "TX1", OutRequestNo: f.OutRequestNo, Status: gateway.RefundAbnormal}, t0, id,
			func(out PlatformRefundOutcome, r Refund, refused error) Attempt {
				a := attempt
				a.Detail, a.VerifyKey = string(out)+" "+string(r.Status), "platform certificate ABC"
				return a
			})
		if err != nil || refused != nil || out != PlatformRefundFinished || got.Status != gateway.RefundAbnormal {
			t.Fatalf("applied: %s %+v %v %v", out, got, refused, err)
		}
		n, _ := s.GetNotification(ctx, id)
		as, _ := s.Attempts(ctx, id)
		if n.Attempts != 1 || len(as) != 1 || as[0].Detail != "FINISHED ABNORMAL" || as[0].VerifyKey != "platform certificate ABC" || n.VerifyKey != "platform certificate ABC" {
			t.Fatalf("notification %+v, attempts %+v", n, as)
		}
		// A refused report: recorded, the refund untouched.
		_, _, refused, err = s.RecordPlatformRefundRecording(ctx, PlatformRefund{OutTradeNo: "TX2", OutRequestNo: f.OutRequestNo}, t0, id,
			func(_ PlatformRefundOutcome, _ Refund, refused error) Attempt {
				a := attempt
				a.ApplyStatus, a.Detail = ApplyAmountMismatch, refused.Error()
				return a
			})
		if err != nil || !errors.Is(refused, ErrRefundConflict) {
			t.Fatalf("refused: %v %v", refused, err)
		}
		if as, _ := s.Attempts(ctx, id); len(as) != 2 || as[1].ApplyStatus != ApplyAmountMismatch {
			t.Fatalf("attempts: %+v", as)
		}
		if got, _ := s.GetRefund(ctx, f.OutRequestNo); got.Status != gateway.RefundAbnormal {
			t.Fatalf("refund after a refused report: %s", got.Status)
		}
	})
}

func TestMigrationKeepsRefundsAndAcceptsAbnormal(t *testing.T) {
	// A database at schema 3 (before ABNORMAL), with an order and a refund,
	// made with the migrations of that time.
	path := storeAtSchema(t, 3,
		`INSERT INTO orders (out_trade_no, channel, amount, status, trade_no, refunded, created_at, updated_at) VALUES ('MG1', 'wechat', 1000, 'PAID', 'W1', 0, 1, 1)`,
		`INSERT INTO refunds (out_request_no, out_trade_no, channel, amount, reason, status, created_at, updated_at) VALUES ('RFOLD1', 'MG1', 'wechat', 250, 'kept', 'PENDING', 1, 1)`,
	)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	got, err := s.GetRefund(ctx, "RFOLD1")
	if err != nil || got.Amount != 250 || got.Reason != "kept" || got.Status != gateway.RefundPending {
		t.Fatalf("refund after migrating: %+v %v", got, err)
	}
	if _, err := s.FinishRefund(ctx, "RFOLD1", RefundOutcome{Status: gateway.RefundAbnormal}, t0); err != nil {
		t.Fatalf("ABNORMAL after migrating: %v", err)
	}
	if c, _, _ := s.RefundCeiling(ctx, "MG1"); c.Abnormal != 250 || c.Remaining() != 750 {
		t.Fatalf("ceiling: %+v", c)
	}
}

// TestRefundsMovedBetween: a refund's money leaves the account when it
// succeeds, or when it goes ABNORMAL (recorded as AbnormalAt, kept when it
// is paid out later): the fund-flow listing of a day is by that time. A
// console refund first reported ABNORMAL is dated so too.
func TestRefundsMovedBetween(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		day1, day2 := t0, t0.Add(24*time.Hour)
		paidOrder(t, s, "MV1", 1000)
		plain, _ := s.BeginRefund(ctx, "MV1", 100, "r", "alice", day1)
		abn, _ := s.BeginRefund(ctx, "MV1", 200, "r", "alice", day1)
		pending, _ := s.BeginRefund(ctx, "MV1", 300, "r", "alice", day1)
		if _, err := s.FinishRefund(ctx, plain.OutRequestNo, RefundOutcome{Status: gateway.RefundSuccess, RefundedAt: day1}, day1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishRefund(ctx, abn.OutRequestNo, RefundOutcome{Status: gateway.RefundAbnormal}, day1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "MV1", OutRequestNo: "CONSOLE-ABN", Amount: 50, Status: gateway.RefundAbnormal}, day1); err != nil {
			t.Fatal(err)
		}
		moved := func(start time.Time) []string {
			t.Helper()
			rs, err := s.RefundsMovedBetween(ctx, gateway.Alipay, start, start.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				out = append(out, r.OutRequestNo)
			}
			slices.Sort(out)
			return out
		}
		want1 := []string{abn.OutRequestNo, plain.OutRequestNo, "CONSOLE-ABN"}
		slices.Sort(want1)
		if got := moved(day1); !slices.Equal(got, want1) {
			t.Fatalf("day 1 moved %v, want %v (not the pending %s)", got, want1, pending.OutRequestNo)
		}
		// Paid out on day 2: it moved on day 1, and nothing more.
		f, _, err := s.RecordPlatformRefund(ctx, PlatformRefund{OutTradeNo: "MV1", OutRequestNo: abn.OutRequestNo, RefundID: "W2", RefundedAt: day2}, day2)
		if err != nil || f != PlatformRefundFinished {
			t.Fatalf("payout: %s %v", f, err)
		}
		got, _ := s.GetRefund(ctx, abn.OutRequestNo)
		if got.Status != gateway.RefundSuccess || !got.AbnormalAt.Equal(day1) || !got.RefundedAt.Equal(day2) || !got.MovedAt().Equal(day1) {
			t.Fatalf("paid out after ABNORMAL: %+v", got)
		}
		if got := moved(day2); len(got) != 0 {
			t.Fatalf("day 2 moved %v", got)
		}
		if got := moved(day1); !slices.Equal(got, want1) {
			t.Fatalf("day 1 after the payout moved %v, want %v", got, want1)
		}
	})
}
