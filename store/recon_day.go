package store

import (
	"context"

	"github.com/paydesk/paydesk/gateway"
)

// CurrentRun returns the trade run of (channel, day) that stands: the
// newest, which superseded any earlier one (CurrentRunOf for a kind). It is
// one lookup on recon_runs_by_day, so a screen showing a day can ask again
// whenever the store changed. ErrRunNotFound when the day was never
// reconciled.
func (s *Store) CurrentRun(ctx context.Context, ch gateway.Channel, day string) (Run, error) {
	return s.CurrentRunOf(ctx, ch, day, BillTrade)
}
