package ui

import (
	"context"
	"time"

	"github.com/paydesk/paydesk/ops"
)

// viewID names a tab. Results of background work carry the id of the view
// that asked, and only that view receives them (gh-dash's section ids).
type viewID int

const (
	ordersTab viewID = iota
	reconTab
	notificationsTab
	refundsTab
	auditTab
	tabCount
)

var tabNames = [tabCount]string{"Orders", "Reconcile", "Notifications", "Refunds", "Audit"}

// programContext is the one bundle of shared things pushed down to every
// component: the service, options, theme, keys, sizes and the current time.
// Components hold a pointer to it and never keep their own copies, so a
// resize or a clock tick reaches all of them at once.
type programContext struct {
	ctx   context.Context
	svc   *ops.Service
	opts  Options
	theme *theme
	keys  *keyMap
	zone  *time.Location
	now   time.Time
	// spin is the spinner's current frame, drawn in rows whose live query
	// is in flight.
	spin string
	// width and height are the terminal's; the body is what is left
	// between the header and the status bar.
	width, height int
	// pending is a dialog a view opened during this Update.
	pending dialog
	// taskSeq numbers background tasks for the status bar.
	taskSeq int
}

// can reports whether the operator's role allows an action. Views use it
// to hide keys; ops refuses anyway.
func (c *programContext) can(a ops.Action) bool { return c.svc.Can(a) }

// local formats a time in the business zone.
func (c *programContext) local(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(c.zone).Format(layout)
}

// age says how long ago t was, in the shortest useful unit.
func (c *programContext) age(t time.Time) string {
	d := c.now.Sub(t)
	switch {
	case d < 0:
		return "now"
	case d < time.Minute:
		return itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h"
	}
	return itoa(int(d/(24*time.Hour))) + "d"
}
