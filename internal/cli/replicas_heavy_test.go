//go:build heavy

package cli

// replicaStormPayments: the full storm of issue 15's "must show" (a minute
// or two on a 2-core machine).
const replicaStormPayments = 1000

// demoCopyOrdersPerDay: the demo workspace as `paydesk demo` makes it.
const demoCopyOrdersPerDay = 300
