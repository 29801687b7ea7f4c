package ops

import (
	"context"

	"github.com/paydesk/paydesk/store"
)

// Changes is the store's change stamp: comparable with ==, and different
// after anything was written by anyone (a callback through serve, a run
// from cron, an action in another console or SSH session). See
// store.Changes for what each field counts and why no write escapes it.
type Changes = store.Changes

// Changes reads the stamp. A screen polls it every second or two and
// reloads what it shows only when a field it shows moved: the read costs
// seven index lookups whatever the size of the store. Polling is not an
// operator action, so it is not audited; every role may read.
func (s *Service) Changes(ctx context.Context) (Changes, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return Changes{}, err
	}
	return s.store.Changes(ctx)
}
