package store

import (
	"context"
	"strings"
	"time"
)

// AuditOutcome is how an operator action ended.
type AuditOutcome string

const (
	AuditOK     AuditOutcome = "ok"
	AuditError  AuditOutcome = "error"
	AuditDenied AuditOutcome = "denied" // the role does not allow it
)

// AuditEntry is one operator action.
type AuditEntry struct {
	ID       int64        `json:"id"`
	At       time.Time    `json:"at"`
	Operator string       `json:"operator"`
	Role     string       `json:"role"`
	Action   string       `json:"action"`
	Target   string       `json:"target"` // what it acted on: an order number, a notification id, a file
	Detail   string       `json:"detail,omitempty"`
	Outcome  AuditOutcome `json:"outcome"`
	Error    string       `json:"error,omitempty"`
	// Via is how the operator reached paydesk when not on the host itself:
	// "ssh 203.0.113.5:51234" for the SSH console; empty otherwise.
	Via string `json:"via,omitempty"`
}

// AppendAudit records an operator action. Callers never put secrets in
// Detail; ops builds it from non-secret fields only.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO audit (at, operator, role, action, target, detail, outcome, error, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ms(e.At), e.Operator, e.Role, e.Action, e.Target, e.Detail, e.Outcome, e.Error, e.Via)
	return err
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	Operator string
	Action   string
	Target   string // exact
	Text     string // substring of target or detail
	Since    time.Time
}

// ListAudit returns entries newest first, before id beforeID (0: newest).
func (s *Store) ListAudit(ctx context.Context, f AuditFilter, beforeID int64, limit int) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.Operator != "" {
		where = append(where, "operator = ?")
		args = append(args, f.Operator)
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.Text != "" {
		where = append(where, "("+s.sp.contains("target")+" OR "+s.sp.contains("detail")+")")
		args = append(args, f.Text, f.Text)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, ms(f.Since))
	}
	if beforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, beforeID)
	}
	q := `SELECT id, at, operator, role, action, target, detail, outcome, error, via FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	return collect(ctx, s.r, q, func(r rowScanner) (AuditEntry, error) {
		var e AuditEntry
		var at int64
		err := r.Scan(&e.ID, &at, &e.Operator, &e.Role, &e.Action, &e.Target, &e.Detail, &e.Outcome, &e.Error, &e.Via)
		e.At = fromMS(at)
		return e, err
	}, args...)
}
