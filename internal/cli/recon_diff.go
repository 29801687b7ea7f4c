package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/ops"
)

func newReconDiffCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff [RUN_A] RUN_B",
		Short: "What changed between two runs (default: RUN_B and the run of its day before it)",
		Long: `Diff lists RUN_B's findings as new (not in RUN_A), still open, or resolved, and
RUN_A's findings that RUN_B no longer has as gone; marks: + new, = still open,
✓ resolved, - gone. Without RUN_A, RUN_B is compared with the run of the same
day, channel and kind saved before it.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int64, len(args))
			for i, s := range args {
				id, err := strconv.ParseInt(s, 10, 64)
				if err != nil || id <= 0 {
					return usagef("run %q: want a run number (see paydesk recon show)", s)
				}
				ids[i] = id
			}
			var from, to int64
			if len(ids) == 2 {
				from, to = ids[0], ids[1]
			} else {
				to = ids[0]
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			d, err := svc.DiffRuns(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, struct {
					From    int64               `json:"from_run"`
					To      int64               `json:"to_run"`
					Summary string              `json:"summary"`
					Counts  map[ops.Change]int  `json:"counts"`
					Changes []ops.FindingChange `json:"changes"`
				}{d.From.ID, d.To.ID, d.Summary(), d.Counts, d.Changes})
			}
			if d.From.ID == 0 {
				fmt.Fprintf(out, "run %d is the first %s run of %s %s: everything is new\n", d.To.ID, d.To.Kind, d.To.Channel, d.To.Day)
			} else {
				fmt.Fprintf(out, "run %d (%s %s) against run %d (%s)\n", d.To.ID, d.To.Channel, d.To.Day, d.From.ID, d.From.Day)
			}
			fmt.Fprintln(out, d.Summary())
			if len(d.Changes) == 0 {
				return nil
			}
			fmt.Fprintln(out)
			return writeFindingTable(out, d.Changes, true)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
