package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/ops"
)

// errExportMissing: this build's ops has no ExportRecon yet.
var errExportMissing = errors.New("exporting needs the exports work (ops.ExportRecon), which this build does not have yet")

// exportRecon calls (*ops.Service).ExportRecon(ctx, runID, path, force)
// (ops.ExportResult{Path, Rows}, error). The exports work lands in main
// on its own schedule; until it does the method is absent and the key
// says so. When it is in main, this becomes a direct call.
func exportRecon(ctx context.Context, svc *ops.Service, runID int64, path string, force bool) (string, int, error) {
	m := reflect.ValueOf(svc).MethodByName("ExportRecon")
	if !m.IsValid() || m.Type().NumIn() != 4 || m.Type().NumOut() != 2 {
		return "", 0, errExportMissing
	}
	out := m.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(runID), reflect.ValueOf(path), reflect.ValueOf(force)})
	if err, _ := out[1].Interface().(error); err != nil {
		return "", 0, err
	}
	res := reflect.Indirect(out[0])
	p, rows := path, 0
	if f := res.FieldByName("Path"); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
		p = f.String()
	}
	if f := res.FieldByName("Rows"); f.IsValid() && f.CanInt() {
		rows = int(f.Int())
	}
	return p, rows, nil
}

type exportDoneMsg struct {
	runID int64
	path  string
	rows  int
	err   error
}

func (exportDoneMsg) target() viewID { return reconTab }

// exportPath is where a run's workbook goes: the export folder, named by
// channel and day so a day's re-export replaces the day's file (after
// asking).
func (v *reconView) exportPath(channel, day string) string {
	return filepath.Join(v.c.opts.ExportDir, fmt.Sprintf("paydesk-recon-%s-%s.xlsx", channel, day))
}

// export writes the shown run to Excel, asking first when the file exists.
func (v *reconView) export() tea.Cmd {
	if v.run == nil {
		return toastCmd(toastInfo, "no run to export: run the reconciliation first (enter)")
	}
	c, id := v.c, v.run.ID
	path := v.exportPath(string(v.run.Channel), v.run.Day)
	write := func(force bool) tea.Cmd {
		return c.startTask(fmt.Sprintf("exporting run %d", id), func(int, func(tea.Msg)) tea.Msg {
			p, rows, err := exportRecon(c.ctx, c.svc, id, path, force)
			return exportDoneMsg{runID: id, path: p, rows: rows, err: err}
		})
	}
	// The console chose the name, so it checks for it: overwriting a
	// workbook someone may have annotated needs a yes.
	if st, err := os.Stat(path); err == nil {
		return v.c.open(newConfirm("Overwrite "+path+"?", []string{
			fmt.Sprintf("%s exists (%d bytes, %s).", path, st.Size(), st.ModTime().In(c.zone).Format(time.DateTime)),
			fmt.Sprintf("It will be replaced by the report of run %d.", id),
		}, "", write(true), "export cancelled; the file was left as it was"))
	}
	return write(false)
}
