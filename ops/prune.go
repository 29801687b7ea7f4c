package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paydesk/paydesk/store"
)

// PruneKeep is how recent a rejected callback may be and still be kept by
// any prune: the platforms resend for about a day, and a rejection caused
// on our side (a key rotated at the platform, not yet here) must stay
// replayable until someone has noticed, fixed and replayed it.
const PruneKeep = 7 * 24 * time.Hour

// ErrPruneTooRecent refuses a cutoff inside PruneKeep.
var ErrPruneTooRecent = errors.New("too recent")

// PruneRejected deletes the stored callbacks received before a time that
// never verified (rejected, or refused from outside the allowlist), their
// attempts, and the counts of callbacks over the cap from before then. A
// verified callback is never removed. Admin only, and audited with what it
// removed.
func (s *Service) PruneRejected(ctx context.Context, before time.Time) (store.Pruned, error) {
	target := "rejected notifications before " + before.In(s.zone).Format(time.DateTime)
	if err := s.allow(ctx, ActPrune, target); err != nil {
		return store.Pruned{}, err
	}
	if latest := s.now().Add(-PruneKeep); before.After(latest) {
		err := fmt.Errorf("%w: rejected callbacks of the last %d days are kept (they may still be replayed after a fix); give a date on or before %s",
			ErrPruneTooRecent, int(PruneKeep.Hours()/24), latest.In(s.zone).Format(time.DateOnly))
		s.auditResult(ctx, ActPrune, target, "", err)
		return store.Pruned{}, err
	}
	p, err := s.store.PruneRejected(ctx, before)
	s.auditResult(ctx, ActPrune, target, fmt.Sprintf("%d notifications (%d bytes raw) and %d overflow counts removed", p.Notifications, p.Bytes, p.Overflow), err)
	return p, err
}

// UnverifiedOverflow sums the callbacks that were counted and not stored
// since a time, because their senders were over the cap.
func (s *Service) UnverifiedOverflow(ctx context.Context, since time.Time) (store.Overflow, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return store.Overflow{}, err
	}
	return s.store.OverflowSince(ctx, since)
}
