package bwlimit

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseSchedule parses a schedule written in the grammar of the package
// documentation, e.g. "Mon-Fri 08:00-18:00 256k, 18:00-08:00 off, Sat-Sun
// off". A bare rate ("256k") is a constant cap. Errors name the rule and the
// text at fault.
func ParseSchedule(s string) (*Schedule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("bwlimit: empty schedule")
	}
	sch := new(Schedule)
	for i, text := range strings.Split(s, ",") {
		text = strings.TrimSpace(text)
		if text == "" {
			return nil, fmt.Errorf("bwlimit: schedule %q: rule %d is empty", s, i+1)
		}
		r, err := parseRule(text)
		if err != nil {
			return nil, fmt.Errorf("bwlimit: schedule rule %q: %w", text, err)
		}
		sch.rules = append(sch.rules, r)
		if r.window {
			sch.bounds = append(sch.bounds, r.start, r.end)
		}
	}
	sch.bounds = slices.DeleteFunc(sch.bounds, func(m int) bool { return m == 0 || m == minutesPerDay })
	slices.Sort(sch.bounds)
	sch.bounds = slices.Compact(sch.bounds)
	return sch, nil
}

// parseRule parses RULE := [DAYS] [HH:MM-HH:MM] RATE.
func parseRule(text string) (rule, error) {
	var r rule
	fields := joinDashes(strings.Fields(text))
	last := fields[len(fields)-1]
	if strings.Contains(last, ":") || isDays(last) {
		return r, fmt.Errorf("missing rate after %q", last)
	}
	rate, err := parseRate(last)
	if err != nil {
		return r, err
	}
	r.rate = rate
	for _, f := range fields[:len(fields)-1] {
		if _, err := parseRate(f); err == nil {
			return r, fmt.Errorf("%q: one rate per rule (separate rules with commas)", f)
		}
		switch {
		case strings.Contains(f, ":") || f[0] >= '0' && f[0] <= '9':
			if r.window {
				return r, fmt.Errorf("second time window %q", f)
			}
			if r.start, r.end, err = parseWindow(f); err != nil {
				return r, err
			}
			r.window = true
		case r.window:
			return r, fmt.Errorf("%q after the time window (write days first)", f)
		case r.days:
			return r, fmt.Errorf("unexpected %q after the days", f)
		default:
			if r.first, r.last, err = parseDays(f); err != nil {
				return r, err
			}
			r.days = true
		}
	}
	return r, nil
}

// joinDashes rejoins "Mon", "-", "Fri" or "08:00", "-18:00" into one field,
// so spaces around a range's dash are allowed. The last field is the rate,
// so a leading dash there stays to be reported as a negative rate.
func joinDashes(fields []string) []string {
	out := fields[:1]
	for i, f := range fields[1:] {
		last := i == len(fields)-2
		if prev := out[len(out)-1]; strings.HasSuffix(prev, "-") || strings.HasPrefix(f, "-") && !last {
			out[len(out)-1] = prev + f
			continue
		}
		out = append(out, f)
	}
	return out
}

// parseDays parses DAY or DAY-DAY.
func parseDays(f string) (first, last time.Weekday, err error) {
	a, b, isRange := strings.Cut(f, "-")
	if first, err = parseDay(a); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return first, first, nil
	}
	if last, err = parseDay(b); err != nil {
		return 0, 0, err
	}
	return first, last, nil
}

func parseDay(s string) (time.Weekday, error) {
	if d, ok := days[strings.ToLower(s)]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("unknown day %q (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)", s)
}

var days = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// isDays reports whether f reads as DAYS.
func isDays(f string) bool {
	_, _, err := parseDays(f)
	return err == nil
}

// parseWindow parses HH:MM-HH:MM into minutes since midnight. 24:00 is
// allowed as an end only; an empty window (start = end) is refused.
func parseWindow(f string) (start, end int, err error) {
	a, b, ok := strings.Cut(f, "-")
	if !ok {
		return 0, 0, fmt.Errorf("time window %q: want HH:MM-HH:MM", f)
	}
	if start, err = parseClock(a); err != nil {
		return 0, 0, fmt.Errorf("time window %q: %w", f, err)
	}
	if start == minutesPerDay {
		return 0, 0, fmt.Errorf("time window %q: 24:00 can only end a window", f)
	}
	if end, err = parseClock(b); err != nil {
		return 0, 0, fmt.Errorf("time window %q: %w", f, err)
	}
	if start == end {
		return 0, 0, fmt.Errorf("time window %q: empty (leave the window out for all day)", f)
	}
	return start, end, nil
}

// parseClock parses H:MM or HH:MM, 00:00 to 24:00.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || !digits(hh) || !digits(mm) {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	switch {
	case m > 59:
		return 0, fmt.Errorf("time %q: minute %d out of range", s, m)
	case h > 24 || h == 24 && m != 0:
		return 0, fmt.Errorf("time %q: hour %d out of range", s, h)
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}
