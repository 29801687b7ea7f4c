package store

import (
	"context"
	"testing"
)

// BenchmarkChanges1M measures reading the change stamp at 1M orders, beside
// two peers measured in the same run: the cheapest query there is (SELECT 1,
// the cost of a round trip through database/sql) and the first 100-row
// page of the orders listing (what a view reads when the stamp moved).
//
//	go test ./store -run '^$' -bench Changes1M -benchtime 2000x
func BenchmarkChanges1M(b *testing.B) {
	s := millionStore(b)
	ctx := context.Background()
	b.Run("changes", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Changes(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("select-1", func(b *testing.B) {
		for b.Loop() {
			var one int
			if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first-page", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.ListOrders(ctx, OrderFilter{}, nil, Older, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("count-PD-capped", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.CountOrdersUpTo(ctx, OrderFilter{Number: "PD"}, 100_000); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("count-PD-exact", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.CountOrders(ctx, OrderFilter{Number: "PD"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
