package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/paydesk/paydesk/gateway"
)

// CurrentRun returns the run of (channel, day) that stands: the newest,
// which superseded any earlier one. It is one lookup on recon_runs_by_day,
// so a screen showing a day can ask again whenever the store changed.
// ErrRunNotFound when the day was never reconciled.
func (s *Store) CurrentRun(ctx context.Context, ch gateway.Channel, day string) (Run, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM recon_runs WHERE channel = ? AND day = ? AND superseded_by IS NULL
		ORDER BY id DESC LIMIT 1`, ch, day).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("%w: %s %s", ErrRunNotFound, ch, day)
	}
	if err != nil {
		return Run{}, err
	}
	return s.GetRun(ctx, id)
}
