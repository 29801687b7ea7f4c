package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/paydesk/paydesk/store"
)

func newStoreCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "Move the workspace's database"}
	cmd.AddCommand(newStoreCopyCmd(a))
	return cmd
}

func newStoreCopyCmd(a *app) *cobra.Command {
	var to string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "copy --to postgres://…",
		Short: "Copy this SQLite workspace into a PostgreSQL database",
		Long: `Copy every order, refund, callback (with its attempts), live query, bill record,
reconciliation run, finding with its resolution, and audit entry of the SQLite
workspace into a PostgreSQL database, keeping every id. Kept bill files are not
copied: their records keep the paths they have (README, "What is backed up
where"). Stop serve and cron on the workspace first.

The destination must be new and empty, or a copy this command started and did
not finish: run the same command again and it goes on from where it stopped.
At the end it checks that every table holds as many rows, and the same money
totals, on both sides. Then point [store] url at the database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !store.IsURL(to) {
				return usagef("--to: want a postgres:// or postgresql:// URL")
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			dst, err := store.Open(to)
			if err != nil {
				return err
			}
			defer dst.Close()
			errOut := cmd.ErrOrStderr()
			last := time.Time{}
			rep, err := svc.CopyStore(cmd.Context(), dst, func(p store.CopyProgress) {
				if p.Copied == p.Total || time.Since(last) > time.Second {
					last = time.Now()
					fmt.Fprintf(errOut, "%-22s %d of %d rows\n", p.Table, p.Copied, p.Total)
				}
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, rep)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "TABLE\tROWS\tALREADY THERE\tTEXT MADE VALID")
			for _, t := range rep.Tables {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", t.Table, t.Copied, t.AlreadyThere, t.SanitizedTexts)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(out, "Verified: every table has the same rows and money totals in %s.\n", dst.Path())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&to, "to", "", "the PostgreSQL database to copy into (postgres://…)")
	fl.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
