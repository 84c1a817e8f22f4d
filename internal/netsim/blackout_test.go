package netsim

import (
	"testing"
	"time"
)

func TestCutSwitch(t *testing.T) {
	c := cutSwitch{schedule: []Blackout{{At: 100 * time.Millisecond, For: 50 * time.Millisecond}, {At: time.Second, For: time.Second}}}
	t0 := time.Unix(1000, 0)
	if c.active(t0.Add(120 * time.Millisecond)) {
		t.Error("active before Serve started")
	}
	c.start.Store(&t0)
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{
		{0, false},
		{99 * time.Millisecond, false},
		{100 * time.Millisecond, true},
		{149 * time.Millisecond, true},
		{150 * time.Millisecond, false},
		{time.Second, true},
		{2 * time.Second, false},
	} {
		if got := c.active(t0.Add(tt.at)); got != tt.want {
			t.Errorf("active at %v = %v, want %v", tt.at, got, tt.want)
		}
	}
	c.manual.Store(true)
	if !c.active(t0) {
		t.Error("manual blackout not active")
	}
}
