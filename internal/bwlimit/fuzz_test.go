package bwlimit

import (
	"reflect"
	"testing"
	"time"
)

// FuzzParseSchedule checks that ParseSchedule never panics, and that an
// accepted schedule's String reads back to the same schedule.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{
		"256k",
		"off",
		"0",
		"Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun off",
		"monday - friday 8:00 - 18:00 1.5M",
		"Fri 18:00-08:00 0, 1M",
		"Fri-Mon 2mbit, 22:00-24:00 1k, 00:00-06:00 1.6mbit",
		"Mon 1M 2M",
		"08:00-25:00 1M",
		"24:00-08:00 1M",
		",",
		"Mon -1",
	} {
		f.Add(s)
	}
	probes := []time.Time{
		week("Mon", "00:00"), week("Tue", "07:59"), week("Fri", "18:00"),
		week("Sat", "23:59").Add(59 * time.Second), week("Sun", "12:00"),
	}
	f.Fuzz(func(t *testing.T, s string) {
		sch, err := ParseSchedule(s)
		if err != nil {
			if sch != nil {
				t.Fatalf("ParseSchedule(%q) returned a schedule with error %v", s, err)
			}
			return
		}
		text := sch.String()
		back, err := ParseSchedule(text)
		if err != nil {
			t.Fatalf("ParseSchedule(%q).String() = %q, which fails: %v", s, text, err)
		}
		if !reflect.DeepEqual(back, sch) {
			t.Fatalf("ParseSchedule(%q) = %#v; String %q reads back as %#v", s, sch, text, back)
		}
		if again := back.String(); again != text {
			t.Fatalf("String not stable: %q, then %q", text, again)
		}
		for _, p := range probes {
			r := sch.At(p)
			if r < Unlimited || r > maxRate {
				t.Fatalf("%q.At(%v) = %d, out of range", s, p, r)
			}
			next := sch.Next(p)
			if next.IsZero() {
				continue
			}
			if !next.After(p) || next.Sub(p) > 8*24*time.Hour {
				t.Fatalf("%q.Next(%v) = %v", s, p, next)
			}
			if sch.At(next) == r {
				t.Fatalf("%q.Next(%v) = %v, but the rate there is still %v", s, p, next, r)
			}
			if sch.At(next.Add(-time.Nanosecond)) != r {
				t.Fatalf("%q.Next(%v) = %v, but the rate changed before", s, p, next)
			}
		}
	})
}
