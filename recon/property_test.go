package recon_test

import (
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/recon"
)

// TestEveryItemExactlyOnce: on generated days with a third of the orders
// perturbed across every fate, each line ends in its planned category, each
// local booking without a line is in exactly one finding, nothing else is
// reported, and the counts add up to exactly the lines plus those bookings.
// The same records in another order give the same report.
func TestEveryItemExactlyOnce(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		s := generate(3000, 3, seed)
		cats, res := run(t, s.input(), s.lines)

		want := map[recon.Category]int{}
		for i, c := range cats {
			if c != s.lineWant[i] {
				t.Fatalf("seed %d: line %d (%s %s) ended %s, want %s",
					seed, s.lines[i].Line, s.lines[i].OutTradeNo, s.lines[i].TradeNo, c, s.lineWant[i])
			}
			want[c]++
		}
		for _, c := range s.localWant {
			want[c]++
		}

		lineSeen := map[int]bool{}
		localSeen := map[string]bool{}
		for _, f := range res.Findings {
			if f.Category == recon.Matched {
				t.Fatalf("seed %d: a MATCHED finding %+v", seed, f)
			}
			if f.Side == recon.SideLocal {
				k := localKey(f)
				if s.localWant[k] != f.Category || localSeen[k] {
					t.Fatalf("seed %d: unexpected or repeated local finding %s %s", seed, f.Category, k)
				}
				localSeen[k] = true
				continue
			}
			if f.BillLine < 1 || f.BillLine > len(s.lines) || lineSeen[f.BillLine] || s.lineWant[f.BillLine-1] != f.Category {
				t.Fatalf("seed %d: finding %+v does not belong to exactly one line", seed, f)
			}
			lineSeen[f.BillLine] = true
		}
		if len(localSeen) != len(s.localWant) {
			t.Fatalf("seed %d: %d of %d local-only bookings reported", seed, len(localSeen), len(s.localWant))
		}
		total := 0
		for _, c := range recon.Categories {
			total += res.Counts[c].Count
			if res.Counts[c].Count != want[c] {
				t.Errorf("seed %d: Counts[%s] = %d, want %d", seed, c, res.Counts[c].Count, want[c])
			}
		}
		if total != len(s.lines)+len(s.localWant) {
			t.Errorf("seed %d: %d items counted, want %d lines + %d local", seed, total, len(s.lines), len(s.localWant))
		}
		for _, c := range []recon.Category{recon.Matched, recon.MissingLocal, recon.UnpaidLocal, recon.MissingPlatform,
			recon.AmountMismatch, recon.RefundMismatch, recon.DuplicatePayment, recon.NotifyMissing,
			recon.NotifyRejected, recon.CrossDay} {
			if want[c] == 0 {
				t.Errorf("seed %d: the generator made no %s", seed, c)
			}
		}
		// Amounts: the signed sum over all categories is the bill's net plus
		// the local-only bookings.
		var sum, localOnly gateway.Money
		for _, c := range recon.Categories {
			sum += res.Counts[c].Amount
		}
		for _, f := range res.Findings {
			if f.Side == recon.SideLocal {
				if f.Kind == gateway.LineRefund {
					localOnly -= f.LocalAmount
				} else {
					localOnly += f.LocalAmount
				}
			}
		}
		if sum != res.Computed.Net+localOnly {
			t.Errorf("seed %d: category amounts sum to %s, want bill net %s + local-only %s", seed, sum, res.Computed.Net, localOnly)
		}

		// Report order: severity, then category, then out_trade_no.
		for i := 1; i < len(res.Findings); i++ {
			a, b := res.Findings[i-1], res.Findings[i]
			rank := func(s recon.Severity) int {
				return map[recon.Severity]int{recon.Critical: 0, recon.Warning: 1, recon.Info: 2}[s]
			}
			ca, cb := slices.Index(recon.Categories, a.Category), slices.Index(recon.Categories, b.Category)
			if rank(a.Severity) > rank(b.Severity) ||
				(a.Severity == b.Severity && (ca > cb || (ca == cb && a.OutTradeNo > b.OutTradeNo))) {
				t.Fatalf("seed %d: findings out of order at %d: %s %s %s before %s %s %s", seed, i,
					a.Severity, a.Category, a.OutTradeNo, b.Severity, b.Category, b.OutTradeNo)
			}
		}

		// Same records, the store returning them in another order.
		rng := rand.New(rand.NewPCG(seed, 99))
		orders := slices.Clone(s.orders)
		refunds := slices.Clone(s.refunds)
		rng.Shuffle(len(orders), func(i, j int) { orders[i], orders[j] = orders[j], orders[i] })
		rng.Shuffle(len(refunds), func(i, j int) { refunds[i], refunds[j] = refunds[j], refunds[i] })
		in := s.input()
		in.Orders, in.Refunds = orders, refunds
		_, again := run(t, in, s.lines)
		if !slices.Equal(res.Findings, again.Findings) || !slices.Equal(res.Carry, again.Carry) {
			t.Errorf("seed %d: the report depends on the order of the records", seed)
		}
	}
}

// A line that matches allocates nothing, fed alone or in a batch: the
// matcher's cost per line is an index probe and a few comparisons, whatever
// the bill's length.
func TestMatchedLineDoesNotAllocate(t *testing.T) {
	s := generate(6000, 0, 1)
	m, err := recon.NewMatcher(s.input())
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	allocs := testing.AllocsPerRun(2000, func() {
		if c, err := m.Line(&s.lines[k]); err != nil || c != recon.Matched {
			t.Fatalf("line %d: %s %v", k, c, err)
		}
		k++
	})
	if allocs != 0 {
		t.Errorf("Line: %.2f allocations per matched line, want 0", allocs)
	}
	cats := make([]recon.Category, 100)
	allocs = testing.AllocsPerRun(30, func() {
		if err := m.Lines(s.lines[k:k+100], cats); err != nil {
			t.Fatal(err)
		}
		for i, c := range cats {
			if c != recon.Matched {
				t.Fatalf("line %d: %s", k+i, c)
			}
		}
		k += 100
	})
	if allocs != 0 {
		t.Errorf("Lines: %.2f allocations per batch of matched lines, want 0", allocs)
	}
}

// Lines judges exactly as Line does, batch boundaries included.
func TestLinesEqualsLine(t *testing.T) {
	s := generate(5000, 2, 9)
	cats, one := run(t, s.input(), s.lines)
	m, err := recon.NewMatcher(s.input())
	if err != nil {
		t.Fatal(err)
	}
	batched := make([]recon.Category, len(s.lines))
	for i := 0; i < len(s.lines); i += 77 { // not a multiple of the internal batch
		j := min(i+77, len(s.lines))
		if err := m.Lines(s.lines[i:j], batched[i:j]); err != nil {
			t.Fatal(err)
		}
	}
	res := m.Finish()
	if !slices.Equal(cats, batched) || !slices.Equal(one.Findings, res.Findings) ||
		one.Computed != res.Computed || !maps.Equal(one.Counts, res.Counts) {
		t.Error("Lines and Line disagree")
	}
}

// Streaming the orders through EachOrder reports exactly what the slice
// does, and a failing source fails the run.
func TestEachOrderEqualsOrders(t *testing.T) {
	s := generate(4000, 2, 11)
	_, want := run(t, s.input(), s.lines)
	in := s.input()
	orders := in.Orders
	in.Orders = nil
	in.EachOrder = func(fn func(recon.Order) error) error {
		for _, o := range orders {
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	}
	_, got := run(t, in, s.lines)
	if !slices.Equal(want.Findings, got.Findings) || !maps.Equal(want.Counts, got.Counts) || !slices.Equal(want.Carry, got.Carry) {
		t.Error("EachOrder and Orders disagree")
	}

	boom := errors.New("disk on fire")
	in.EachOrder = func(fn func(recon.Order) error) error {
		_ = fn(orders[0])
		return boom
	}
	if _, err := recon.NewMatcher(in); !errors.Is(err, boom) {
		t.Errorf("source error lost: %v", err)
	}
	in.EachOrder = func(fn func(recon.Order) error) error { return fn(recon.Order{}) }
	if _, err := recon.NewMatcher(in); !errors.Is(err, recon.ErrInput) {
		t.Errorf("invalid streamed order: %v", err)
	}
	in.Orders = orders
	if _, err := recon.NewMatcher(in); !errors.Is(err, recon.ErrInput) {
		t.Errorf("both sources accepted: %v", err)
	}
}
