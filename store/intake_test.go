package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/internal/dbtest"
)

func saveRaw(t *testing.T, s *Store, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		id, err := s.SaveRawNotification(context.Background(), RawNotification{Channel: gateway.Alipay, ReceivedAt: t0, Body: []byte(fmt.Sprint("n", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func interrupted(t *testing.T, s *Store) []int64 {
	t.Helper()
	var ids []int64
	_, err := s.EachInterrupted(context.Background(), func(n Notification) error {
		ids = append(ids, n.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestSweepLeavesALiveReplicasCallbacksAlone: two `serve` processes on one
// PostgreSQL. What one has stored and not yet decided is not the other's to
// finish while the first lives; once it is gone, it is, exactly once even
// when two replicas start at the same moment.
func TestSweepLeavesALiveReplicasCallbacksAlone(t *testing.T) {
	dsn := dbtest.PostgresDB(t)
	ctx := context.Background()
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	for _, s := range []*Store{a, b} {
		if err := s.ClaimIntake(ctx); err != nil {
			t.Fatal(err)
		}
	}
	inFlight := saveRaw(t, a, 5)
	mine := saveRaw(t, b, 2)
	if got := interrupted(t, b); len(got) != 0 {
		t.Fatalf("b's sweep took %v while a lives (a's in flight: %v, b's own: %v)", got, inFlight, mine)
	}
	if got := interrupted(t, a); len(got) != 0 {
		t.Fatalf("a's sweep took %v while b lives", got)
	}
	// a dies: its connections go, and its lock with them.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Two replicas start at once and sweep together: each of a's callbacks
	// is handed to exactly one of them.
	c, d := openDSN(t, dsn), openDSN(t, dsn)
	var mu sync.Mutex
	handed := map[int64]int{}
	var wg sync.WaitGroup
	for _, s := range []*Store{c, d} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.ClaimIntake(ctx); err != nil {
				t.Error(err)
				return
			}
			_, err := s.EachInterrupted(ctx, func(n Notification) error {
				mu.Lock()
				handed[n.ID]++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // deciding takes a while
				return s.RecordAttempt(ctx, n.ID, Attempt{Kind: AttemptIntake, At: t0, VerifyStatus: Rejected, ApplyStatus: ApplyRejected})
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(handed) != len(inFlight) {
		t.Fatalf("the sweeps finished %v; want a's %v (and not b's %v)", handed, inFlight, mine)
	}
	for _, id := range inFlight {
		if handed[id] != 1 {
			t.Fatalf("notification %d was finished %d times", id, handed[id])
		}
	}
}

// TestOneIntakePerSQLiteFile: SQLite serves one host; a second taker of the
// same file is refused with a pointer to PostgreSQL, and every other
// owner's undecided callbacks are a dead process's.
func TestOneIntakePerSQLiteFile(t *testing.T) {
	path := dbtest.SQLiteFile(t)
	ctx := context.Background()
	dead := openDSN(t, path)
	saveRaw(t, dead, 3) // stored by a process that never claimed: owner 0
	a := openDSN(t, path)
	if err := a.ClaimIntake(ctx); err != nil {
		t.Fatal(err)
	}
	own := saveRaw(t, a, 2)
	b := openDSN(t, path)
	if err := b.ClaimIntake(ctx); !errors.Is(err, ErrIntakeTaken) {
		t.Fatalf("a second intake on one SQLite file: %v", err)
	}
	if got := interrupted(t, a); len(got) != 3 {
		t.Fatalf("a's sweep took %v; want the 3 of the dead process, not its own %v", got, own)
	}
	a.Close()
	if err := b.ClaimIntake(ctx); err != nil {
		t.Fatalf("once the first taker is gone: %v", err)
	}
	if got := interrupted(t, b); len(got) != 5 {
		t.Fatalf("b's sweep took %v; want all 5", got)
	}
}

// TestUnverifiedTrafficOnBothEngines: the cap's counts (an upsert), the
// completion of a truncated body, and the prune of what never verified
// run the same on both engines.
func TestUnverifiedTrafficOnBothEngines(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for range 3 {
			if err := s.CountOverflow(ctx, "203.0.113.9", gateway.Alipay, t0, 1000); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CountOverflow(ctx, "198.51.100.1", gateway.WeChat, t0.Add(time.Minute), 10); err != nil {
			t.Fatal(err)
		}
		if o, err := s.OverflowSince(ctx, t0); err != nil || o.Requests != 4 || o.Bytes != 3010 || o.Senders != 2 {
			t.Fatalf("overflow %+v %v", o, err)
		}
		cut, err := s.SaveRawNotification(ctx, RawNotification{Channel: gateway.Alipay, ReceivedAt: t0, Body: []byte("abc"), Size: 9})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := s.GetNotification(ctx, cut); n.TruncatedFrom != 9 {
			t.Fatalf("truncated from %d", n.TruncatedFrom)
		}
		if err := s.CompleteRaw(ctx, cut, http.Header{"X": {"y"}}, []byte("abcdefghi")); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.GetNotification(ctx, cut); n.TruncatedFrom != 0 || string(n.Body) != "abcdefghi" {
			t.Fatalf("completed %+v", n)
		}
		bad, _ := s.SaveRawNotification(ctx, RawNotification{Channel: gateway.Alipay, ReceivedAt: t0, Body: []byte("forged")})
		if err := s.RecordAttempt(ctx, bad, Attempt{Kind: AttemptIntake, At: t0, VerifyStatus: Rejected, ApplyStatus: ApplyRejected}); err != nil {
			t.Fatal(err)
		}
		p, err := s.PruneRejected(ctx, t0.Add(time.Hour))
		if err != nil || p.Notifications != 1 || p.Bytes == 0 || p.Overflow != 2 {
			t.Fatalf("pruned %+v %v", p, err)
		}
		if _, err := s.GetNotification(ctx, cut); err != nil {
			t.Fatalf("an unverified but not rejected callback was pruned: %v", err)
		}
	})
}
