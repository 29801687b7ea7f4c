package ops

import (
	"context"
	"fmt"
	"log/slog"
	"time"

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
}

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
	return &Service{store: o.Store, platforms: o.Platforms, operator: o.Operator, zone: o.Zone, now: o.Now, log: o.Logger,
		suspenseDays: o.SuspenseDays, feeRates: o.FeeRates}, nil
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

// StorePath is the database file the service works on.
func (s *Service) StorePath() string { return s.store.Path() }

// Can reports whether the operator may perform an action (the console uses
// it to hide what the role forbids).
func (s *Service) Can(a Action) bool { return s.operator.Role.Can(a) }

// allow checks the role for an action and audits a refusal.
func (s *Service) allow(ctx context.Context, a Action, target string) error {
	if s.operator.Role.Can(a) {
		return nil
	}
	err := fmt.Errorf("%w: %s may not %s (roles are set in paydesk.toml [operator] role)", ErrForbidden, s.operator, a)
	s.audit(ctx, a, target, "", store.AuditDenied, err)
	return err
}

// audit records an operator action. A failure to write the audit log is
// logged; it does not undo the action it describes.
func (s *Service) audit(ctx context.Context, a Action, target, detail string, outcome store.AuditOutcome, cause error) {
	e := store.AuditEntry{
		At: s.now(), Operator: s.operator.Name, Role: string(s.operator.Role),
		Action: string(a), Target: target, Detail: detail, Outcome: outcome,
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
