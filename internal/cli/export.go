package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paydesk/paydesk/ops"
	"github.com/paydesk/paydesk/store"
)

func newExportCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write Excel workbooks: a reconciliation report, orders, callbacks, the audit log",
		Long: `Export writes .xlsx workbooks that open in Excel, WPS and LibreOffice: money as
numbers in yuan with a ¥ format (exact to the fen), times as dates in the business
zone, a frozen and filtered header. Buyer identifiers are masked and no key,
signature or raw callback is ever written. A file that exists is replaced only
with --force (or after asking, on a terminal); a failed export leaves no file.`,
	}
	cmd.AddCommand(newExportReconCmd(a), newExportOrdersCmd(a), newExportNotificationsCmd(a), newExportAuditCmd(a))
	return cmd
}

// exportFlags are the flags every export takes.
type exportFlags struct {
	out    string
	force  bool
	asJSON bool
}

func (f *exportFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "the workbook to write (FILE.xlsx)")
	fl.BoolVar(&f.force, "force", false, "replace the file if it exists")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
}

// open checks the flags, then opens the workspace: a wrong -o is reported
// before the database is touched.
func (f *exportFlags) open(a *app) (*ops.Service, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return a.service()
}

func (f *exportFlags) check() error {
	if f.out == "" {
		return usagef("-o FILE.xlsx is required")
	}
	if !strings.EqualFold(f.out[max(0, len(f.out)-5):], ".xlsx") {
		return usagef("-o %s: the file name must end in .xlsx (spreadsheet programs go by it)", f.out)
	}
	return nil
}

// run performs one export; when the file exists and --force was not
// given, it asks on a terminal and refuses otherwise (exit 1).
func (f *exportFlags) run(cmd *cobra.Command, export func(force bool) (ops.ExportResult, error)) error {
	res, err := export(f.force)
	if errors.Is(err, ops.ErrExportExists) {
		if !confirmReplace(cmd.InOrStdin(), cmd.ErrOrStderr(), f.out) {
			return fmt.Errorf("%s exists; nothing was written (pass --force to replace it)", f.out)
		}
		res, err = export(true)
	}
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.asJSON {
		return printJSON(out, res)
	}
	fmt.Fprintf(out, "wrote %s: %s on %s in %s\n", res.Path, plural(res.Rows, "row", "rows"), strings.Join(res.Sheets, ", "),
		res.Duration.Round(time.Millisecond))
	return nil
}

// confirmReplace asks whether to replace an existing file; only a terminal
// is asked, and only "y" or "yes" replaces.
func confirmReplace(in io.Reader, w io.Writer, path string) bool {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	fmt.Fprintf(w, "%s exists. Replace it? [y/N] ", path)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

func newExportReconCmd(a *app) *cobra.Command {
	var ef exportFlags
	cmd := &cobra.Command{
		Use:   "recon RUN_ID -o FILE.xlsx [--force]",
		Short: "Write a reconciliation run's report (Summary, Findings, every bill line)",
		Args:  exactArgs(1, "RUN_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("RUN_ID %q: want a run number (see paydesk recon show)", args[0])
			}
			svc, err := ef.open(a)
			if err != nil {
				return err
			}
			return ef.run(cmd, func(force bool) (ops.ExportResult, error) {
				return svc.ExportRecon(cmd.Context(), id, ef.out, force)
			})
		},
	}
	ef.add(cmd)
	return cmd
}

func newExportOrdersCmd(a *app) *cobra.Command {
	var ef exportFlags
	var of orderFilterFlags
	cmd := &cobra.Command{
		Use:   "orders [--status S] [--channel C] [--since D] [--until D] [--number PREFIX] -o FILE.xlsx",
		Short: "Write the orders a filter selects (all of them by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := ef.open(a)
			if err != nil {
				return err
			}
			f, err := of.filter(svc.Zone())
			if err != nil {
				return err
			}
			return ef.run(cmd, func(force bool) (ops.ExportResult, error) {
				return svc.ExportOrders(cmd.Context(), f, ef.out, force)
			})
		},
	}
	of.add(cmd)
	ef.add(cmd)
	return cmd
}

func newExportNotificationsCmd(a *app) *cobra.Command {
	var ef exportFlags
	var nf notificationFilterFlags
	cmd := &cobra.Command{
		Use:   "notifications [--failed] [--since D] [--channel C] -o FILE.xlsx",
		Short: "Write the stored payment callbacks and their outcome (never their raw bodies)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := ef.open(a)
			if err != nil {
				return err
			}
			f, err := nf.filter(svc.Zone())
			if err != nil {
				return err
			}
			return ef.run(cmd, func(force bool) (ops.ExportResult, error) {
				return svc.ExportNotifications(cmd.Context(), f, ef.out, force)
			})
		},
	}
	nf.add(cmd, "only callbacks that need attention (rejected, unknown order, failed, ...)")
	ef.add(cmd)
	return cmd
}

func newExportAuditCmd(a *app) *cobra.Command {
	var ef exportFlags
	var operator, action, since string
	cmd := &cobra.Command{
		Use:   "audit [--operator NAME] [--action A] [--since D] -o FILE.xlsx",
		Short: "Write the audit log: who did what, when, and how it ended",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := ef.open(a)
			if err != nil {
				return err
			}
			f := store.AuditFilter{Operator: operator, Action: action}
			if f.Since, err = parseDay("since", since, svc.Zone()); err != nil {
				return err
			}
			return ef.run(cmd, func(force bool) (ops.ExportResult, error) {
				return svc.ExportAudit(cmd.Context(), f, ef.out, force)
			})
		},
	}
	fl := cmd.Flags()
	// Not --operator: that is the global flag naming who exports (and is
	// audited for it); a local flag of the same name would shadow it.
	fl.StringVar(&operator, "by", "", "only this operator's actions")
	fl.StringVar(&action, "action", "", "only this action (query, refund, replay, export, ...)")
	fl.StringVar(&since, "since", "", "on or after this date (YYYY-MM-DD) or time")
	ef.add(cmd)
	return cmd
}
