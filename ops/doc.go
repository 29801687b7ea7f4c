// Package ops owns the operations a person or a script performs on
// paydesk: importing orders, listing and showing them, querying the
// platforms live, refunding, taking in and replaying callbacks, fetching
// and keeping bills, reconciling trades and funds, comparing runs,
// resolving findings and exporting. Each operation is one method of
// Service that checks the operator's role, does its work over the store and
// the platform gateways, and writes an audit record. The console (local or
// over SSH) and the CLI call ops and nothing below it.
package ops
