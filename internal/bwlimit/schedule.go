package bwlimit

import (
	"strings"
	"time"
)

// A Schedule maps each moment of the week to a Rate. Build one with
// ParseSchedule; the grammar is in the package documentation. A nil
// *Schedule is unlimited at all times.
type Schedule struct {
	rules []rule
	// bounds holds the minutes of the day, strictly between 0 and 24:00, at
	// which some window starts or ends, in increasing order. Midnight is
	// always a boundary (day ranges change there).
	bounds []int
}

// rule is one comma-separated RULE of a schedule.
type rule struct {
	days        bool         // DAYS given; if not, every day
	first, last time.Weekday // DAYS as written; first > last wraps the week
	window      bool         // HH:MM-HH:MM given; if not, all day
	start, end  int          // minutes since midnight; end may be 1440, end < start wraps midnight
	rate        Rate
}

const minutesPerDay = 24 * 60

// on reports whether the rule's days include d.
func (r rule) on(d time.Weekday) bool {
	switch {
	case !r.days:
		return true
	case r.first <= r.last:
		return r.first <= d && d <= r.last
	}
	return d >= r.first || d <= r.last
}

// matches reports whether the rule covers minute m of weekday d. A window
// that wraps midnight belongs to the day it starts on.
func (r rule) matches(d time.Weekday, m int) bool {
	switch {
	case !r.window:
		return r.on(d)
	case r.start < r.end:
		return r.on(d) && r.start <= m && m < r.end
	}
	return (r.on(d) && m >= r.start) || (r.on((d+6)%7) && m < r.end)
}

// At returns the rate in force at t, read on the wall clock of t's location
// (time.Now() carries time.Local): the rate of the first rule that matches,
// or Unlimited if none does.
func (s *Schedule) At(t time.Time) Rate {
	if s == nil {
		return Unlimited
	}
	h, m, _ := t.Clock()
	day, minute := t.Weekday(), h*60+m
	for _, r := range s.rules {
		if r.matches(day, minute) {
			return r.rate
		}
	}
	return Unlimited
}

// Next returns the first instant after t at which At returns a rate other
// than At(t), or the zero Time if the rate never changes. Boundaries follow
// t's wall clock, including its daylight-saving jumps: a boundary inside a
// skipped hour takes effect when the clock jumps past it, and one inside a
// repeated hour takes effect both times.
func (s *Schedule) Next(t time.Time) time.Time {
	if s == nil {
		return time.Time{}
	}
	// The schedule repeats weekly; a clock change aside, a week and a day
	// of boundaries without a change means none is coming.
	r0, horizon := s.At(t), t.Add(8*24*time.Hour)
	for cur := t; cur.Before(horizon); {
		cur = s.nextBoundary(cur)
		if s.At(cur) != r0 {
			return cur
		}
	}
	return time.Time{}
}

// nextBoundary returns the first instant after t at which At could change:
// the next window boundary or midnight on t's wall clock, or the end of the
// zone offset in force at t (a daylight-saving jump), whichever comes first.
// Until the zone changes, wall time advances with elapsed time, so the step
// is plain arithmetic.
func (s *Schedule) nextBoundary(t time.Time) time.Time {
	h, m, sec := t.Clock()
	wall := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(t.Nanosecond())
	step := 24*time.Hour - wall
	for _, b := range s.bounds {
		if d := time.Duration(b) * time.Minute; d > wall {
			step = d - wall
			break
		}
	}
	next := t.Add(step)
	if _, end := t.ZoneBounds(); !end.IsZero() && end.After(t) && end.Before(next) {
		next = end
	}
	return next
}

// String returns the schedule in the canonical form of its grammar, which
// ParseSchedule reads back to the same schedule.
func (s *Schedule) String() string {
	if s == nil {
		return Unlimited.String()
	}
	parts := make([]string, len(s.rules))
	for i, r := range s.rules {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

func (r rule) String() string {
	var b strings.Builder
	if r.days {
		b.WriteString(dayNames[r.first])
		if r.last != r.first {
			b.WriteString("-" + dayNames[r.last])
		}
		b.WriteByte(' ')
	}
	if r.window {
		b.WriteString(clock(r.start) + "-" + clock(r.end) + " ")
	}
	b.WriteString(r.rate.String())
	return b.String()
}

// clock formats minutes since midnight as HH:MM.
func clock(m int) string {
	return string([]byte{
		byte('0' + m/600), byte('0' + m/60%10), ':',
		byte('0' + m%60/10), byte('0' + m%10),
	})
}

var dayNames = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
