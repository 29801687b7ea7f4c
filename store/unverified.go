package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// CompleteRaw replaces the first bytes kept of a notification with the
// whole request, once it verified: a real callback is always kept whole.
func (s *Store) CompleteRaw(ctx context.Context, id int64, header http.Header, body []byte) error {
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE notifications SET headers = ?, body = ?, body_size = NULL WHERE id = ?`, string(h), body, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: %d", ErrNotificationNotFound, id)
		}
		return nil
	})
}

// CountOverflow counts a callback that was not stored because its sender
// was over its cap on unverified callbacks: one row per sender, channel
// and minute.
func (s *Store) CountOverflow(ctx context.Context, sender string, ch gateway.Channel, at time.Time, bytes int64) error {
	minute := ms(at.Truncate(time.Minute))
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notification_overflow (sender, channel, minute, requests, bytes) VALUES (?, ?, ?, 1, ?)
			ON CONFLICT (sender, channel, minute)
			DO UPDATE SET requests = notification_overflow.requests + 1, bytes = notification_overflow.bytes + excluded.bytes`,
			sender, ch, minute, bytes)
		return err
	})
}

// Overflow is what was counted and not stored over a period.
type Overflow struct {
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
	Senders  int   `json:"senders"`
}

// OverflowSince sums the callbacks counted, not stored, since a time.
func (s *Store) OverflowSince(ctx context.Context, since time.Time) (Overflow, error) {
	var o Overflow
	err := s.r.QueryRowContext(ctx, `SELECT CAST(coalesce(sum(requests), 0) AS BIGINT), CAST(coalesce(sum(bytes), 0) AS BIGINT), count(DISTINCT sender)
		FROM notification_overflow WHERE minute >= ?`, ms(since.Truncate(time.Minute))).Scan(&o.Requests, &o.Bytes, &o.Senders)
	return o, err
}

// Pruned is what PruneRejected removed.
type Pruned struct {
	Notifications int64 `json:"notifications"`
	Bytes         int64 `json:"bytes"` // of raw bodies and headers
	Overflow      int64 `json:"overflow_rows"`
}

// PruneRejected deletes the notifications received before a time that
// never verified — REJECTED (a bad signature, a truncated body), or
// refused from a sender outside the allowlist — with their attempts, and
// the overflow counts of before then. A notification that verified is
// never removed, whatever became of it.
func (s *Store) PruneRejected(ctx context.Context, before time.Time) (Pruned, error) {
	var p Pruned
	cutoff := ms(before)
	const which = `received_at < ? AND verify_status <> 'VERIFIED' AND (verify_status = 'REJECTED' OR apply_status = 'FORBIDDEN')`
	err := s.txAlone(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*), CAST(coalesce(sum(length(body) + length(headers)), 0) AS BIGINT) FROM notifications WHERE `+which, cutoff).
			Scan(&p.Notifications, &p.Bytes); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notification_attempts WHERE notification_id IN (SELECT id FROM notifications WHERE `+which+`)`, cutoff); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE `+which, cutoff); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM notification_overflow WHERE minute < ?`, cutoff)
		if err != nil {
			return err
		}
		p.Overflow, _ = r.RowsAffected()
		return nil
	})
	return p, err
}
