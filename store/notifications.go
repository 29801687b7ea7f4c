package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// VerifyStatus is whether a stored notification's signature and merchant
// identity checked out.
type VerifyStatus string

const (
	Unverified VerifyStatus = "UNVERIFIED"
	Verified   VerifyStatus = "VERIFIED"
	Rejected   VerifyStatus = "REJECTED"
)

// ApplyStatus is what applying a notification did.
type ApplyStatus string

const (
	ApplyPending          ApplyStatus = "PENDING"           // stored; nothing decided yet (or the process died here)
	ApplyApplied          ApplyStatus = "APPLIED"           // changed the order or refund
	ApplyDuplicate        ApplyStatus = "DUPLICATE"         // the same fact was applied before
	ApplyDuplicatePayment ApplyStatus = "DUPLICATE_PAYMENT" // another trade had paid the order
	ApplyAmountMismatch   ApplyStatus = "AMOUNT_MISMATCH"   // verified, but not the order's amount or currency
	ApplyChannelMismatch  ApplyStatus = "CHANNEL_MISMATCH"  // verified, but on another channel than the unpaid order's: recorded, not applied
	ApplyUnknownOrder     ApplyStatus = "UNKNOWN_ORDER"     // verified, but no such order here
	ApplyIgnored          ApplyStatus = "IGNORED"           // verified, changes nothing (e.g. WAIT_BUYER_PAY)
	ApplyRejected         ApplyStatus = "REJECTED"          // failed verification
	ApplyForbidden        ApplyStatus = "FORBIDDEN"         // from an address outside the allowlist
	ApplyFailed           ApplyStatus = "FAILED"            // our side failed; the platform will resend
	ApplyReview           ApplyStatus = "REVIEW"            // applied, but needs a person (refund made in the platform console)
)

// applyClass is what an apply status means to the rest of paydesk. Every
// set of apply statuses — the listings' "failed", the reply that tells the
// platform to stop resending, reconciliation's "the callback path worked"
// — is read from applyClasses, in Go and in SQL alike, so a new status is
// classified once.
type applyClass struct {
	// failed: needs a person or a replay (notify list --failed, the
	// console's '!', replay --failed, NOTIFY_REJECTED).
	failed bool
	// settled: applied or classified for good, so the platform may stop
	// resending; the others are answered with a failure.
	settled bool
	// delivered: a verified payment callback reached its order (applied
	// now or before): the callback path works (NOTIFY_MISSING's test).
	delivered bool
}

var applyClasses = map[ApplyStatus]applyClass{
	ApplyPending:          {failed: true},
	ApplyApplied:          {settled: true, delivered: true},
	ApplyDuplicate:        {settled: true, delivered: true},
	ApplyDuplicatePayment: {settled: true, delivered: true},
	// An amount that is not the order's will not change on a resend: the
	// platform may stop, and a person must look.
	ApplyAmountMismatch: {failed: true, settled: true},
	// Nor will a payment on another channel than the order's: recorded,
	// not applied, for a person to decide.
	ApplyChannelMismatch: {failed: true, settled: true},
	ApplyUnknownOrder:    {failed: true},
	ApplyIgnored:         {settled: true},
	ApplyRejected:        {failed: true},
	ApplyForbidden:       {failed: true},
	ApplyFailed:          {failed: true},
	ApplyReview:          {settled: true},
}

// Failed reports whether a notification needs attention: it did not end in
// a state that is applied or deliberately classified. A status paydesk does
// not know needs attention too.
func (a ApplyStatus) Failed() bool {
	c, ok := applyClasses[a]
	return !ok || c.failed
}

// Settled reports whether the platform may stop resending: the
// notification is applied or classified for good.
func (a ApplyStatus) Settled() bool { return applyClasses[a].settled }

// Delivered reports whether a verified payment notification with this
// status reached its order.
func (a ApplyStatus) Delivered() bool { return applyClasses[a].delivered }

// failedStatuses and deliveredStatuses are Failed and Delivered as SQL
// lists, for WHERE apply_status IN ….
var (
	failedStatuses    = applySQL(func(c applyClass) bool { return c.failed })
	deliveredStatuses = applySQL(func(c applyClass) bool { return c.delivered })
)

func applySQL(in func(applyClass) bool) string {
	var names []string
	for a, c := range applyClasses {
		if in(c) {
			names = append(names, "'"+string(a)+"'")
		}
	}
	slices.Sort(names)
	return "(" + strings.Join(names, ", ") + ")"
}

// RawNotification is a callback exactly as it arrived.
type RawNotification struct {
	Channel    gateway.Channel
	ReceivedAt time.Time
	RemoteAddr string
	Header     http.Header
	Body       []byte
	// Size, when set, is the size the body arrived with, of which Body
	// holds only the first bytes (a sender over its cap on unverified
	// callbacks).
	Size int64
}

// Notification is a stored callback with its latest outcome.
type Notification struct {
	ID           int64           `json:"id"`
	Channel      gateway.Channel `json:"channel"`
	ReceivedAt   time.Time       `json:"received_at"`
	RemoteAddr   string          `json:"remote_addr"`
	Header       http.Header     `json:"-"`
	Body         []byte          `json:"-"`
	VerifyStatus VerifyStatus    `json:"verify_status"`
	VerifyError  string          `json:"verify_error,omitempty"`
	ApplyStatus  ApplyStatus     `json:"apply_status"`
	ApplyDetail  string          `json:"apply_detail,omitempty"`
	Event        gateway.Event   `json:"event,omitempty"`
	NotifyID     string          `json:"notify_id,omitempty"`
	OutTradeNo   string          `json:"out_trade_no,omitempty"`
	TradeNo      string          `json:"trade_no,omitempty"`
	OutRequestNo string          `json:"out_request_no,omitempty"`
	Amount       *gateway.Money  `json:"amount,omitempty"`
	// VerifyKey names the key that verified the callback ("public key
	// PUB_KEY_ID_…", "platform certificate 5157F0…"), or the unknown
	// serial it named when none of ours could.
	VerifyKey     string    `json:"verify_key,omitempty"`
	Attempts      int       `json:"attempts"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	// TruncatedFrom is the size the body arrived with when only its
	// first bytes were kept; 0 when the body is whole.
	TruncatedFrom int64 `json:"truncated_from,omitempty"`
}

// SaveRawNotification stores a callback before anything else is done with
// it (ARCHITECTURE.md §3 rule 1: keep everything raw), and returns its id.
func (s *Store) SaveRawNotification(ctx context.Context, n RawNotification) (int64, error) {
	h, err := json.Marshal(n.Header)
	if err != nil {
		return 0, err
	}
	body := n.Body
	if body == nil {
		body = []byte{} // NOT NULL: an empty body is still a body that arrived
	}
	var size any
	if n.Size > int64(len(body)) {
		size = n.Size
	}
	var id int64
	owner := s.intakeOwner()
	args := []any{n.Channel, ms(n.ReceivedAt), n.RemoteAddr, string(h), body, size, owner}
	if s.engine == Postgres {
		// One statement is its own transaction: without BEGIN and COMMIT
		// around it, a third of the round trips.
		err = s.w.QueryRowContext(ctx, insertNotificationSQL, args...).Scan(&id)
	} else {
		// The new row's id from the insert itself: SQLite runs RETURNING
		// through a temporary table built for every statement.
		err = s.tx(ctx, func(ctx context.Context, tx *Tx) error {
			r, err := s.txExec(ctx, tx, insertNotificationRowSQL, args...)
			if err == nil {
				id, err = r.LastInsertId()
			}
			return err
		})
	}
	if err != nil {
		return 0, fmt.Errorf("store notification: %w", err)
	}
	return id, nil
}

// AttemptKind says whether an attempt was the intake or a replay.
type AttemptKind string

const (
	AttemptIntake AttemptKind = "intake"
	AttemptReplay AttemptKind = "replay"
)

// Attempt is one processing of a stored notification and its outcome. The
// fields learned from verification describe the notification itself and
// are copied onto it.
type Attempt struct {
	Kind         AttemptKind   `json:"kind"`
	Operator     string        `json:"operator,omitempty"`
	At           time.Time     `json:"at"`
	VerifyStatus VerifyStatus  `json:"verify_status"`
	VerifyError  string        `json:"verify_error,omitempty"`
	ApplyStatus  ApplyStatus   `json:"apply_status"`
	Detail       string        `json:"detail,omitempty"`
	Event        gateway.Event `json:"-"`
	NotifyID     string        `json:"-"`
	OutTradeNo   string        `json:"-"`
	TradeNo      string        `json:"-"`
	OutRequestNo string        `json:"-"`
	Amount       *gateway.Money
	// VerifyKey is the key this attempt verified with, or the unknown
	// serial the callback named.
	VerifyKey string `json:"verify_key,omitempty"`
}

// RecordAttempt logs an attempt and makes its outcome the notification's
// current one.
func (s *Store) RecordAttempt(ctx context.Context, id int64, a Attempt) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error { return s.recordAttemptTx(ctx, tx, id, a) })
}

func (s *Store) recordAttemptTx(ctx context.Context, tx *Tx, id int64, a Attempt) error {
	detail := a.Detail
	if a.VerifyError != "" && detail == "" {
		detail = a.VerifyError
	}
	if _, err := s.txExec(ctx, tx, insertAttemptSQL, id, ms(a.At), a.Kind, a.Operator, a.VerifyStatus, a.ApplyStatus, detail, a.VerifyKey); err != nil {
		return err
	}
	var amount any
	if a.Amount != nil {
		amount = int64(*a.Amount)
	}
	// Facts from verification only overwrite when this attempt learned
	// them, so a later failed replay does not blank what an earlier
	// verified attempt recorded.
	r, err := s.txExec(ctx, tx, updateNotificationSQL,
		a.VerifyStatus, a.VerifyError, a.ApplyStatus, a.Detail,
		a.Event, a.Event, a.NotifyID, a.NotifyID, a.OutTradeNo, a.OutTradeNo, a.TradeNo, a.TradeNo,
		a.OutRequestNo, a.OutRequestNo, amount, a.VerifyKey, a.VerifyKey, ms(a.At), id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return fmt.Errorf("notification %d not found", id)
	}
	return nil
}

const notificationColumns = `id, channel, received_at, remote_addr, headers, body, verify_status, verify_error, apply_status, apply_detail,
	event, notify_id, out_trade_no, trade_no, out_request_no, amount, attempts, last_attempt_at, coalesce(body_size, 0), verify_key`

// notificationColumnsWithoutRaw selects no header or body: 'null' reads
// as no headers, NULL as no body.
var notificationColumnsWithoutRaw = strings.Replace(notificationColumns, "headers, body,", "'null', NULL,", 1)

func scanNotification(r rowScanner) (Notification, error) {
	var n Notification
	var received int64
	var headers string
	var amount, last sql.NullInt64
	err := r.Scan(&n.ID, &n.Channel, &received, &n.RemoteAddr, &headers, &n.Body, &n.VerifyStatus, &n.VerifyError,
		&n.ApplyStatus, &n.ApplyDetail, &n.Event, &n.NotifyID, &n.OutTradeNo, &n.TradeNo, &n.OutRequestNo, &amount, &n.Attempts, &last, &n.TruncatedFrom, &n.VerifyKey)
	if err != nil {
		return n, err
	}
	n.ReceivedAt, n.LastAttemptAt = fromMS(received), fromNullMS(last)
	if amount.Valid {
		m := gateway.Money(amount.Int64)
		n.Amount = &m
	}
	if err := json.Unmarshal([]byte(headers), &n.Header); err != nil {
		return n, fmt.Errorf("notification %d: stored headers unreadable: %w", n.ID, err)
	}
	return n, nil
}

// ErrNotificationNotFound is returned for an unknown notification id.
var ErrNotificationNotFound = errors.New("notification not found")

// GetNotification returns one stored notification with its raw request.
func (s *Store) GetNotification(ctx context.Context, id int64) (Notification, error) {
	n, err := scanNotification(s.r.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("%w: %d", ErrNotificationNotFound, id)
	}
	return n, err
}

// NotificationFilter narrows a notification listing.
type NotificationFilter struct {
	Channel    gateway.Channel
	OutTradeNo string
	Failed     bool // only those that need attention
	// Apply selects one apply status.
	Apply ApplyStatus
	Since time.Time
	Until time.Time
}

// ListNotifications returns notifications newest first, before id beforeID
// (0: from the newest), each with its raw request (headers and body).
func (s *Store) ListNotifications(ctx context.Context, f NotificationFilter, beforeID int64, limit int) ([]Notification, error) {
	return s.listNotifications(ctx, notificationColumns, f, beforeID, limit)
}

// ListNotificationsWithoutRaw is ListNotifications for listings and
// exports: Header and Body are left empty and never read from the file,
// so a page of callbacks costs their outcomes, not up to 64 KB of body
// each.
func (s *Store) ListNotificationsWithoutRaw(ctx context.Context, f NotificationFilter, beforeID int64, limit int) ([]Notification, error) {
	return s.listNotifications(ctx, notificationColumnsWithoutRaw, f, beforeID, limit)
}

func (s *Store) listNotifications(ctx context.Context, columns string, f NotificationFilter, beforeID int64, limit int) ([]Notification, error) {
	where, args := f.where()
	if beforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, beforeID)
	}
	q := `SELECT ` + columns + ` FROM notifications`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	return collect(ctx, s.r, q, scanNotification, args...)
}

// CountNotifications counts what a filter selects.
func (s *Store) CountNotifications(ctx context.Context, f NotificationFilter) (int, error) {
	n, _, err := s.CountNotificationsUpTo(ctx, f, 0)
	return n, err
}

// CountNotificationsUpTo is CountNotifications that stops past limit (0:
// no limit) and says so: the console counts again whenever a callback
// arrives, and a count of every stored callback is a walk of the table.
func (s *Store) CountNotificationsUpTo(ctx context.Context, f NotificationFilter, limit int) (n int, more bool, err error) {
	where, args := f.where()
	from := `notifications`
	if len(where) > 0 {
		from += " WHERE " + strings.Join(where, " AND ")
	}
	return s.countUpTo(ctx, from, args, limit)
}

func (f NotificationFilter) where() ([]string, []any) {
	var where []string
	var args []any
	if f.Channel != "" {
		where = append(where, "channel = ?")
		args = append(args, f.Channel)
	}
	if f.OutTradeNo != "" {
		where = append(where, "out_trade_no = ?")
		args = append(args, f.OutTradeNo)
	}
	if f.Failed {
		where = append(where, "apply_status IN "+failedStatuses)
	}
	if f.Apply != "" {
		where = append(where, "apply_status = ?")
		args = append(args, f.Apply)
	}
	if !f.Since.IsZero() {
		where = append(where, "received_at >= ?")
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "received_at < ?")
		args = append(args, ms(f.Until))
	}
	return where, args
}

// Attempts lists a notification's attempts, oldest first.
func (s *Store) Attempts(ctx context.Context, id int64) ([]Attempt, error) {
	return collect(ctx, s.r, `SELECT kind, operator, at, verify_status, apply_status, detail, verify_key FROM notification_attempts
		WHERE notification_id = ? ORDER BY id`, func(r rowScanner) (Attempt, error) {
		var a Attempt
		var at int64
		err := r.Scan(&a.Kind, &a.Operator, &at, &a.VerifyStatus, &a.ApplyStatus, &a.Detail, &a.VerifyKey)
		a.At = fromMS(at)
		return a, err
	}, id)
}

// The callback path's statements (see hotWrites).
const (
	insertNotificationRowSQL = `INSERT INTO notifications (channel, received_at, remote_addr, headers, body, body_size, intake_owner)
			VALUES (?, ?, ?, ?, ?, ?, ?)`
	insertNotificationSQL = insertNotificationRowSQL + ` RETURNING id`
	insertAttemptSQL      = `INSERT INTO notification_attempts (notification_id, at, kind, operator, verify_status, apply_status, detail, verify_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	updateNotificationSQL = `UPDATE notifications SET
			verify_status = ?, verify_error = ?, apply_status = ?, apply_detail = ?,
			event = CASE WHEN ? <> '' THEN ? ELSE event END,
			notify_id = CASE WHEN ? <> '' THEN ? ELSE notify_id END,
			out_trade_no = CASE WHEN ? <> '' THEN ? ELSE out_trade_no END,
			trade_no = CASE WHEN ? <> '' THEN ? ELSE trade_no END,
			out_request_no = CASE WHEN ? <> '' THEN ? ELSE out_request_no END,
			amount = coalesce(?, amount),
			verify_key = CASE WHEN ? <> '' THEN ? ELSE verify_key END,
			attempts = attempts + 1, last_attempt_at = ?
			WHERE id = ?`
)
