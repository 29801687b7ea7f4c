package serve_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/testenv"
	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

// storedRaw is how many bytes of raw requests the store holds.
func storedRaw(t *testing.T, dir string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "paydesk.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(`SELECT coalesce(sum(length(body) + length(headers)), 0) FROM notifications`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnverifiedTrafficIsCappedPerSender: 500 junk callbacks of 60 KB
// from one address (30 MB) add a bounded amount to the store: the first
// whole, then the first bytes of the next 20 (with the size each arrived
// with), then only a count. A real payment from the same address, over
// its cap, is still stored whole and applied; a replay of a callback kept
// as its first bytes says why it cannot verify.
func TestUnverifiedTrafficIsCappedPerSender(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	ctx := context.Background()
	junk := bytes.Repeat([]byte("notify_id=x&sign=forged&"), 60<<10/24)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for range 500 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := http.Post(env.ServeURL+"/notify/alipay", "application/x-www-form-urlencoded", bytes.NewReader(junk))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK { // Alipay's protocol: 200 "fail"
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()

	list, err := env.Store.ListNotifications(ctx, store.NotificationFilter{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	whole, first := 0, 0
	for _, n := range list {
		if n.VerifyStatus != store.Rejected {
			t.Errorf("junk %d is %s", n.ID, n.VerifyStatus)
		}
		switch {
		case n.TruncatedFrom == 0 && len(n.Body) == len(junk):
			whole++
		case n.TruncatedFrom == int64(len(junk)) && len(n.Body) == 512 && strings.Contains(n.ApplyDetail, "kept the first 512 of"):
			first++
		default:
			t.Errorf("junk %d: %d bytes kept of %d", n.ID, len(n.Body), n.TruncatedFrom)
		}
	}
	over, err := env.Service.UnverifiedOverflow(ctx, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The minute may turn during the flood: a second window is allowed.
	if whole < 1 || whole > 2 || first < 20 || first > 40 || int64(whole+first)+over.Requests != 500 || over.Senders != 1 {
		t.Fatalf("%d whole, %d first bytes, %+v counted; want 1, 20 and the rest of 500 counted", whole, first, over)
	}
	raw := storedRaw(t, env.Dir)
	if raw > 200<<10 {
		t.Fatalf("500 junk callbacks added %d bytes of raw requests; want under 200 KB", raw)
	}
	t.Logf("500 × %d bytes of junk: %d bytes stored, %d counted", len(junk), raw, over.Requests)

	// A real payment from the same address (the sandbox delivers from
	// loopback too), with its sender over its cap.
	o := testenv.Order{OutTradeNo: "PDCAPREAL00001", Channel: gateway.Alipay, Amount: 1200}
	env.ImportOrders(t, o)
	env.Pay(t, o, time.Time{})
	env.WaitDelivered(t, time.Minute)
	got, err := env.Store.GetOrder(ctx, o.OutTradeNo)
	if err != nil || got.Status != store.OrderPaid {
		t.Fatalf("a real payment over the cap: %+v %v", got, err)
	}
	ns, _ := env.Store.ListNotifications(ctx, store.NotificationFilter{OutTradeNo: o.OutTradeNo}, 0, 10)
	if len(ns) != 1 || ns[0].TruncatedFrom != 0 || ns[0].ApplyStatus != store.ApplyApplied || !bytes.Contains(ns[0].Body, []byte("sign=")) {
		t.Fatalf("the real callback is not stored whole and applied: %+v", ns)
	}

	for _, n := range list {
		if n.TruncatedFrom > 0 {
			r, err := env.Service.ReplayNotification(ctx, n.ID)
			if err != nil || r.Apply != store.ApplyRejected || !strings.Contains(r.Detail, "only the first 512 of") {
				t.Fatalf("replay of a callback kept as its first bytes: %+v %v", r, err)
			}
			break
		}
	}
}

// TestPruneRejected: `notify prune` (ops.PruneRejected) removes old
// callbacks that never verified and their attempts and counts, keeps every
// verified one, refuses a cutoff within the last week, is admin only, and
// is audited with what it removed.
func TestPruneRejected(t *testing.T) {
	env := testenv.New(t, testenv.Options{Serve: true})
	ctx := context.Background()
	o := testenv.Order{OutTradeNo: "PDPRUNE0000001", Channel: gateway.WeChat, Amount: 300}
	env.ImportOrders(t, o)
	env.Pay(t, o, time.Time{})
	env.WaitDelivered(t, time.Minute)
	for range 30 {
		resp, err := http.Post(env.ServeURL+"/notify/wechat", "application/json", strings.NewReader(`{"id":"forged","resource":{}}`+strings.Repeat(" ", 1<<10)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	before, _ := env.Store.CountNotifications(ctx, store.NotificationFilter{})
	if before != 31 {
		t.Fatalf("%d stored, want 31", before)
	}

	// Today's rejections are too recent for any prune.
	if _, err := env.Service.PruneRejected(ctx, time.Now().Add(time.Hour)); !errors.Is(err, ops.ErrPruneTooRecent) {
		t.Fatalf("prune of today: %v", err)
	}
	for _, role := range []ops.Role{ops.Viewer, ops.Support, ops.Engineer} {
		svc, _ := ops.New(ops.Options{Store: env.Store, Operator: ops.Operator{Name: "eve", Role: role}})
		if _, err := svc.PruneRejected(ctx, time.Now().AddDate(0, 0, -8)); !errors.Is(err, ops.ErrForbidden) {
			t.Fatalf("%s pruned: %v", role, err)
		}
	}
	// Eight days on, as the admin.
	later, _ := ops.New(ops.Options{Store: env.Store, Operator: ops.Operator{Name: "root", Role: ops.Admin},
		Now: func() time.Time { return time.Now().AddDate(0, 0, 8) }})
	p, err := later.PruneRejected(ctx, time.Now().Add(time.Minute))
	if err != nil || p.Notifications != 30 || p.Bytes < 30<<10 {
		t.Fatalf("prune: %+v %v", p, err)
	}
	left, _ := env.Store.ListNotifications(ctx, store.NotificationFilter{}, 0, 100)
	if len(left) != 1 || left[0].OutTradeNo != o.OutTradeNo || left[0].VerifyStatus != store.Verified {
		t.Fatalf("left after the prune: %+v", left)
	}
	if a, _ := env.Store.Attempts(ctx, left[0].ID); len(a) != 1 {
		t.Fatalf("the verified callback's attempts: %+v", a)
	}
	audit, _ := later.ListAudit(ctx, store.AuditFilter{Action: string(ops.ActPrune)}, 0, 10)
	if len(audit) != 5 || audit[0].Outcome != store.AuditOK || audit[0].Operator != "root" || !strings.Contains(audit[0].Detail, "30 notifications") ||
		audit[1].Outcome != store.AuditDenied || audit[4].Outcome != store.AuditError {
		t.Fatalf("audit: %+v", audit)
	}
}
