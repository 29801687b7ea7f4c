package serve_test

import "github.com/paydesk/paydesk/ops"

// ops_ReplayAll selects every failed notification, whenever received.
func ops_ReplayAll() ops.ReplayFilter { return ops.ReplayFilter{} }
