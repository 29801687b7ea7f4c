package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	gossh "golang.org/x/crypto/ssh"

	"github.com/paydesk/paydesk/internal/sshconsole"
)

func newSSHUsersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "ssh-users", Short: "Check the people allowed into the SSH console ([[ssh.users]])"}
	cmd.AddCommand(newSSHUsersCheckCmd(a))
	return cmd
}

// sshUserKey is one key of a person, as check lists it.
type sshUserKey struct {
	Type        string `json:"type"`
	Fingerprint string `json:"fingerprint"`
}

type sshUserLine struct {
	Name string       `json:"name"`
	Role string       `json:"role"`
	Keys []sshUserKey `json:"keys"`
}

func newSSHUsersCheckCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate [[ssh.users]]: names, roles, and each public key (malformed, weak, given twice)",
		Long: `Validate [[ssh.users]] in paydesk.toml and list who may log in with which key.
Every mistake is reported at once, naming the person and the key: an empty or
repeated name, an unknown role, a person without keys, a key that is not one
OpenSSH public key line, options (from=, command=), certificates, DSA or short
RSA keys, and a key given twice. Exit 1 when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if cfg.File == "" {
				return usagef("no paydesk.toml found: pass --config FILE")
			}
			users, err := sshconsole.ParseUsers(cfg.SSH.Users)
			if err != nil {
				n := strings.Count(err.Error(), "\n") + 1
				return fmt.Errorf("%s: %d problem(s):\n%w", cfg.File, n, err)
			}
			var lines []sshUserLine
			keys := 0
			for _, u := range users.List() {
				l := sshUserLine{Name: u.Name, Role: string(u.Role)}
				for _, k := range u.Keys {
					l.Keys = append(l.Keys, sshUserKey{Type: k.Type(), Fingerprint: gossh.FingerprintSHA256(k)})
				}
				keys += len(u.Keys)
				lines = append(lines, l)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, lines)
			}
			tw := newTable(out)
			for _, l := range lines {
				for i, k := range l.Keys {
					name, role := l.Name, l.Role
					if i > 0 {
						name, role = "", ""
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, role, k.Type, k.Fingerprint)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d people, %d keys: ok\n", cfg.File, len(lines), keys)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
