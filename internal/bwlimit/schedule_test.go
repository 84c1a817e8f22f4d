package bwlimit

import (
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York for the daylight-saving cases, on any machine
)

// week returns a moment in the week of Monday 2024-01-01, UTC: week("Wed",
// "18:30") is Wednesday 2024-01-03 18:30:00.
func week(day, hhmm string) time.Time {
	d, ok := days[strings.ToLower(day)]
	if !ok {
		panic("bad day " + day)
	}
	m, err := parseClock(hhmm)
	if err != nil {
		panic(err)
	}
	offset := (int(d) + 6) % 7 // Monday first
	return time.Date(2024, 1, 1+offset, 0, m, 0, 0, time.UTC)
}

func mustSchedule(t testing.TB, s string) *Schedule {
	t.Helper()
	sch, err := ParseSchedule(s)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the result
	}{
		{"256k", "256k"},
		{" off ", "off"},
		{"0", "0"},
		{"Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off", "Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off"},
		{"mon-FRI 8:00-18:00 256K,18:00-8:00 OFF,sat-sun Off", "Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off"},
		{"Monday-Friday 09:30-17:00 1.5M", "Mon-Fri 09:30-17:00 1.5M"},
		{"Mon - Fri 08:00 - 18:00 1M", "Mon-Fri 08:00-18:00 1M"},
		{"Mon -Fri 08:00- 18:00 1M", "Mon-Fri 08:00-18:00 1M"},
		{"Fri-Mon 2mbit", "Fri-Mon 2mbit"},
		{"Sun 0", "Sun 0"},
		{"Mon-Mon 1k", "Mon 1k"},
		{"00:00-24:00 1M", "00:00-24:00 1M"},
		{"22:00-00:00 1M", "22:00-00:00 1M"},
		{"\tSat\t 12:00-13:00\n64k ", "Sat 12:00-13:00 64k"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSchedule(tt.in)
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.in, err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("ParseSchedule(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "bwlimit: empty schedule"},
		{"  ", "bwlimit: empty schedule"},
		{"256k,", `bwlimit: schedule "256k,": rule 2 is empty`},
		{",256k", `bwlimit: schedule ",256k": rule 1 is empty`},
		{"1M,,2M", `bwlimit: schedule "1M,,2M": rule 2 is empty`},
		{"fast", `bwlimit: schedule rule "fast": rate "fast": not a number`},
		{"Mon-Fri 08:00-18:00 256q", `bwlimit: schedule rule "Mon-Fri 08:00-18:00 256q": rate "256q": unknown unit "q": use k, M, G for bytes or kbit, mbit, gbit for bits`},
		{"Mon-Fri 08:00-18:00", `bwlimit: schedule rule "Mon-Fri 08:00-18:00": missing rate after "08:00-18:00"`},
		{"Mon-Fri", `bwlimit: schedule rule "Mon-Fri": missing rate after "Mon-Fri"`},
		{"Mo-Fr 1M", `bwlimit: schedule rule "Mo-Fr 1M": unknown day "Mo" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)`},
		{"Mon-Fry 1M", `bwlimit: schedule rule "Mon-Fry 1M": unknown day "Fry" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)`},
		{"Mon-Tue-Wed 1M", `bwlimit: schedule rule "Mon-Tue-Wed 1M": unknown day "Tue-Wed" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)`},
		{"Mon 1M 2M", `bwlimit: schedule rule "Mon 1M 2M": "1M": one rate per rule (separate rules with commas)`},
		{"1M 2M", `bwlimit: schedule rule "1M 2M": "1M": one rate per rule (separate rules with commas)`},
		{"Mon Tue 1M", `bwlimit: schedule rule "Mon Tue 1M": unexpected "Tue" after the days`},
		{"08:00-18:00 Mon 1M", `bwlimit: schedule rule "08:00-18:00 Mon 1M": "Mon" after the time window (write days first)`},
		{"08:00-09:00 10:00-11:00 1M", `bwlimit: schedule rule "08:00-09:00 10:00-11:00 1M": second time window "10:00-11:00"`},
		{"08:00 1M", `bwlimit: schedule rule "08:00 1M": time window "08:00": want HH:MM-HH:MM`},
		{"08:00-25:00 1M", `bwlimit: schedule rule "08:00-25:00 1M": time window "08:00-25:00": time "25:00": hour 25 out of range`},
		{"08:00-24:30 1M", `bwlimit: schedule rule "08:00-24:30 1M": time window "08:00-24:30": time "24:30": hour 24 out of range`},
		{"08:60-09:00 1M", `bwlimit: schedule rule "08:60-09:00 1M": time window "08:60-09:00": time "08:60": minute 60 out of range`},
		{"8-9 1M", `bwlimit: schedule rule "8-9 1M": time window "8-9": time "8": want HH:MM`},
		{"8h:00-9:00 1M", `bwlimit: schedule rule "8h:00-9:00 1M": time window "8h:00-9:00": time "8h:00": want HH:MM`},
		{"08:0-09:00 1M", `bwlimit: schedule rule "08:0-09:00 1M": time window "08:0-09:00": time "08:0": want HH:MM`},
		{"008:00-09:00 1M", `bwlimit: schedule rule "008:00-09:00 1M": time window "008:00-09:00": time "008:00": want HH:MM`},
		{"24:00-08:00 1M", `bwlimit: schedule rule "24:00-08:00 1M": time window "24:00-08:00": 24:00 can only end a window`},
		{"08:00-08:00 1M", `bwlimit: schedule rule "08:00-08:00 1M": time window "08:00-08:00": empty (leave the window out for all day)`},
		{"08:00-09:00-10:00 1M", `bwlimit: schedule rule "08:00-09:00-10:00 1M": time window "08:00-09:00-10:00": time "09:00-10:00": want HH:MM`},
		{"Mon -1", `bwlimit: schedule rule "Mon -1": rate "-1": negative (use 0 to pause, off for no limit)`},
		{"Mon 08:00-18:00 -5k", `bwlimit: schedule rule "Mon 08:00-18:00 -5k": rate "-5k": negative (use 0 to pause, off for no limit)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSchedule(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseSchedule(%q) = %v, %v; want error %q", tt.in, s, err, tt.want)
			}
		})
	}
}

func TestScheduleAt(t *testing.T) {
	const office = "Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off"
	tests := []struct {
		sched, day, at string
		want           Rate
	}{
		{office, "Mon", "07:59", Unlimited},
		{office, "Mon", "08:00", 256 << 10},
		{office, "Wed", "12:00", 256 << 10},
		{office, "Fri", "17:59", 256 << 10},
		{office, "Fri", "18:00", Unlimited},
		{office, "Sat", "12:00", Unlimited},

		// A constant cap.
		{"1M", "Sun", "03:00", 1 << 20},
		{"0", "Thu", "00:00", Paused},

		// No rule matches: unlimited.
		{"Mon 1M", "Tue", "12:00", Unlimited},
		{"08:00-09:00 1M", "Tue", "09:00", Unlimited},

		// First match wins.
		{"Mon-Fri 08:00-18:00 0, 1M", "Tue", "08:30", Paused},
		{"Mon-Fri 08:00-18:00 0, 1M", "Tue", "18:30", 1 << 20},
		{"Mon-Fri 08:00-18:00 0, 1M", "Sat", "08:30", 1 << 20},
		{"1M, Mon-Fri 08:00-18:00 0", "Tue", "08:30", 1 << 20},

		// A window that wraps midnight belongs to the day it starts.
		{"Fri 18:00-08:00 0, 1M", "Fri", "17:59", 1 << 20},
		{"Fri 18:00-08:00 0, 1M", "Fri", "18:00", Paused},
		{"Fri 18:00-08:00 0, 1M", "Fri", "23:59", Paused},
		{"Fri 18:00-08:00 0, 1M", "Sat", "00:00", Paused},
		{"Fri 18:00-08:00 0, 1M", "Sat", "07:59", Paused},
		{"Fri 18:00-08:00 0, 1M", "Sat", "08:00", 1 << 20},
		{"Fri 18:00-08:00 0, 1M", "Fri", "07:00", 1 << 20}, // Thursday's night is not Friday's
		{"Sun 22:00-02:00 0, 1M", "Mon", "01:59", Paused},  // wraps the week too
		{"Sun 22:00-02:00 0, 1M", "Sun", "01:00", 1 << 20},
		{"18:00-08:00 0, 1M", "Mon", "03:00", Paused},
		{"18:00-08:00 0, 1M", "Wed", "20:00", Paused},
		{"18:00-08:00 0, 1M", "Wed", "12:00", 1 << 20},
		{"22:00-00:00 0, 1M", "Wed", "23:59", Paused},
		{"22:00-00:00 0, 1M", "Thu", "00:00", 1 << 20},

		// 24:00 ends a window at midnight.
		{"20:00-24:00 0, 1M", "Tue", "23:59", Paused},
		{"20:00-24:00 0, 1M", "Wed", "00:00", 1 << 20},
		{"00:00-24:00 0, 1M", "Wed", "00:00", Paused},

		// Day ranges, wrapping the week or not.
		{"Fri-Mon 0, 1M", "Thu", "23:59", 1 << 20},
		{"Fri-Mon 0, 1M", "Fri", "00:00", Paused},
		{"Fri-Mon 0, 1M", "Sun", "12:00", Paused},
		{"Fri-Mon 0, 1M", "Mon", "23:59", Paused},
		{"Fri-Mon 0, 1M", "Tue", "00:00", 1 << 20},
		{"Sat-Sun 0, 1M", "Sun", "23:59", Paused},
		{"Sat-Sun 0, 1M", "Mon", "00:00", 1 << 20},
		{"Mon-Sun 0, 1M", "Wed", "12:00", Paused},
		{"Sun-Sat 0, 1M", "Wed", "12:00", Paused},
		{"Tue-Thu 0, 1M", "Mon", "12:00", 1 << 20},
		{"Tue-Thu 0, 1M", "Wed", "12:00", Paused},
		{"Tue-Thu 0, 1M", "Fri", "12:00", 1 << 20},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%s_%s", tt.sched, tt.day, tt.at)
		t.Run(name, func(t *testing.T) {
			s := mustSchedule(t, tt.sched)
			at := week(tt.day, tt.at)
			if got := s.At(at); got != tt.want {
				t.Errorf("At(%v) = %v, want %v", at.Format("Mon 15:04"), got, tt.want)
			}
			// Within the minute, the rate does not change.
			if got := s.At(at.Add(59*time.Second + 999*time.Millisecond)); got != tt.want {
				t.Errorf("At(%v + 59.999s) = %v, want %v", at.Format("Mon 15:04"), got, tt.want)
			}
		})
	}
}

func TestScheduleAtUsesLocationOfT(t *testing.T) {
	s := mustSchedule(t, "08:00-18:00 0, 1M")
	utc := week("Mon", "06:00")
	tokyo := utc.In(time.FixedZone("JST", 9*3600)) // 15:00 there
	if got := s.At(utc); got != 1<<20 {
		t.Errorf("At(06:00 UTC) = %v, want 1M", got)
	}
	if got := s.At(tokyo); got != Paused {
		t.Errorf("At(15:00 JST) = %v, want 0", got)
	}
}

func TestNilSchedule(t *testing.T) {
	var s *Schedule
	if got := s.At(time.Now()); got != Unlimited {
		t.Errorf("nil.At() = %v, want off", got)
	}
	if got := s.Next(time.Now()); !got.IsZero() {
		t.Errorf("nil.Next() = %v, want zero", got)
	}
	if got := s.String(); got != "off" {
		t.Errorf("nil.String() = %q, want off", got)
	}
}
