package netsim

import (
	"sync/atomic"
	"time"
)

// cutSwitch decides whether the link is blacked out: by hand, or because
// a scheduled blackout covers the current time.
type cutSwitch struct {
	manual   atomic.Bool
	start    atomic.Pointer[time.Time] // nil until Serve starts
	schedule []Blackout
}

// active reports whether the link is cut at now.
func (c *cutSwitch) active(now time.Time) bool {
	if c.manual.Load() {
		return true
	}
	start := c.start.Load()
	if start == nil {
		return false
	}
	since := now.Sub(*start)
	for _, b := range c.schedule {
		if since >= b.At && since < b.At+b.For {
			return true
		}
	}
	return false
}
