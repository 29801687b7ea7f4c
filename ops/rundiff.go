package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/paydesk/paydesk/store"
)

// Change says how a finding stands against the run before: a finding of
// the later run is new, still open or resolved; one of the earlier run
// only is gone (the later run found nothing wrong there any more).
type Change string

const (
	ChangeNew       Change = "new"
	ChangeStillOpen Change = "still open"
	ChangeResolved  Change = "resolved"
	ChangeGone      Change = "gone"
)

// ChangeKinds lists the changes in the order the summary line says them.
var ChangeKinds = []Change{ChangeNew, ChangeGone, ChangeStillOpen, ChangeResolved}

// Mark is the change as the console and the CLI mark a row: one
// character, readable without colour.
func (c Change) Mark() string {
	switch c {
	case ChangeNew:
		return "+"
	case ChangeGone:
		return "-"
	case ChangeStillOpen:
		return "="
	case ChangeResolved:
		return "✓"
	}
	return " "
}

// FindingChange is one finding with how it changed.
type FindingChange struct {
	Change  Change        `json:"change"`
	Finding store.Finding `json:"finding"`
}

// RunDiff compares two runs of the same channel and kind (normally the
// same day: a run and the one it replaced).
type RunDiff struct {
	// From is the earlier run; its ID is 0 when To has none before it (then
	// every finding of To is new).
	From store.Run `json:"from"`
	To   store.Run `json:"to"`
	// Changes are To's findings in report order, then the gone ones.
	Changes []FindingChange `json:"changes"`
	Counts  map[Change]int  `json:"counts"`
}

// Summary is the one-line account of the changes ("3 new · 2 gone · 5
// still open"); changes with no finding are left out.
func (d RunDiff) Summary() string { return ChangeSummary(d.Counts) }

// ChangeSummary says counts of changes in one line.
func ChangeSummary(counts map[Change]int) string {
	var parts []string
	for _, c := range ChangeKinds {
		if n := counts[c]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+string(c))
		}
	}
	if len(parts) == 0 {
		return "no findings either run"
	}
	return strings.Join(parts, " · ")
}

// ByID returns the change of each of To's findings by finding id.
func (d RunDiff) ByID() map[int64]Change {
	out := make(map[int64]Change, len(d.Changes))
	for _, c := range d.Changes {
		if c.Change != ChangeGone {
			out[c.Finding.ID] = c.Change
		}
	}
	return out
}

// DiffRuns compares run to with run from; from 0 means the run of the same
// (channel, day, kind) saved before to. Findings are the same finding when
// their fingerprints are (store.Finding.Fingerprint): the same booking in
// the same category.
func (s *Service) DiffRuns(ctx context.Context, from, to int64) (RunDiff, error) {
	if err := s.allow(ctx, ActRead, ""); err != nil {
		return RunDiff{}, err
	}
	b, err := s.store.GetRun(ctx, to)
	if err != nil {
		return RunDiff{}, err
	}
	var a store.Run
	if from == 0 {
		prev, ok, err := s.store.PreviousRun(ctx, b)
		if err != nil {
			return RunDiff{}, err
		}
		if ok {
			a = prev
		}
	} else if a, err = s.store.GetRun(ctx, from); err != nil {
		return RunDiff{}, err
	}
	if a.ID != 0 && (a.Channel != b.Channel || a.Kind != b.Kind) {
		return RunDiff{}, fmt.Errorf("run %d is a %s %s run and run %d a %s %s run: compare runs of one channel and kind",
			a.ID, a.Channel, a.Kind, b.ID, b.Channel, b.Kind)
	}
	var before []store.Finding
	if a.ID != 0 {
		if before, err = s.store.ListFindings(ctx, store.FindingFilter{RunID: a.ID}); err != nil {
			return RunDiff{}, err
		}
	}
	after, err := s.store.ListFindings(ctx, store.FindingFilter{RunID: b.ID})
	if err != nil {
		return RunDiff{}, err
	}
	d := RunDiff{From: a, To: b, Changes: diffFindings(before, after), Counts: map[Change]int{}}
	for _, c := range d.Changes {
		d.Counts[c.Change]++
	}
	return d, nil
}

// diffFindings classifies after's findings against before's, and adds
// before's that after no longer has.
func diffFindings(before, after []store.Finding) []FindingChange {
	was := make(map[string]bool, len(before))
	for _, f := range before {
		was[f.Fingerprint()] = true
	}
	out := make([]FindingChange, 0, len(after))
	now := make(map[string]bool, len(after))
	for _, f := range after {
		fp := f.Fingerprint()
		now[fp] = true
		c := ChangeNew
		switch {
		case !was[fp]:
		case f.Resolution != "":
			c = ChangeResolved
		default:
			c = ChangeStillOpen
		}
		out = append(out, FindingChange{Change: c, Finding: f})
	}
	for _, f := range before {
		if !now[f.Fingerprint()] {
			out = append(out, FindingChange{Change: ChangeGone, Finding: f})
		}
	}
	return out
}
