package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paydesk/paydesk/gateway"
)

// DayFormat is how business dates are stored and printed.
const DayFormat = "2006-01-02"

// Bill is a platform bill as received; its bytes are in the file at Path.
type Bill struct {
	ID      int64           `json:"id"`
	Channel gateway.Channel `json:"channel"`
	Day     string          `json:"day"`
	// Kind is BillTrade or BillFunds.
	Kind     string `json:"kind"`
	Source   string `json:"source"` // download | file
	FileName string `json:"file_name"`
	Path     string `json:"path"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
	// Stated and Computed are a trade bill's totals; FundStated and
	// FundComputed a fund bill's (the stated and computed columns hold
	// whichever the kind has).
	Stated       gateway.BillTotals  `json:"stated"`
	Computed     gateway.BillTotals  `json:"computed"`
	FundStated   *gateway.FundTotals `json:"fund_stated,omitempty"`
	FundComputed *gateway.FundTotals `json:"fund_computed,omitempty"`
	Lines        int                 `json:"lines"`
	// Account is the merchant account the bill states (Alipay #账号,
	// WeChat Pay 商户号); empty when it states none (a WeChat Pay fund bill
	// never does).
	Account   string    `json:"account,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Bill and run kinds.
const (
	BillTrade = "trade"
	BillFunds = "funds"
)

const billColumns = `id, channel, day, kind, source, file_name, path, sha256, size, stated, computed, lines, account, created_at`

func scanBill(r rowScanner) (Bill, error) {
	var b Bill
	var stated, computed string
	var created int64
	if err := r.Scan(&b.ID, &b.Channel, &b.Day, &b.Kind, &b.Source, &b.FileName, &b.Path, &b.SHA256, &b.Size, &stated, &computed, &b.Lines, &b.Account, &created); err != nil {
		return b, err
	}
	b.CreatedAt = fromMS(created)
	var st, co any = &b.Stated, &b.Computed
	if b.Kind == BillFunds {
		b.FundStated, b.FundComputed = &gateway.FundTotals{}, &gateway.FundTotals{}
		st, co = b.FundStated, b.FundComputed
	}
	if err := json.Unmarshal([]byte(stated), st); err != nil {
		return b, fmt.Errorf("bill %d stated totals: %w", b.ID, err)
	}
	if err := json.Unmarshal([]byte(computed), co); err != nil {
		return b, fmt.Errorf("bill %d computed totals: %w", b.ID, err)
	}
	return b, nil
}

// billTotalsJSON is what the stated and computed columns hold for a bill
// of its kind.
func billTotalsJSON(b Bill) (stated, computed string) {
	var st, co any = b.Stated, b.Computed
	if b.Kind == BillFunds {
		st, co = b.FundStated, b.FundComputed
	}
	sj, _ := json.Marshal(st)
	cj, _ := json.Marshal(co)
	return string(sj), string(cj)
}

func billKind(k string) string {
	if k == "" {
		return BillTrade
	}
	return k
}

// FindBill returns the bill of (channel, day) with that hash, if stored.
func (s *Store) FindBill(ctx context.Context, ch gateway.Channel, day, sha string) (Bill, bool, error) {
	b, err := scanBill(s.r.QueryRowContext(ctx, `SELECT `+billColumns+` FROM bills WHERE channel = ? AND day = ? AND sha256 = ?`, ch, day, sha))
	if errors.Is(err, sql.ErrNoRows) {
		return Bill{}, false, nil
	}
	return b, err == nil, err
}

// insertBill stores a bill's row unless the same bill (channel, day, bytes)
// is stored already.
const insertBill = `INSERT INTO bills (channel, day, kind, source, file_name, path, sha256, size, stated, computed, lines, account, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, day, sha256) DO NOTHING`

// FirstBillAccount returns the account stated by the first stored bill of
// a channel that states one: whose bills this workspace reconciles when no
// merchant id is configured.
func (s *Store) FirstBillAccount(ctx context.Context, ch gateway.Channel) (string, bool, error) {
	var acct string
	err := s.r.QueryRowContext(ctx, `SELECT account FROM bills WHERE channel = ? AND account <> '' ORDER BY id LIMIT 1`, ch).Scan(&acct)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return acct, err == nil, err
}

// GetBill returns one bill by id.
func (s *Store) GetBill(ctx context.Context, id int64) (Bill, error) {
	return scanBill(s.r.QueryRowContext(ctx, `SELECT `+billColumns+` FROM bills WHERE id = ?`, id))
}

// Run is one reconciliation of (channel, day).
type Run struct {
	ID      int64           `json:"id"`
	Channel gateway.Channel `json:"channel"`
	Day     string          `json:"day"`
	// Kind is BillTrade (the trade bill against the orders) or BillFunds
	// (the fund bill's movements against the day's bookings).
	Kind       string                   `json:"kind"`
	BillID     int64                    `json:"bill_id"`
	Operator   string                   `json:"operator"`
	StartedAt  time.Time                `json:"started_at"`
	FinishedAt time.Time                `json:"finished_at"`
	Orders     int                      `json:"orders"`
	Lines      int                      `json:"lines"`
	Counts     map[string]CategoryTotal `json:"counts"`
	// Fees are the fees charged (a trade run: the bill's fee column; a
	// fund run: the fee movements). ExpectedFees are those FeeRate gives,
	// or (fund runs) the trade bill's; nil when nothing was expected (no
	// rate configured, and for a fund run no trade bill either). FeeRate is
	// the rate as configured, empty without one.
	Fees         gateway.Money  `json:"fees"`
	ExpectedFees *gateway.Money `json:"expected_fees"`
	FeeRate      string         `json:"fee_rate,omitempty"`
	// Net is a trade run's settlement after fees, or a fund run's net
	// movement (money in less money out).
	Net gateway.Money `json:"net"`
	// Carry is the suspense handed to the next day's run, as recon wrote
	// it (opaque here: it round-trips recon's own type).
	Carry      json.RawMessage `json:"carry"`
	Settled    []Finding       `json:"settled"`
	Notices    []Finding       `json:"notices"`
	Superseded int64           `json:"superseded_by,omitempty"`
	Bill       *Bill           `json:"bill,omitempty"`
	Resolved   map[string]int  `json:"resolved,omitempty"` // resolution → count, of its findings
}

// CategoryTotal is a category's count and signed amount in a run.
type CategoryTotal struct {
	Count  int           `json:"count"`
	Amount gateway.Money `json:"amount"`
}

// Finding is one reconciliation item as stored.
type Finding struct {
	ID             int64           `json:"id"`
	RunID          int64           `json:"run_id"`
	Channel        gateway.Channel `json:"channel"`
	Day            string          `json:"day"`
	FirstDay       string          `json:"first_day"`
	Category       string          `json:"category"`
	Severity       string          `json:"severity"`
	Kind           string          `json:"kind"`
	Side           string          `json:"side,omitempty"`
	OutTradeNo     string          `json:"out_trade_no,omitempty"`
	TradeNo        string          `json:"trade_no,omitempty"`
	OutRequestNo   string          `json:"out_request_no,omitempty"`
	FlowNo         string          `json:"flow_no,omitempty"` // fund runs: the account movement's number
	LocalAmount    gateway.Money   `json:"local_amount"`
	PlatformAmount gateway.Money   `json:"platform_amount"`
	LocalStatus    string          `json:"local_status,omitempty"`
	PlatformStatus string          `json:"platform_status,omitempty"`
	NotifyStatus   string          `json:"notify_status,omitempty"`
	BillLine       int             `json:"bill_line,omitempty"`
	Detail         string          `json:"detail"`
	Resolution     string          `json:"resolution,omitempty"` // "", resolved, ignored
	Note           string          `json:"note,omitempty"`
	Resolver       string          `json:"resolver,omitempty"`
	ResolvedAt     time.Time       `json:"resolved_at,omitzero"`
}

// Fingerprint identifies a finding across re-runs of its day, so a re-run
// keeps the resolution of a finding that still exists.
func (f Finding) Fingerprint() string {
	fp := strings.Join([]string{string(f.Channel), f.Category, f.Kind, f.OutTradeNo, f.OutRequestNo, f.TradeNo, f.FirstDay}, "|")
	if f.FlowNo != "" {
		// A movement with no business numbers (a deduction) is told apart
		// by its own.
		fp += "|" + f.FlowNo
	}
	return fp
}

// SaveRun stores a finished run in one transaction: the bill (unless the
// same bill is already stored), the run, and its findings, which become the
// current findings of its (channel, day, kind) in place of the run before,
// keeping the resolutions of those that still exist (the replaced run keeps
// its own, so that the two can be compared). Nothing is saved if any step
// fails.
func (s *Store) SaveRun(ctx context.Context, bill Bill, run Run, findings []Finding) (Run, error) {
	return s.SaveRunSettling(ctx, bill, run, findings, nil)
}

// SaveRunSettling is SaveRun that also resolves, in the same transaction,
// the open CROSS_DAY findings of earlier days that this run's bill settled.
func (s *Store) SaveRunSettling(ctx context.Context, bill Bill, run Run, findings, settle []Finding) (Run, error) {
	run.Kind = billKind(run.Kind)
	bill.Kind = billKind(bill.Kind)
	if bill.Kind != run.Kind {
		return Run{}, fmt.Errorf("a %s run of a %s bill", run.Kind, bill.Kind)
	}
	err := s.txAlone(ctx, func(tx *Tx) error {
		if bill.ID == 0 {
			id, err := saveBillTx(ctx, tx, bill)
			if err != nil {
				return fmt.Errorf("save bill: %w", err)
			}
			bill.ID = id
		}
		run.BillID = bill.ID
		// The run this one replaces: the current run of its (channel, day,
		// kind), whose resolutions carry over by fingerprint.
		var prev int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM recon_runs WHERE channel = ? AND day = ? AND kind = ? AND superseded_by IS NULL
			ORDER BY id DESC LIMIT 1`, run.Channel, run.Day, run.Kind).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		counts, _ := json.Marshal(run.Counts)
		carry := run.Carry
		if len(carry) == 0 {
			carry = json.RawMessage("[]")
		}
		settled, _ := json.Marshal(nonNil(run.Settled))
		notices, _ := json.Marshal(nonNil(run.Notices))
		var expected sql.NullInt64
		if run.ExpectedFees != nil {
			expected = sql.NullInt64{Int64: int64(*run.ExpectedFees), Valid: true}
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO recon_runs (channel, day, kind, bill_id, operator, started_at, finished_at, orders, lines, counts, fees,
			expected_fees, fee_rate, net, carry, settled, notices)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			run.Channel, run.Day, run.Kind, run.BillID, run.Operator, ms(run.StartedAt), ms(run.FinishedAt), run.Orders, run.Lines, string(counts),
			int64(run.Fees), expected, run.FeeRate, int64(run.Net), string(carry), string(settled), string(notices)).Scan(&run.ID)
		if err != nil {
			return fmt.Errorf("save run: %w", err)
		}
		// Resolutions of the replaced run's findings, by fingerprint.
		type resolution struct {
			resolution, note, resolver string
			at                         sql.NullInt64
		}
		kept := map[string]resolution{}
		err = eachRow(ctx, tx, `SELECT fingerprint, resolution, note, resolver, resolved_at FROM findings
			WHERE run_id = ? AND resolution <> ''`, func(rows *sql.Rows) error {
			var fp string
			var r resolution
			err := rows.Scan(&fp, &r.resolution, &r.note, &r.resolver, &r.at)
			kept[fp] = r
			return err
		}, prev)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recon_runs SET superseded_by = ? WHERE channel = ? AND day = ? AND kind = ? AND id <> ? AND superseded_by IS NULL`,
			run.ID, run.Channel, run.Day, run.Kind, run.ID); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO findings (run_id, channel, day, first_day, category, severity, kind, side,
			out_trade_no, trade_no, out_request_no, flow_no, local_amount, platform_amount, local_status, platform_status, notify_status,
			bill_line, detail, fingerprint, resolution, note, resolver, resolved_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, f := range findings {
			fp := f.Fingerprint()
			k := kept[fp]
			if _, err := stmt.ExecContext(ctx, run.ID, run.Channel, run.Day, f.FirstDay, f.Category, f.Severity, f.Kind, f.Side,
				f.OutTradeNo, f.TradeNo, f.OutRequestNo, f.FlowNo, int64(f.LocalAmount), int64(f.PlatformAmount), f.LocalStatus, f.PlatformStatus,
				f.NotifyStatus, f.BillLine, f.Detail, fp, k.resolution, k.note, k.resolver, k.at); err != nil {
				return fmt.Errorf("save finding %s %s: %w", f.Category, f.OutTradeNo, err)
			}
		}
		for _, f := range settle {
			if _, err := tx.ExecContext(ctx, `UPDATE findings SET resolution = 'resolved', note = ?, resolver = 'paydesk', resolved_at = ?
				WHERE channel = ? AND category = 'CROSS_DAY' AND kind = ? AND out_trade_no = ? AND out_request_no = ? AND first_day = ? AND resolution = ''
				AND run_id IN (SELECT id FROM recon_runs WHERE superseded_by IS NULL)`,
				"settled by the "+run.Day+" bill: "+f.Category, ms(run.FinishedAt), run.Channel, f.Kind, f.OutTradeNo, f.OutRequestNo, f.FirstDay); err != nil {
				return err
			}
		}
		return nil
	})
	return run, err
}

// nonNil keeps JSON arrays as [] rather than null.
func nonNil(f []Finding) []Finding {
	if f == nil {
		return []Finding{}
	}
	return f
}

const runColumns = `id, channel, day, kind, bill_id, operator, started_at, finished_at, orders, lines, counts, fees, expected_fees, fee_rate,
	net, carry, settled, notices, coalesce(superseded_by, 0)`

func scanRun(r rowScanner) (Run, error) {
	var run Run
	var started, finished int64
	var counts, carry, settled, notices string
	var expected sql.NullInt64
	if err := r.Scan(&run.ID, &run.Channel, &run.Day, &run.Kind, &run.BillID, &run.Operator, &started, &finished, &run.Orders, &run.Lines,
		&counts, &run.Fees, &expected, &run.FeeRate, &run.Net, &carry, &settled, &notices, &run.Superseded); err != nil {
		return run, err
	}
	if expected.Valid {
		m := gateway.Money(expected.Int64)
		run.ExpectedFees = &m
	}
	run.StartedAt, run.FinishedAt = fromMS(started), fromMS(finished)
	run.Carry = json.RawMessage(carry)
	for _, j := range []struct {
		src string
		dst any
	}{{counts, &run.Counts}, {settled, &run.Settled}, {notices, &run.Notices}} {
		if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
			return run, fmt.Errorf("run %d: %w", run.ID, err)
		}
	}
	return run, nil
}

// ErrRunNotFound is returned for an unknown run.
var ErrRunNotFound = errors.New("reconciliation run not found")

// GetRun returns one run with its bill and resolution counts.
func (s *Store) GetRun(ctx context.Context, id int64) (Run, error) {
	run, err := scanRun(s.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM recon_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return run, fmt.Errorf("%w: %d", ErrRunNotFound, id)
	}
	if err != nil {
		return run, err
	}
	b, err := s.GetBill(ctx, run.BillID)
	if err != nil {
		return run, err
	}
	run.Bill = &b
	run.Resolved = map[string]int{}
	err = eachRow(ctx, s.r, `SELECT resolution, count(*) FROM findings WHERE run_id = ? GROUP BY resolution`, func(rows *sql.Rows) error {
		var res string
		var n int
		err := rows.Scan(&res, &n)
		if res == "" {
			res = "open"
		}
		run.Resolved[res] = n
		return err
	}, id)
	return run, err
}

// LatestRun returns the newest run, optionally of one channel (empty: any).
func (s *Store) LatestRun(ctx context.Context, ch gateway.Channel) (Run, error) {
	return s.LatestRunOf(ctx, ch, "")
}

// LatestRunOf returns the newest run of a channel (empty: any) and kind
// (empty: any).
func (s *Store) LatestRunOf(ctx context.Context, ch gateway.Channel, kind string) (Run, error) {
	q := `SELECT id FROM recon_runs WHERE 1 = 1`
	var args []any
	if ch != "" {
		q += ` AND channel = ?`
		args = append(args, ch)
	}
	if kind != "" {
		q += ` AND kind = ?`
		args = append(args, kind)
	}
	var id int64
	err := s.r.QueryRowContext(ctx, q+` ORDER BY id DESC LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrRunNotFound
	}
	if err != nil {
		return Run{}, err
	}
	return s.GetRun(ctx, id)
}

// ListRuns returns runs newest first.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]Run, error) {
	return collect(ctx, s.r, `SELECT `+runColumns+` FROM recon_runs ORDER BY id DESC LIMIT ?`, scanRun, limit)
}

// SuspenseBefore returns the items carried by the current run of the
// latest day before day (within maxDays) of the channel: the CROSS_DAY
// items the next run must look for.
func (s *Store) SuspenseBefore(ctx context.Context, ch gateway.Channel, day string, maxDays int) (json.RawMessage, string, error) {
	d, err := time.Parse(DayFormat, day)
	if err != nil {
		return nil, "", err
	}
	from := d.AddDate(0, 0, -maxDays-1).Format(DayFormat)
	var carry, carryDay string
	err = s.r.QueryRowContext(ctx, `SELECT carry, day FROM recon_runs WHERE channel = ? AND day < ? AND day >= ? AND kind = 'trade'
		AND superseded_by IS NULL ORDER BY day DESC, id DESC LIMIT 1`, ch, day, from).Scan(&carry, &carryDay)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return json.RawMessage(carry), carryDay, nil
}

// FindingFilter narrows a findings listing.
type FindingFilter struct {
	RunID    int64
	Category string
	Open     bool // unresolved only
}

const findingColumns = `id, run_id, channel, day, first_day, category, severity, kind, side, out_trade_no, trade_no, out_request_no,
	flow_no, local_amount, platform_amount, local_status, platform_status, notify_status, bill_line, detail, resolution, note, resolver, resolved_at`

func scanFinding(r rowScanner) (Finding, error) {
	var f Finding
	var resolved sql.NullInt64
	err := r.Scan(&f.ID, &f.RunID, &f.Channel, &f.Day, &f.FirstDay, &f.Category, &f.Severity, &f.Kind, &f.Side, &f.OutTradeNo, &f.TradeNo,
		&f.OutRequestNo, &f.FlowNo, &f.LocalAmount, &f.PlatformAmount, &f.LocalStatus, &f.PlatformStatus, &f.NotifyStatus, &f.BillLine, &f.Detail,
		&f.Resolution, &f.Note, &f.Resolver, &resolved)
	f.ResolvedAt = fromNullMS(resolved)
	return f, err
}

// ListFindings returns a run's findings in report order (the order they
// were saved in).
func (s *Store) ListFindings(ctx context.Context, f FindingFilter) ([]Finding, error) {
	q := `SELECT ` + findingColumns + ` FROM findings WHERE run_id = ?`
	args := []any{f.RunID}
	if f.Category != "" {
		q += ` AND category = ?`
		args = append(args, f.Category)
	}
	if f.Open {
		q += ` AND resolution = ''`
	}
	out, err := collect(ctx, s.r, q+` ORDER BY id`, scanFinding, args...)
	if out == nil && err == nil {
		out = []Finding{} // a JSON listing shows [], not null
	}
	return out, err
}

// ErrFindingNotFound is returned for an unknown finding.
var ErrFindingNotFound = errors.New("finding not found")

// GetFinding returns one finding.
func (s *Store) GetFinding(ctx context.Context, id int64) (Finding, error) {
	f, err := scanFinding(s.r.QueryRowContext(ctx, `SELECT `+findingColumns+` FROM findings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("%w: %d", ErrFindingNotFound, id)
	}
	return f, err
}

// ErrFindingReplaced is returned for a finding of a run a later run of its
// day replaced: its resolution would not carry over, so it is refused.
var ErrFindingReplaced = errors.New("finding belongs to a replaced run")

// Resolution is one decision about a finding: resolved, ignored, or open
// again (an empty Resolution clears an earlier one), with the note saying
// why.
type Resolution struct {
	FindingID  int64
	Resolution string // resolved, ignored, or "" to reopen
	Note       string
}

// ResolveFinding records a decision about a finding (resolved or ignored,
// with who and why).
func (s *Store) ResolveFinding(ctx context.Context, id int64, resolution, note, resolver string, now time.Time) (Finding, error) {
	if resolution != "resolved" && resolution != "ignored" {
		return Finding{}, fmt.Errorf("resolution %q: want resolved or ignored", resolution)
	}
	fs, err := s.ApplyResolutions(ctx, []Resolution{{FindingID: id, Resolution: resolution, Note: note}}, resolver, now)
	if err != nil {
		return Finding{}, err
	}
	return fs[0], nil
}

// ApplyResolutions records decisions about several findings in one
// transaction: all of them, or (on any error: an unknown finding, one of a
// replaced run, a bad resolution) none. It returns the findings as they are
// now, in the order given.
func (s *Store) ApplyResolutions(ctx context.Context, rs []Resolution, resolver string, now time.Time) ([]Finding, error) {
	for _, r := range rs {
		switch r.Resolution {
		case "resolved", "ignored", "":
		default:
			return nil, fmt.Errorf("finding %d: resolution %q: want resolved, ignored or open", r.FindingID, r.Resolution)
		}
	}
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		for _, r := range rs {
			// The finding and its run stay locked to the end: a re-run
			// replacing the run meanwhile waits, or is seen here.
			var replacedBy int64
			err := tx.QueryRowContext(ctx, `SELECT coalesce(r.superseded_by, 0) FROM findings f JOIN recon_runs r ON r.id = f.run_id WHERE f.id = ? FOR UPDATE`,
				r.FindingID).Scan(&replacedBy)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: %d", ErrFindingNotFound, r.FindingID)
			}
			if err != nil {
				return err
			}
			if replacedBy != 0 {
				return fmt.Errorf("%w: finding %d (run %d replaced it: resolve its finding there)", ErrFindingReplaced, r.FindingID, replacedBy)
			}
			at := sql.NullInt64{Int64: ms(now), Valid: r.Resolution != ""}
			who, note := resolver, r.Note
			if r.Resolution == "" {
				who = ""
			}
			if _, err := tx.ExecContext(ctx, `UPDATE findings SET resolution = ?, note = ?, resolver = ?, resolved_at = ? WHERE id = ?`,
				r.Resolution, note, who, at, r.FindingID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Finding, len(rs))
	for i, r := range rs {
		if out[i], err = s.GetFinding(ctx, r.FindingID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PreviousRun returns the run of the same (channel, day, kind) saved
// before run, if any: the one it replaced, normally.
func (s *Store) PreviousRun(ctx context.Context, run Run) (Run, bool, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM recon_runs WHERE channel = ? AND day = ? AND kind = ? AND id < ? ORDER BY id DESC LIMIT 1`,
		run.Channel, run.Day, billKind(run.Kind), run.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	prev, err := s.GetRun(ctx, id)
	return prev, err == nil, err
}

// CurrentRunOf returns the run of (channel, day, kind) that no later run
// replaced.
func (s *Store) CurrentRunOf(ctx context.Context, ch gateway.Channel, day, kind string) (Run, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM recon_runs WHERE channel = ? AND day = ? AND kind = ? AND superseded_by IS NULL
		ORDER BY id DESC LIMIT 1`, ch, day, billKind(kind)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("%w: no %s run of %s %s", ErrRunNotFound, billKind(kind), ch, day)
	}
	if err != nil {
		return Run{}, err
	}
	return s.GetRun(ctx, id)
}

// TradeBillOf returns the trade bill of (channel, day) a fund run should
// expect bookings from: the bill of the day's current trade run, else the
// latest trade bill kept for the day (bills fetch/import). ok is false when
// none is kept.
func (s *Store) TradeBillOf(ctx context.Context, ch gateway.Channel, day string) (Bill, bool, error) {
	b, err := scanBill(s.r.QueryRowContext(ctx, `SELECT `+billColumns+` FROM bills WHERE id = coalesce(
		(SELECT bill_id FROM recon_runs WHERE channel = ? AND day = ? AND kind = 'trade' AND superseded_by IS NULL ORDER BY id DESC LIMIT 1),
		(SELECT id FROM bills WHERE channel = ? AND day = ? AND kind = 'trade' ORDER BY id DESC LIMIT 1))`, ch, day, ch, day))
	if errors.Is(err, sql.ErrNoRows) {
		return Bill{}, false, nil
	}
	return b, err == nil, err
}

// SaveBill stores a bill's row, or returns the row of the same bill stored
// before.
func (s *Store) SaveBill(ctx context.Context, b Bill) (Bill, error) {
	b.Kind = billKind(b.Kind)
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) (err error) {
		b.ID, err = saveBillTx(ctx, tx, b)
		return err
	})
	if err != nil {
		return Bill{}, err
	}
	return s.GetBill(ctx, b.ID)
}

// saveBillTx stores a bill's row unless the same bill (channel, day, hash)
// is stored already, and returns the row's id either way.
func saveBillTx(ctx context.Context, tx *Tx, b Bill) (int64, error) {
	stated, computed := billTotalsJSON(b)
	var id int64
	err := tx.QueryRowContext(ctx, insertBill+` RETURNING id`, b.Channel, b.Day, billKind(b.Kind), b.Source, b.FileName, b.Path, b.SHA256, b.Size,
		stated, computed, b.Lines, b.Account, ms(b.CreatedAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `SELECT id FROM bills WHERE channel = ? AND day = ? AND sha256 = ?`, b.Channel, b.Day, b.SHA256).Scan(&id)
	}
	return id, err
}
