package netsim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Units accepted by ParseRate and ParseSize. Bit units are
// case-insensitive; byte units must end in an upper-case B, because a
// lower-case b ("kb", "Mb") means bits to some readers and bytes to others.
var (
	bitUnits = map[string]float64{
		"bit": 1.0 / 8, "kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8,
	}
	byteUnits = map[string]float64{
		"": 1, "B": 1,
		"KB": 1e3, "kB": 1e3, "MB": 1e6, "GB": 1e9,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
	}
)

// ParseRate parses a bandwidth and returns it in bytes per second, the unit
// of Link.Rate. An optional "/s" may follow the unit.
//
//   - Bits per second, decimal prefixes, any case: "256kbit", "2mbit",
//     "1.5Mbit/s", "1gbit" (2mbit = 250000 bytes/s).
//   - Bytes per second: a bare number, or the units B, KB (kB), MB, GB
//     (powers of 1000) and KiB, MiB, GiB (powers of 1024): "500KB",
//     "1MiB/s", "125000".
//   - "0", "off", "none" or "unlimited": no limit (0).
//
// Ambiguous units are rejected rather than guessed: "500k", "2mbps", "8Mb".
func ParseRate(s string) (int64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "0", "off", "none", "unlimited":
		return 0, nil
	}
	t = strings.TrimSuffix(t, "/s")
	num, unit := splitNumber(t)
	if num == "" {
		return 0, fmt.Errorf("netsim: rate %q: not a number", s)
	}
	mult, ok := bitUnits[strings.ToLower(unit)]
	if !ok {
		mult, ok = byteUnits[unit]
	}
	if !ok {
		return 0, fmt.Errorf("netsim: rate %q: %s", s, unitHint(unit))
	}
	v, err := scale(num, mult)
	if err != nil {
		return 0, fmt.Errorf("netsim: rate %q: %w", s, err)
	}
	return v, nil
}

// ParseSize parses a byte count: a bare number, or a number with one of the
// byte units of ParseRate ("64KiB", "100KB", "1MiB").
func ParseSize(s string) (int64, error) {
	num, unit := splitNumber(strings.TrimSpace(s))
	if num == "" {
		return 0, fmt.Errorf("netsim: size %q: not a number", s)
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("netsim: size %q: %s", s, unitHint(unit))
	}
	v, err := scale(num, mult)
	if err != nil {
		return 0, fmt.Errorf("netsim: size %q: %w", s, err)
	}
	return v, nil
}

// FormatRate formats bytes per second in bits, in a form ParseRate reads
// back: "2mbit", "256kbit", "unlimited".
func FormatRate(r int64) string {
	bits := float64(r) * 8
	switch {
	case r <= 0:
		return "unlimited"
	case bits >= 1e9:
		return strconv.FormatFloat(bits/1e9, 'f', -1, 64) + "gbit"
	case bits >= 1e6:
		return strconv.FormatFloat(bits/1e6, 'f', -1, 64) + "mbit"
	case bits >= 1e3:
		return strconv.FormatFloat(bits/1e3, 'f', -1, 64) + "kbit"
	}
	return strconv.FormatFloat(bits, 'f', -1, 64) + "bit"
}

// splitNumber splits "1.5mbit" into "1.5" and "mbit".
func splitNumber(s string) (num, unit string) {
	i := strings.IndexFunc(s, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.'
	})
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func scale(num string, mult float64) (int64, error) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", num)
	}
	v := math.Round(f * mult)
	switch {
	case v >= math.MaxInt64:
		return 0, fmt.Errorf("too large")
	case f > 0 && v < 1:
		return 0, fmt.Errorf("below one byte")
	}
	return int64(v), nil
}

func unitHint(unit string) string {
	lower := strings.ToLower(unit)
	switch {
	case lower == "k" || lower == "m" || lower == "g" ||
		strings.HasSuffix(lower, "bps") || strings.HasSuffix(unit, "b"):
		return fmt.Sprintf("ambiguous unit %q: use kbit/mbit/gbit for bits or KB/MB/KiB/MiB for bytes", unit)
	}
	return fmt.Sprintf("unknown unit %q", unit)
}
