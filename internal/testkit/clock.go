package testkit

import (
	"sync/atomic"
	"time"
)

// Clock is a settable clock for paydesk and the sandbox in tests that must
// live through more than a moment (a night between a refund and the bill).
type Clock struct{ t atomic.Pointer[time.Time] }

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

func (c *Clock) Now() time.Time  { return *c.t.Load() }
func (c *Clock) Set(t time.Time) { c.t.Store(&t) }
