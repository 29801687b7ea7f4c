package ops

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/paydesk/paydesk/exports"
	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/store"
)

// ResolveFindings records one decision with one note about several
// findings (the console's marked rows): all of them, or none when any is
// unknown or belongs to a replaced run. Each finding's decision is audited.
func (s *Service) ResolveFindings(ctx context.Context, ids []int64, resolution, note string) ([]store.Finding, error) {
	target := fmt.Sprintf("%d findings", len(ids))
	if err := s.allow(ctx, ActResolve, target); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	var err error
	switch {
	case len(ids) == 0:
		err = errors.New("no findings marked")
	case resolution != "resolved" && resolution != "ignored":
		err = fmt.Errorf("resolution %q: want resolved or ignored", resolution)
	case note == "":
		err = errors.New("a note is required: say why, for whoever reads the audit log")
	}
	if err != nil {
		s.auditResult(ctx, ActResolve, target, "", err)
		return nil, err
	}
	rs := make([]store.Resolution, len(ids))
	for i, id := range ids {
		rs[i] = store.Resolution{FindingID: id, Resolution: resolution, Note: note}
	}
	fs, err := s.store.ApplyResolutions(ctx, rs, s.operator.Name, s.now())
	if err != nil {
		s.auditResult(ctx, ActResolve, target, fmt.Sprintf("%s %d findings: %s", resolution, len(ids), note), err)
		return nil, err
	}
	for _, f := range fs {
		s.auditResult(ctx, ActResolve, findingTarget(f), fmt.Sprintf("finding %d %s %s: %s (one of %d resolved together)",
			f.ID, f.Category, resolution, note, len(fs)), nil)
	}
	return fs, nil
}

func findingTarget(f store.Finding) string {
	if f.OutTradeNo != "" {
		return f.OutTradeNo
	}
	return "finding " + strconv.FormatInt(f.ID, 10)
}

// ImportResolutionsResult says what an import of resolutions did.
type ImportResolutionsResult struct {
	Path      string `json:"path"`
	Rows      int    `json:"rows"`      // finding rows read
	Changed   int    `json:"changed"`   // findings whose resolution or note changed
	Unchanged int    `json:"unchanged"` // rows that say what the finding already has
}

// CellError is one bad cell of an imported workbook: "Findings!S5: reason".
type CellError struct {
	Sheet, Cell, Reason string
}

func (e *CellError) Error() string { return fmt.Sprintf("%s!%s: %s", e.Sheet, e.Cell, e.Reason) }

// ErrBadResolutions wraps the errors of a refused resolutions workbook.
var ErrBadResolutions = errors.New("resolutions not imported; nothing was changed")

// ImportResolutions reads the Resolution and Note columns of a
// reconciliation report's Findings sheet (as `export recon` writes it and
// a person edits it in a spreadsheet) and applies them. Every row is
// checked first: its Finding and Run exist and belong together, the run is
// the current one of its day, the resolution is resolved, ignored or open,
// a decision has a note. Any bad row refuses the whole file, each problem
// named as sheet!cell: reason, and nothing changes. Otherwise the changed
// rows are applied in one transaction, each audited under the importing
// operator; rows that say what their finding already says change nothing.
func (s *Service) ImportResolutions(ctx context.Context, path string) (ImportResolutionsResult, error) {
	target := filepath.Base(path)
	res := ImportResolutionsResult{Path: path}
	if err := s.allow(ctx, ActResolve, target); err != nil {
		return res, err
	}
	rows, err := s.readResolutions(ctx, path, &res)
	if err != nil {
		s.auditResult(ctx, ActResolve, target, "import resolutions", err)
		return res, err
	}
	var apply []store.Resolution
	for _, r := range rows {
		apply = append(apply, r.Resolution)
	}
	fs, err := s.store.ApplyResolutions(ctx, apply, s.operator.Name, s.now())
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrBadResolutions, err)
		s.auditResult(ctx, ActResolve, target, "import resolutions", err)
		return res, err
	}
	for i, f := range fs {
		state := f.Resolution
		if state == "" {
			state = exports.ResolutionOpen
		}
		s.auditResult(ctx, ActResolve, findingTarget(f), fmt.Sprintf("finding %d %s %s: %s (imported from %s, %s)",
			f.ID, f.Category, state, f.Note, target, rows[i].where), nil)
	}
	res.Changed = len(fs)
	s.auditResult(ctx, ActResolve, target, fmt.Sprintf("imported resolutions: %d rows, %d changed, %d unchanged", res.Rows, res.Changed, res.Unchanged), nil)
	return res, nil
}

type importedResolution struct {
	store.Resolution
	where string // "Findings row 5"
}

// readResolutions reads and checks every row; it returns the rows that
// change something, or every problem found.
func (s *Service) readResolutions(ctx context.Context, path string, res *ImportResolutionsResult) ([]importedResolution, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not a readable .xlsx workbook: %w", ErrBadResolutions, path, err)
	}
	defer f.Close()
	sheet := exports.FindingsSheet
	if idx, err := f.GetSheetIndex(sheet); err != nil || idx < 0 {
		return nil, fmt.Errorf("%w: %s has no %s sheet (export a reconciliation run with paydesk export recon)", ErrBadResolutions, path, sheet)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResolutions, path, err)
	}
	defer rows.Close()
	var problems []error
	bad := func(col, row int, format string, args ...any) {
		cell, _ := excelize.CoordinatesToCellName(col+1, row)
		problems = append(problems, &CellError{Sheet: sheet, Cell: cell, Reason: fmt.Sprintf(format, args...)})
	}
	col := map[string]int{}
	var out []importedResolution
	seen := map[int64]int{}
	runs := map[int64]store.Run{}
	for r := 1; rows.Next(); r++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fmt.Errorf("%w: %s row %d: %w", ErrBadResolutions, sheet, r, err)
		}
		if r == 1 {
			for i, c := range cells {
				col[strings.TrimSpace(c)] = i
			}
			for _, need := range []string{exports.FindingIDColumn, exports.RunColumn, exports.ResolutionColumn, exports.NoteColumn} {
				if _, ok := col[need]; !ok {
					problems = append(problems, &CellError{Sheet: sheet, Cell: "1:1", Reason: "no " + need + " column in the header"})
				}
			}
			if len(problems) > 0 {
				return nil, fmt.Errorf("%w:\n%w", ErrBadResolutions, errors.Join(problems...))
			}
			continue
		}
		get := func(name string) string {
			if i := col[name]; i < len(cells) {
				return strings.TrimSpace(cells[i])
			}
			return ""
		}
		idText, runText := get(exports.FindingIDColumn), get(exports.RunColumn)
		if idText == "" && runText == "" && get(exports.ResolutionColumn) == "" {
			continue // a blank row
		}
		if idText == "Total" {
			continue // the SUBTOTAL row under the table
		}
		res.Rows++
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id <= 0 {
			bad(col[exports.FindingIDColumn], r, "finding id %q is not a number", idText)
			continue
		}
		if first, dup := seen[id]; dup {
			bad(col[exports.FindingIDColumn], r, "finding %d is also on row %d", id, first)
			continue
		}
		seen[id] = r
		fd, err := s.store.GetFinding(ctx, id)
		if errors.Is(err, store.ErrFindingNotFound) {
			bad(col[exports.FindingIDColumn], r, "finding %d does not exist", id)
			continue
		}
		if err != nil {
			return nil, err
		}
		runID, err := strconv.ParseInt(runText, 10, 64)
		switch {
		case err != nil || runID <= 0:
			bad(col[exports.RunColumn], r, "run %q is not a number", runText)
			continue
		case runID != fd.RunID:
			bad(col[exports.RunColumn], r, "finding %d belongs to run %d, not run %d", id, fd.RunID, runID)
			continue
		}
		run, ok := runs[runID]
		if !ok {
			if run, err = s.store.GetRun(ctx, runID); err != nil {
				return nil, err
			}
			runs[runID] = run
		}
		if run.Superseded != 0 {
			bad(col[exports.RunColumn], r, "run %d was replaced by run %d: export run %d and edit that", runID, run.Superseded, run.Superseded)
			continue
		}
		resolution := strings.ToLower(get(exports.ResolutionColumn))
		note := get(exports.NoteColumn)
		switch resolution {
		case exports.ResolutionOpen, "":
			resolution = ""
		case exports.ResolutionResolved, exports.ResolutionIgnored:
			if note == "" {
				bad(col[exports.NoteColumn], r, "a note is required when the resolution is %s: say why", resolution)
				continue
			}
		default:
			bad(col[exports.ResolutionColumn], r, "resolution %q: want resolved, ignored or open", get(exports.ResolutionColumn))
			continue
		}
		// The report masks buyer ids in notes; a note a person left alone
		// reads back masked and must not replace the real one.
		if resolution == fd.Resolution && (note == fd.Note || note == gateway.MaskBuyerIDs(fd.Note) || resolution == "") {
			res.Unchanged++
			continue
		}
		if resolution == "" {
			note = ""
		}
		out = append(out, importedResolution{store.Resolution{FindingID: id, Resolution: resolution, Note: note}, fmt.Sprintf("%s row %d", sheet, r)})
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResolutions, path, err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w:\n%w", ErrBadResolutions, errors.Join(problems...))
	}
	if res.Rows == 0 {
		return nil, fmt.Errorf("%w: %s!A2: no finding rows", ErrBadResolutions, sheet)
	}
	return out, nil
}
