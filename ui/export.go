package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/paydesk/paydesk/ops"
)

// exportDoneMsg is the outcome of an export. existing describes the file
// an export without force refused to replace (ops.ErrExportExists).
type exportDoneMsg struct {
	runID    int64
	path     string
	rows     int
	err      error
	existing string
	force    bool
}

func (exportDoneMsg) target() viewID { return reconTab }

// exportPath is where a run's workbook goes: the export folder, named by
// channel and day so a day's re-export replaces the day's file (after
// asking).
func (v *reconView) exportPath(channel, day string) string {
	return filepath.Join(v.c.opts.ExportDir, fmt.Sprintf("paydesk-recon-%s-%s.xlsx", channel, day))
}

// export writes the shown run to Excel. The first attempt never
// overwrites: ops refuses an existing file, and only then does the console
// ask (overwriting a workbook someone may have annotated needs a yes).
// Asking ops rather than looking first leaves no gap between the look and
// the write.
func (v *reconView) export() tea.Cmd {
	if v.run == nil {
		return toastCmd(toastInfo, "no run to export: run the reconciliation first (enter)")
	}
	return v.writeExport(v.run.ID, v.exportPath(string(v.run.Channel), v.run.Day), false)
}

func (v *reconView) writeExport(id int64, path string, force bool) tea.Cmd {
	c := v.c
	return c.startTask(fmt.Sprintf("exporting run %d", id), func(int, func(tea.Msg)) tea.Msg {
		res, err := c.svc.ExportRecon(c.ctx, id, path, force)
		m := exportDoneMsg{runID: id, path: path, rows: res.Rows, err: err, force: force}
		if res.Path != "" {
			m.path = res.Path
		}
		if errors.Is(err, ops.ErrExportExists) {
			// Said in the question, so the operator knows which file
			// they would lose; read here, off the UI's goroutine.
			m.existing = path + " exists."
			if st, serr := os.Stat(path); serr == nil {
				m.existing = fmt.Sprintf("%s exists (%d bytes, %s).", path, st.Size(), st.ModTime().In(c.zone).Format(time.DateTime))
			}
		}
		return m
	})
}

// exportDone toasts the outcome, or asks before replacing an existing file.
func (v *reconView) exportDone(msg exportDoneMsg) tea.Cmd {
	switch {
	case errors.Is(msg.err, ops.ErrExportExists) && !msg.force:
		return v.c.open(newConfirm(v.c.theme, "Overwrite "+msg.path+"?", []string{
			msg.existing,
			fmt.Sprintf("It will be replaced by the report of run %d.", msg.runID),
		}, "", v.writeExport(msg.runID, msg.path, true), "export cancelled; the file was left as it was"))
	case msg.err != nil:
		return errToast(fmt.Sprintf("export run %d", msg.runID), msg.err)
	}
	v.exported = msg.path
	return toastCmd(toastOK, fmt.Sprintf("exported run %d to %s (%s)", msg.runID, msg.path, plural(msg.rows, "row", "rows")))
}
