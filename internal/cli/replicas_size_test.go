//go:build !heavy

package cli

// replicaStormPayments is how many payments the two-process storm makes in
// the normal suite; `go test -tags heavy ./internal/cli` makes 1,000.
const replicaStormPayments = 200
