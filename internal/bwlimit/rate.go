package bwlimit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Rate is a cap in bytes per second. Unlimited and Paused are special.
type Rate int64

const (
	// Unlimited means no cap: writes pass straight through. Any negative
	// Rate is treated as Unlimited.
	Unlimited Rate = -1
	// Paused means nothing is sent until the schedule changes (or a
	// floor applies).
	Paused Rate = 0
)

// maxRate is the largest rate ParseRate accepts, 1 PiB/s, far above any link
// and small enough that every accepted rate is exact in a float64.
const maxRate = 1 << 50

// Units of ParseRate. Byte units are binary (rclone's k = KiB); bit units
// are decimal, as link rates are quoted. Keys are lower case.
var units = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gi": 1 << 30, "gib": 1 << 30,
	"bit": 1.0 / 8, "kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8,
	"bits": 1.0 / 8, "kbits": 1e3 / 8, "mbits": 1e6 / 8, "gbits": 1e9 / 8,
}

// ParseRate parses a rate:
//
//   - "off" or "unlimited" (any case): Unlimited.
//   - "0": Paused.
//   - Bytes per second with an optional binary suffix, as rclone's
//     --bwlimit: "65536" (bytes), "256k" or "256KiB" (KiB/s), "1.5M"
//     (MiB/s), "2G" (GiB/s). Suffix letters may be of either case.
//   - Bits per second with a decimal prefix: "256kbit" (32000 bytes/s),
//     "2mbit" (250000 bytes/s), "1gbit".
//
// An optional "/s" may follow the unit. "KB", "Mb", "mbps" and the like are
// rejected as ambiguous rather than guessed.
func ParseRate(s string) (Rate, error) {
	r, err := parseRate(s)
	if err != nil {
		return 0, fmt.Errorf("bwlimit: %w", err)
	}
	return r, nil
}

// parseRate is ParseRate without the package prefix on errors, for use
// inside schedule errors.
func parseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "":
		return 0, errors.New("empty rate")
	case "off", "unlimited":
		return Unlimited, nil
	}
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("rate %q: negative (use 0 to pause, off for no limit)", s)
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.TrimSuffix(t[i:], "/s")
	if num == "" {
		return 0, fmt.Errorf("rate %q: not a number", s)
	}
	mult, ok := units[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("rate %q: %s", s, unitHint(unit))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("rate %q: bad number %q", s, num)
	}
	v := math.Round(f * mult)
	switch {
	case v > maxRate:
		return 0, fmt.Errorf("rate %q: above the maximum of 1 PiB/s", s)
	case f > 0 && v < 1:
		return 0, fmt.Errorf("rate %q: below 1 byte/s (use 0 to pause)", s)
	}
	return Rate(v), nil
}

func unitHint(unit string) string {
	lower := strings.ToLower(unit)
	switch {
	case strings.TrimSpace(unit) != unit:
		return "space between number and unit"
	case strings.HasSuffix(lower, "bps") || strings.HasSuffix(lower, "b"):
		return fmt.Sprintf("ambiguous unit %q: use k, M, G (or KiB, MiB, GiB) for bytes, kbit, mbit, gbit for bits", unit)
	}
	return fmt.Sprintf("unknown unit %q: use k, M, G for bytes or kbit, mbit, gbit for bits", unit)
}

// String formats r in a form ParseRate reads back to the same value: "off",
// "0", or the rate in the largest binary byte unit ("256k", "1.5M") or
// decimal bit unit ("256kbit", "1.6mbit") that shows it exactly with at most
// two decimals, preferring fewer decimals, then bytes; else in bytes
// ("1331").
func (r Rate) String() string {
	switch {
	case r < 0:
		return "off"
	case r == Paused:
		return "0"
	}
	v := int64(r)
	best, bestDecimals := strconv.FormatInt(v, 10), 3
	for _, family := range rateFamilies {
		n := v
		if family.bits {
			if v > math.MaxInt64/8 {
				continue
			}
			n = v * 8
		}
		for _, u := range family.units {
			if s, decimals, ok := u.format(n); ok {
				if decimals < bestDecimals {
					best, bestDecimals = s, decimals
				}
				break
			}
		}
	}
	return best
}

// rateFamilies are the units of Rate.String, largest first.
var rateFamilies = [...]struct {
	bits  bool
	units [3]unit
}{
	{false, [3]unit{{1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "k"}}},
	{true, [3]unit{{1e9, "gbit"}, {1e6, "mbit"}, {1e3, "kbit"}}},
}

type unit struct {
	div    int64
	suffix string
}

// format formats v in unit u if that is at least 1 and exact to two
// decimals, and returns the number of decimals used.
func (u unit) format(v int64) (s string, decimals int, ok bool) {
	q, rem := v/u.div, v%u.div
	if q == 0 || rem*100%u.div != 0 {
		return "", 0, false
	}
	s = strconv.FormatInt(q, 10)
	if rem != 0 {
		frac := strings.TrimRight(fmt.Sprintf("%02d", rem*100/u.div), "0")
		s += "." + frac
		decimals = len(frac)
	}
	return s + u.suffix, decimals, true
}

// burst returns the bucket size for a cap: 50 ms of data, at least
// minBurst, and at most maxBurst so that it fits an int on 32-bit
// platforms.
func (r Rate) burst() int {
	return int(min(max(int64(r)/20, minBurst), maxBurst))
}

const (
	minBurst = 1 << 10
	maxBurst = 1 << 30
)
