package serve_test

import (
	"time"

	"github.com/paydesk/paydesk/gateway"
	"github.com/paydesk/paydesk/ops"
)

// ops_ReplayAll selects every failed notification, whenever received.
func ops_ReplayAll() ops.ReplayFilter { return ops.ReplayFilter{} }

// ops_ReconRequest reconciles a channel's day from the platform's bill.
func ops_ReconRequest(ch gateway.Channel, day time.Time) ops.ReconRequest {
	return ops.ReconRequest{Channel: ch, Day: day}
}
