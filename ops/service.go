package ops

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// Service performs operations for one operator over one store and the
// configured platforms.
type Service struct {
	store     *store.Store
	platforms map[gateway.Channel]gateway.Platform
	operator  Operator
	zone      *time.Location
	now       func() time.Time
	log       *slog.Logger
	// suspenseDays is how long a CROSS_DAY item waits before it escalates.
	suspenseDays int
	// feeRates are the contracted fee rates, by channel (absent: no check).
	feeRates map[gateway.Channel]gateway.FeeRate
	// cap bounds unverified callbacks per sender (IntakeCap).
	cap *senderCap
	// refundQueryAfter is how long after an unknown refund outcome a
	// refund query is trusted.
	refundQueryAfter time.Duration
	// queryLimits pace live queries per platform. Services derived with As
	// share them, so every console session together stays within the rate
	// the platform allows.
	queryLimits map[gateway.Channel]*rate.Limiter
	// merchants are the merchant ids bills must belong to, by channel.
	merchants map[gateway.Channel]string
	// billsRoot is the folder bills are kept in, one subfolder a channel.
	billsRoot string
}

// Options configure a Service. Store and Operator are required.
type Options struct {
	Store     *store.Store
	Platforms map[gateway.Channel]gateway.Platform // only the configured ones
	Operator  Operator
	Zone      *time.Location // business-day zone; default Asia/Shanghai
	Now       func() time.Time
	Logger    *slog.Logger
	// SuspenseDays: how many later bills a CROSS_DAY item waits for
	// ([recon] suspense_days); default 3.
	SuspenseDays int
	// FeeRates are the contracted service-fee rates by channel ([recon]
	// fee_rate_alipay, fee_rate_wechat); a channel without one has no fee
	// check.
	FeeRates map[gateway.Channel]gateway.FeeRate
	// IntakeCap bounds unverified callbacks per sender ([serve]
	// unverified_bytes_per_minute, unverified_rows_per_minute).
	IntakeCap IntakeCap
	// RefundQueryAfter is how long after a refund's outcome became unknown
	// before a refund query about it is trusted ([refund] query_after):
	// Alipay's refund query can miss a refund asked for moments ago, and a
	// "not found" then would re-send it. Default DefaultRefundQueryAfter;
	// negative means no wait (tests).
	RefundQueryAfter time.Duration
	// QueryQPS is the most live trade queries per second sent to each
	// platform by this service and every service derived from it with As
	// ([query] qps); default 10.
	QueryQPS float64
	// Merchants are the merchant ids each channel's bills must belong to:
	// [wechat] mchid, [alipay] pid. A channel without one holds its bills
	// to the account its first bill stated.
	Merchants map[gateway.Channel]string
	// BillsDir is where bills are kept ([store] bills_dir); default: a
	// bills folder beside the SQLite file. A PostgreSQL store has no such
	// file: without BillsDir, work that keeps a bill fails with
	// ErrNoBillsDir.
	BillsDir string
}

// DefaultRefundQueryAfter is the wait Alipay's refund query documentation
// asks for between a refund request and its query ("间隔10秒以上").
const DefaultRefundQueryAfter = 10 * time.Second

// New makes a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("ops: no store")
	}
	if o.Operator.Name == "" {
		return nil, fmt.Errorf("ops: no operator name (set [operator] name, --operator, $PAYDESK_OPERATOR or $USER)")
	}
	if _, err := ParseRole(string(o.Operator.Role)); err != nil {
		return nil, fmt.Errorf("ops: %w", err)
	}
	if o.Zone == nil {
		o.Zone = gateway.Shanghai
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Platforms == nil {
		o.Platforms = map[gateway.Channel]gateway.Platform{}
	}
	if o.SuspenseDays <= 0 {
		o.SuspenseDays = 3
	}
	if o.BillsDir == "" && o.Store.Dir() != "" {
		o.BillsDir = filepath.Join(o.Store.Dir(), "bills")
	}
	switch {
	case o.RefundQueryAfter == 0:
		o.RefundQueryAfter = DefaultRefundQueryAfter
	case o.RefundQueryAfter < 0:
		o.RefundQueryAfter = 0
	}
	if o.QueryQPS <= 0 {
		o.QueryQPS = defaultQueryQPS
	}
	limits := map[gateway.Channel]*rate.Limiter{}
	for ch := range o.Platforms {
		limits[ch] = rate.NewLimiter(rate.Limit(o.QueryQPS), 1)
	}
	return &Service{store: o.Store, platforms: o.Platforms, operator: o.Operator, zone: o.Zone, now: o.Now, log: o.Logger,
		suspenseDays: o.SuspenseDays, feeRates: o.FeeRates, cap: newSenderCap(o.IntakeCap), refundQueryAfter: o.RefundQueryAfter,
		queryLimits: limits, merchants: o.Merchants, billsRoot: o.BillsDir}, nil
}

// As is the same service acting for another operator: the store, the
// platform clients and the live-query rate limit stay shared, so the SSH
// console's sessions are one paydesk with one limit, each person audited
// under their own name. The role is checked as New checks it.
func (s *Service) As(op Operator) (*Service, error) {
	if op.Name == "" {
		return nil, fmt.Errorf("ops: no operator name")
	}
	if _, err := ParseRole(string(op.Role)); err != nil {
		return nil, fmt.Errorf("ops: operator %s: %w", op.Name, err)
	}
	derived := *s
	derived.operator = op
	return &derived, nil
}

// Operator is who this service acts as.
func (s *Service) Operator() Operator { return s.operator }

// Zone is the business-day zone.
func (s *Service) Zone() *time.Location { return s.zone }

// Channels lists the configured platforms in display order.
func (s *Service) Channels() []gateway.Channel {
	var out []gateway.Channel
	for _, ch := range gateway.Channels {
		if _, ok := s.platforms[ch]; ok {
			out = append(out, ch)
		}
	}
	return out
}

// FeeRate is the contracted fee rate of a channel; zero when none is set.
func (s *Service) FeeRate(ch gateway.Channel) gateway.FeeRate { return s.feeRates[ch] }

// StorePath is the database the service works on: the SQLite file, or the
// PostgreSQL URL without its password.
func (s *Service) StorePath() string { return s.store.Path() }

// Can reports whether the operator may perform an action (the console uses
// it to hide what the role forbids).
func (s *Service) Can(a Action) bool { return s.operator.Role.Can(a) }

// allow checks the role for an action and audits a refusal.
func (s *Service) allow(ctx context.Context, a Action, target string) error {
	if s.operator.Role.Can(a) {
		return nil
	}
	where := "[operator] role"
	if s.operator.Via != "" {
		where = "[[ssh.users]] role"
	}
	err := fmt.Errorf("%w: %s may not %s (roles are set in paydesk.toml %s)", ErrForbidden, s.operator, a, where)
	s.audit(ctx, a, target, "", store.AuditDenied, err)
	return err
}

// audit records an operator action. A failure to write the audit log is
// logged; it does not undo the action it describes.
func (s *Service) audit(ctx context.Context, a Action, target, detail string, outcome store.AuditOutcome, cause error) {
	e := store.AuditEntry{
		At: s.now(), Operator: s.operator.Name, Role: string(s.operator.Role),
		Action: string(a), Target: target, Detail: detail, Outcome: outcome, Via: s.operator.Via,
	}
	if cause != nil {
		e.Error = cause.Error()
	}
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("audit write failed", "action", a, "target", target, "err", err)
	}
}

// auditResult records the outcome of an action from its error.
func (s *Service) auditResult(ctx context.Context, a Action, target, detail string, err error) {
	outcome := store.AuditOK
	if err != nil {
		outcome = store.AuditError
	}
	s.audit(ctx, a, target, detail, outcome, err)
}

// Health checks that the store answers (GET /healthz).
func (s *Service) Health(ctx context.Context) error { return s.store.Ping(ctx) }
