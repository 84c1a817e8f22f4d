package bwlimit

import (
	"fmt"
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	const office = "Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off"
	tests := []struct {
		sched string
		from  time.Time
		want  time.Time // zero: never
	}{
		{office, week("Mon", "07:00"), week("Mon", "08:00")},
		{office, week("Mon", "08:00"), week("Mon", "18:00")},
		{office, week("Mon", "18:00").Add(-time.Nanosecond), week("Mon", "18:00")},
		{office, week("Fri", "18:00"), week("Mon", "08:00").AddDate(0, 0, 7)},
		{office, week("Sat", "09:00"), week("Mon", "08:00").AddDate(0, 0, 7)},
		{"08:00-18:00 0, 1M", week("Tue", "12:34").Add(56 * time.Second), week("Tue", "18:00")},
		{"08:00-18:00 0, 1M", week("Tue", "20:00"), week("Wed", "08:00")},
		{"Fri 18:00-08:00 0, 1M", week("Fri", "17:00"), week("Fri", "18:00")},
		{"Fri 18:00-08:00 0, 1M", week("Fri", "18:00"), week("Sat", "08:00")},
		{"Sat-Sun 0", week("Wed", "12:00"), week("Sat", "00:00")},
		{"Sat-Sun 0", week("Sat", "12:00"), week("Mon", "00:00").AddDate(0, 0, 7)},
		// Midnight is no change when the same rule holds on both sides.
		{"20:00-24:00 0, 00:00-06:00 0, 1M", week("Tue", "21:00"), week("Wed", "06:00")},
		{"1M", week("Tue", "21:00"), time.Time{}},
		{"0", week("Tue", "21:00"), time.Time{}},
		{"Mon 1M, 1M", week("Tue", "21:00"), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.sched, tt.from.Format("Mon_15:04:05.999")), func(t *testing.T) {
			s := mustSchedule(t, tt.sched)
			if got := s.Next(tt.from); !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}
}

// TestScheduleNextBruteForce checks Next against a walk over every minute
// of nine days, in UTC and across both daylight-saving changes of New York,
// where an hour is skipped and one is repeated.
func TestScheduleNextBruteForce(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	scheds := []string{
		"Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off",
		"Fri 18:00-08:00 0, 1M",
		"Sun 01:30-02:30 0, 02:15-03:00 1M, 2M", // boundaries inside the skipped and repeated hours
		"01:00-02:00 0, 5k",
		"Fri-Mon 23:00-01:00 0, Sat-Sun 12:00-24:00 1k, 4k",
		"1M",
	}
	starts := []time.Time{
		week("Mon", "00:00"),
		week("Thu", "17:59").Add(30 * time.Second),
		time.Date(2024, 3, 9, 12, 0, 0, 0, ny),               // spring forward: 2024-03-10 02:00 EST → 03:00 EDT
		time.Date(2024, 3, 10, 1, 59, 0, 0, ny),              // a minute before it
		time.Date(2024, 11, 2, 12, 0, 0, 0, ny),              // fall back: 2024-11-03 02:00 EDT → 01:00 EST
		time.Date(2024, 11, 3, 1, 20, 0, 0, ny),              // inside the first 01:xx
		time.Date(2024, 11, 3, 6, 20, 0, 0, time.UTC).In(ny), // inside the second 01:xx
	}
	for _, src := range scheds {
		s := mustSchedule(t, src)
		for _, start := range starts {
			want := bruteNext(s, start)
			if got := s.Next(start); !got.Equal(want) {
				t.Errorf("%q.Next(%v) = %v, want %v", src, start, got, want)
			}
			// Walk on from change to change, as a paused Writer would.
			for from, n := start, 0; !from.IsZero() && n < 10; n++ {
				want := bruteNext(s, from)
				got := s.Next(from)
				if !got.Equal(want) {
					t.Errorf("%q.Next(%v) = %v, want %v", src, from, got, want)
					break
				}
				from = got
			}
		}
	}
}

// bruteNext finds the first whole minute after t, in elapsed time, at which
// the rate differs from At(t). Zone offsets in the test are whole hours, so
// wall-clock minutes start on elapsed whole minutes.
func bruteNext(s *Schedule, t time.Time) time.Time {
	r0 := s.At(t)
	for m := t.Truncate(time.Minute).Add(time.Minute); m.Before(t.Add(9 * 24 * time.Hour)); m = m.Add(time.Minute) {
		if s.At(m) != r0 {
			return m
		}
	}
	return time.Time{}
}
