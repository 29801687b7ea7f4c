package cli

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// TestNotifyPrune: `paydesk notify prune --rejected --before D` removes
// the rejected callbacks (and overflow counts) from before D, keeps the
// verified ones, refuses a D within the last week (exit 2) and a role
// other than admin (exit 1); `notify list` states what the cap counted.
func TestNotifyPrune(t *testing.T) {
	t.Parallel()
	cfg := testWorkspace(t, "admin")
	db := filepath.Join(filepath.Dir(cfg), "paydesk.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old := time.Now().AddDate(0, 0, -10)
	for i, v := range []store.VerifyStatus{store.Rejected, store.Rejected, store.Verified} {
		id, err := st.SaveRawNotification(ctx, store.RawNotification{Channel: gateway.Alipay, ReceivedAt: old.Add(time.Duration(i) * time.Minute),
			RemoteAddr: "198.51.100.7", Header: http.Header{}, Body: []byte("sign=x")})
		if err != nil {
			t.Fatal(err)
		}
		apply := store.ApplyRejected
		if v == store.Verified {
			apply = store.ApplyUnknownOrder
		}
		if err := st.RecordAttempt(ctx, id, store.Attempt{Kind: store.AttemptIntake, At: old, VerifyStatus: v, ApplyStatus: apply}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		st.CountOverflow(ctx, "198.51.100.7", gateway.Alipay, old, 60000)
		st.CountOverflow(ctx, "198.51.100.8", gateway.Alipay, time.Now(), 100)
	}
	st.Close()

	code, out, _ := runCLI(t, "--config", cfg, "notify", "list", "--since", old.AddDate(0, 0, -1).Format(time.DateOnly))
	if code != 0 || !strings.Contains(out, "and 6 unverified callback(s) (180300 bytes) from 2 sender(s) over the per-sender cap") {
		t.Fatalf("notify list: %d %q", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"notify", "prune", "--before", "2026-01-01"}, 2, "give --rejected"},
		{[]string{"notify", "prune", "--rejected"}, 2, "--before D is required"},
		{[]string{"notify", "prune", "--rejected", "--before", time.Now().Format(time.DateOnly)}, 2, "rejected callbacks of the last 7 days are kept"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--config", cfg}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d %q; want %d %q", c.args, code, errOut, c.code, c.msg)
		}
	}
	cutoff := time.Now().AddDate(0, 0, -8).Format(time.DateOnly)
	code, out, errOut := runCLI(t, "--config", cfg, "notify", "prune", "--rejected", "--before", cutoff)
	if code != 0 || !strings.Contains(out, "removed 2 rejected callback(s)") || !strings.Contains(out, "and 1 overflow count(s)") {
		t.Fatalf("admin prune: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "--config", cfg, "notify", "list", "--json", "--since", old.AddDate(0, 0, -1).Format(time.DateOnly))
	if code != 0 || strings.Count(out, `"id"`) != 1 || !strings.Contains(out, `"verify_status": "VERIFIED"`) {
		t.Fatalf("left after the prune: %q", out)
	}
	code, out, _ = runCLI(t, "--config", cfg, "notify", "list", "--since", old.AddDate(0, 0, -1).Format(time.DateOnly))
	if !strings.Contains(out, "and 3 unverified callback(s) (300 bytes) from 1 sender(s)") {
		t.Fatalf("the old overflow counts were not pruned: %q", out)
	}

	eng := testWorkspace(t, "engineer")
	code, _, errOut = runCLI(t, "--config", eng, "--db", db, "notify", "prune", "--rejected", "--before", cutoff)
	if code != 1 || !strings.Contains(errOut, "may not prune") {
		t.Fatalf("engineer prune: %d %q", code, errOut)
	}
}
