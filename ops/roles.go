package ops

import (
	"errors"
	"fmt"
	"strings"
)

// Role is what an operator may do.
type Role string

const (
	Viewer   Role = "viewer"   // reads, reconciles and exports
	Support  Role = "support"  // + live queries and refunds
	Engineer Role = "engineer" // + live queries, callback replays and order imports
	Admin    Role = "admin"    // everything
)

// ParseRole accepts a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case Viewer, Support, Engineer, Admin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want viewer, support, engineer or admin)", s)
}

// Action is something an operator does that a role may forbid.
type Action string

const (
	ActRead         Action = "read"
	ActExport       Action = "export"
	ActReconcile    Action = "reconcile"
	ActQuery        Action = "query"
	ActRefund       Action = "refund"
	ActReplay       Action = "replay"
	ActResolve      Action = "resolve"
	ActImportOrders Action = "import-orders"
	// ActPrune deletes stored callbacks that never verified. Admin only:
	// it removes raw records that ARCHITECTURE.md §3 rule 1 keeps, and
	// how long evidence is kept belongs to whoever owns the workspace, not
	// to the engineers who replay callbacks or the staff who read them.
	ActPrune Action = "prune"
	// ActCopyStore moves the whole workspace to another database: admin only.
	ActCopyStore Action = "copy-store"
)

// Finance staff reconcile as viewers: a run reads the platform's bill and
// records findings but moves no money. Resolving a finding is a decision
// about money, so it needs more than viewer.
var allowed = map[Role][]Action{
	Viewer:   {ActRead, ActExport, ActReconcile},
	Support:  {ActRead, ActExport, ActReconcile, ActQuery, ActRefund, ActResolve},
	Engineer: {ActRead, ActExport, ActReconcile, ActQuery, ActReplay, ActResolve, ActImportOrders},
}

// Can reports whether the role allows the action.
func (r Role) Can(a Action) bool {
	if r == Admin {
		return true
	}
	for _, x := range allowed[r] {
		if x == a {
			return true
		}
	}
	return false
}

// ErrForbidden is returned when the operator's role does not allow an
// operation. The console hides such actions; ops refuses them anyway.
var ErrForbidden = errors.New("not allowed for this role")

// Operator is who is acting: a name for the audit log and a role.
type Operator struct {
	Name string
	Role Role
	// Via says how the operator reached paydesk when not on the host
	// itself ("ssh 203.0.113.5:51234"); every audit record carries it.
	Via string
}

func (o Operator) String() string { return fmt.Sprintf("%s (%s)", o.Name, o.Role) }
