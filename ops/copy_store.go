package ops

import (
	"context"
	"fmt"

	"github.com/paydesk/paydesk/store"
)

// CopyStore copies this workspace's SQLite store into dst, a PostgreSQL
// store (`paydesk store copy --to postgres://…`): every row, ids kept,
// resumable, verified at the end (store.CopyTo). Kept bills stay where they
// are; their rows keep pointing at them. The copy is audited in the source,
// and that record is copied too: both audit logs end with it, and running
// the copy again finds nothing new to move.
func (s *Service) CopyStore(ctx context.Context, dst *store.Store, progress func(store.CopyProgress)) (store.CopyReport, error) {
	target := dst.Path()
	if err := s.allow(ctx, ActCopyStore, target); err != nil {
		return store.CopyReport{}, err
	}
	rep, err := s.store.CopyTo(ctx, dst, progress)
	var rows int64
	for _, t := range rep.Tables {
		rows += t.Copied
	}
	detail := fmt.Sprintf("from %s: %d rows in %d tables", s.store.Path(), rows, len(rep.Tables))
	s.auditResult(ctx, ActCopyStore, target, detail, err)
	if err != nil {
		return rep, err
	}
	if _, err := s.store.CopyTo(ctx, dst, nil); err != nil {
		return rep, fmt.Errorf("copy the copy's audit record: %w", err)
	}
	return rep, nil
}
