package ops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paydesk/paydesk/exports"
	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// ErrExportExists is returned when an export would replace an existing file
// and force was not given.
var ErrExportExists = exports.ErrExists

// ExportResult reports a written workbook.
type ExportResult struct {
	Path     string        `json:"path"`
	Sheets   []string      `json:"sheets"`
	Rows     int           `json:"rows"`
	Duration time.Duration `json:"duration_ns"`
}

// exportPage is how many rows an export reads from the store at a time.
const exportPage = 1000

// ExportRecon writes the reconciliation report of a run to path (an .xlsx
// workbook; see exports.ReconReport). The run's kept bill file is read
// again for the Lines sheet and must still be the file the run reconciled
// (same sha256).
func (s *Service) ExportRecon(ctx context.Context, runID int64, path string, force bool) (ExportResult, error) {
	target := exportTarget(path)
	if err := s.allow(ctx, ActExport, target); err != nil {
		return ExportResult{}, err
	}
	res, run, err := s.exportRecon(ctx, runID, path, force)
	detail := fmt.Sprintf("recon run %d", runID)
	if run.ID != 0 {
		detail = fmt.Sprintf("recon run %d (%s %s)", runID, run.Channel, run.Day)
	}
	s.auditResult(ctx, ActExport, target, exportDetail(detail, res, err), err)
	return res, err
}

func (s *Service) exportRecon(ctx context.Context, runID int64, path string, force bool) (ExportResult, store.Run, error) {
	run, err := s.store.GetRun(ctx, runID)
	if err != nil {
		return ExportResult{}, run, err
	}
	findings, err := s.store.ListFindings(ctx, store.FindingFilter{RunID: runID})
	if err != nil {
		return ExportResult{}, run, err
	}
	in := exports.Recon{Run: run, Findings: findings, Zone: s.zone, ExportedAt: s.now(), ExportedBy: s.operator.Name,
		OpenBill:  func() (gateway.BillReader, func(bool) error, error) { return s.openKeptBill(*run.Bill, 0) },
		OpenFunds: func() (gateway.FundReader, func(bool) error, error) { return s.openKeptFunds(*run.Bill) },
	}
	if run.Kind != store.BillFunds {
		// The day's fund-flow run gets a sheet of its own in the report.
		fr, err := s.store.CurrentRunOf(ctx, run.Channel, run.Day, store.BillFunds)
		switch {
		case err == nil:
			ff, err := s.store.ListFindings(ctx, store.FindingFilter{RunID: fr.ID})
			if err != nil {
				return ExportResult{}, run, err
			}
			in.Funds = &exports.FundRun{Run: fr, Findings: ff}
		case !errors.Is(err, store.ErrRunNotFound):
			return ExportResult{}, run, err
		}
	}
	res, err := s.export(path, force, func(w io.Writer) (exports.Result, error) { return exports.ReconReport(w, in) })
	return res, run, err
}

// ExportOrders writes the orders a filter selects, newest first (by number
// for a number filter), paged by keyset so that any number of orders
// streams.
func (s *Service) ExportOrders(ctx context.Context, f store.OrderFilter, path string, force bool) (ExportResult, error) {
	var cur *store.Cursor
	done := false
	next := func() ([]exports.OrderRow, error) {
		if done {
			return nil, nil
		}
		p, err := s.ListOrders(ctx, f, cur, store.Older, exportPage)
		if err != nil {
			return nil, err
		}
		if len(p.Rows) < exportPage {
			done = true
		}
		cur = &p.Last
		rows := make([]exports.OrderRow, len(p.Rows))
		for i, r := range p.Rows {
			rows[i] = exports.OrderRow{Order: r.Order, Callback: string(r.Callback), Disagrees: r.Disagrees}
			if r.Platform != nil {
				rows[i].PlatformState, rows[i].QueriedAt = r.Platform.PlatformState, r.Platform.At
				if r.Platform.Error != "" && r.Platform.PlatformState == "" {
					rows[i].PlatformState = "query failed"
				}
			}
		}
		return rows, nil
	}
	return exportListing(s, ctx, path, force, "orders", describeOrderFilter(f, s.zone), next, exports.Orders)
}

// ExportNotifications writes the stored callbacks a filter selects, newest
// first, without their raw headers and bodies.
func (s *Service) ExportNotifications(ctx context.Context, f store.NotificationFilter, path string, force bool) (ExportResult, error) {
	// Without the raw requests, which hold the platform's signature and
	// the buyer's identity: they are never read for an export at all.
	next := pagesBeforeID(func(before int64) ([]store.Notification, error) {
		return s.store.ListNotificationsWithoutRaw(ctx, f, before, exportPage)
	}, func(n store.Notification) int64 { return n.ID })
	return exportListing(s, ctx, path, force, "notifications", describeNotificationFilter(f, s.zone), next, exports.Notifications)
}

// ExportAudit writes the audit log entries a filter selects, newest first.
// The export's own audit record is written after the file, so it is not in
// it.
func (s *Service) ExportAudit(ctx context.Context, f store.AuditFilter, path string, force bool) (ExportResult, error) {
	next := pagesBeforeID(func(before int64) ([]store.AuditEntry, error) {
		return s.store.ListAudit(ctx, f, before, exportPage)
	}, func(e store.AuditEntry) int64 { return e.ID })
	return exportListing(s, ctx, path, force, "audit log", describeAuditFilter(f, s.zone), next, exports.Audit)
}

// exportListing is what every filtered export does around its rows: the
// role is checked first, the workbook reads the rows a page at a time
// through next as it writes them, and the outcome is audited with what was
// exported and the filter in words.
func exportListing[T any](s *Service, ctx context.Context, path string, force bool, what, filter string,
	next func() ([]T, error), write func(io.Writer, func() ([]T, error), exports.About) (exports.Result, error)) (ExportResult, error) {
	target := exportTarget(path)
	if err := s.allow(ctx, ActExport, target); err != nil {
		return ExportResult{}, err
	}
	res, err := s.export(path, force, func(w io.Writer) (exports.Result, error) {
		return write(w, next, s.about(filter))
	})
	s.auditResult(ctx, ActExport, target, exportDetail(what+": "+orEverything(filter), res, err), err)
	return res, err
}

// pagesBeforeID reads a newest-first list by id, exportPage rows at a time,
// each page before the last id of the one above; a short page is the last,
// so the store is not asked again for an empty one.
func pagesBeforeID[T any](list func(before int64) ([]T, error), idOf func(T) int64) func() ([]T, error) {
	var before int64
	done := false
	return func() ([]T, error) {
		if done {
			return nil, nil
		}
		page, err := list(before)
		if err != nil {
			return nil, err
		}
		if len(page) < exportPage {
			done = true
		}
		if len(page) > 0 {
			before = idOf(page[len(page)-1])
		}
		return page, nil
	}
}

// export writes one workbook to path through a temporary file (see
// exports.WriteFile) and times it.
func (s *Service) export(path string, force bool, write func(io.Writer) (exports.Result, error)) (ExportResult, error) {
	start := time.Now()
	if path == "" {
		return ExportResult{}, errors.New("export: no output file")
	}
	var r exports.Result
	err := exports.WriteFile(path, force, func(w io.Writer) error {
		var err error
		r, err = write(w)
		return err
	})
	if err != nil {
		return ExportResult{}, err
	}
	return ExportResult{Path: path, Sheets: r.Sheets, Rows: r.Rows, Duration: time.Since(start)}, nil
}

func (s *Service) about(filter string) exports.About {
	return exports.About{Filter: filter, Zone: s.zone, ExportedAt: s.now(), ExportedBy: s.operator.Name}
}

// exportTarget is the audited target of an export: the file, absolute so
// that the record says which one.
func exportTarget(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func exportDetail(what string, res ExportResult, err error) string {
	if err != nil {
		return what
	}
	return fmt.Sprintf("%s: %d rows on %s", what, res.Rows, strings.Join(res.Sheets, ", "))
}

func orEverything(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

// openKeptBill opens a run's kept bill file for a second reading, its
// reader's strings kept for textRows rows (gateway.BillOptions.TextRows;
// 0: as long as they are referenced); done closes the file and, when the
// bill was read to its end, fails if its hash is no longer the one the run
// reconciled.
func (s *Service) openKeptBill(b store.Bill, textRows int) (gateway.BillReader, func(bool) error, error) {
	r, done, err := s.openKept(b)
	if err != nil {
		return nil, nil, err
	}
	br, err := s.openKeptText(b.Channel, b.FileName, r, textRows)
	if err != nil {
		_ = done(false)
		return nil, nil, err
	}
	return br, done, nil
}

// openKeptFunds re-opens a kept fund bill, like openKeptBill.
func (s *Service) openKeptFunds(b store.Bill) (gateway.FundReader, func(bool) error, error) {
	r, done, err := s.openKept(b)
	if err != nil {
		return nil, nil, err
	}
	fr, err := s.OpenFundBill(b.Channel, b.FileName, r)
	if err != nil {
		_ = done(false)
		return nil, nil, err
	}
	return fr, done, nil
}

// openKept opens a kept bill file for reading where it lies: a zip is read
// at random (its directory, then its detail entry), not copied into memory
// first (a ten-million-row bill's 350 MB zip was, beside the fund run's
// items). done hashes the file once everything was read, and closes it.
func (s *Service) openKept(b store.Bill) (io.Reader, func(bool) error, error) {
	path := b.Path
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(path) && s.billsRoot != "" {
		// Kept relative to where paydesk ran; try the workspace's folder
		// (the one that holds bills/) too.
		if g, gerr := os.Open(filepath.Join(filepath.Dir(s.billsRoot), path)); gerr == nil {
			f, err, path = g, nil, g.Name()
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the run's bill file: %w", err)
	}
	return f, func(readAll bool) error { return finishKeptBill(f, b, path, readAll) }, nil
}

// finishKeptBill checks a kept bill read to its end against the hash the
// run kept, reading the whole file again (from the page cache, at the
// hash's speed): the file is compared as it stands once the parse is done,
// so one changed since it was kept, or while it was read and left so, is
// refused.
func finishKeptBill(f *os.File, b store.Bill, path string, readAll bool) error {
	defer f.Close()
	if !readAll || b.SHA256 == "" {
		return nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, math.MaxInt64)); err != nil {
		return fmt.Errorf("the run's bill file %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, b.SHA256) {
		return fmt.Errorf("the run's bill file %s has changed since the run (sha256 %s, reconciled %s): re-run the reconciliation", path, got, b.SHA256)
	}
	return nil
}

func describeOrderFilter(f store.OrderFilter, zone *time.Location) string {
	var parts []string
	if f.Status != "" {
		parts = append(parts, "status "+string(f.Status))
	}
	if f.Channel != "" {
		parts = append(parts, "channel "+string(f.Channel))
	}
	if !f.Since.IsZero() {
		parts = append(parts, "created since "+f.Since.In(zone).Format(time.DateTime))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "created before "+f.Until.In(zone).Format(time.DateTime))
	}
	if f.Number != "" {
		parts = append(parts, "number starting "+f.Number)
	}
	return strings.Join(parts, ", ")
}

func describeNotificationFilter(f store.NotificationFilter, zone *time.Location) string {
	var parts []string
	if f.Channel != "" {
		parts = append(parts, "channel "+string(f.Channel))
	}
	if f.OutTradeNo != "" {
		parts = append(parts, "order "+f.OutTradeNo)
	}
	if f.Failed {
		parts = append(parts, "needing attention")
	}
	if !f.Since.IsZero() {
		parts = append(parts, "received since "+f.Since.In(zone).Format(time.DateTime))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "received before "+f.Until.In(zone).Format(time.DateTime))
	}
	return strings.Join(parts, ", ")
}

func describeAuditFilter(f store.AuditFilter, zone *time.Location) string {
	var parts []string
	if f.Operator != "" {
		parts = append(parts, "operator "+f.Operator)
	}
	if f.Action != "" {
		parts = append(parts, "action "+f.Action)
	}
	if f.Target != "" {
		parts = append(parts, "target "+f.Target)
	}
	if f.Text != "" {
		parts = append(parts, "mentioning "+f.Text)
	}
	if !f.Since.IsZero() {
		parts = append(parts, "since "+f.Since.In(zone).Format(time.DateTime))
	}
	return strings.Join(parts, ", ")
}
