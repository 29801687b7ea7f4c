package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newReconImportResolutionsCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import-resolutions FILE.xlsx",
		Short: "Apply the Resolution and Note columns of an edited reconciliation report",
		Long: `Import-resolutions reads the Findings sheet of a report written by "export recon"
after a person filled in its Resolution (resolved, ignored or open) and Note
columns. Every row is checked first — the finding and run exist and belong
together, the run is still the current one of its day, the resolution is an
allowed value, a decision has a note — and any bad row refuses the whole file
with each problem as Findings!CELL: reason; nothing is changed then. Otherwise
every changed row is applied together, and each is in the audit log under the
operator who imported it.`,
		Args: exactArgs(1, "FILE.xlsx"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service()
			if err != nil {
				return err
			}
			res, err := svc.ImportResolutions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s read, %d changed, %d already so\n", res.Path, plural(res.Rows, "finding row", "finding rows"),
				res.Changed, res.Unchanged)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
