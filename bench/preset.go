package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Preset is an emulated link and what runs on it.
type Preset struct {
	Name string
	// Rate of the tbf on both veth ends, bits per second; 0: unshaped.
	Rate int64
	// Delay (one way) and Loss (each way) are added by ferry-netsim for
	// the UDP contenders only; a preset with either runs ferry alone.
	Delay time.Duration
	Loss  float64
	// Runs is the default number of repetitions; Interrupts the default
	// number of interruption runs per contender.
	Runs, Interrupts int
	// Scenarios run in each repetition.
	Scenarios []string
	// LargeScale sizes the large-file set (NewLargeDataset) for this
	// preset, relative to --scale; 0: no interruption run on it. Each
	// interruption run also takes an uninterrupted sync of that set.
	LargeScale float64
}

// FerryOnly reports whether the preset needs the proxy, which only UDP
// contenders can go through.
func (p Preset) FerryOnly() bool { return p.Delay > 0 || p.Loss > 0 }

// RTT is the emulated round-trip time added by the preset (the veth's own
// is well under a millisecond).
func (p Preset) RTT() time.Duration { return 2 * p.Delay }

// Floor is the physical floor for delivering n bytes: their serialization
// at the link rate plus the handshake (one round trip) and the one-way trip
// of the last byte. With no rate it is zero.
func (p Preset) Floor(n int64) float64 {
	if p.Rate == 0 {
		return p.RTT().Seconds() * 1.5
	}
	return float64(n)*8/float64(p.Rate) + p.RTT().Seconds()*1.5
}

var allScenarios = []string{ScenarioInitial, ScenarioUnchanged, ScenarioEdit}

// Presets are the links the benchmark knows, in the order "all" runs them.
//
// The default repetitions keep scale 1 at cellular under 15 minutes on a
// 2-core machine, large-file runs included (measured before them: cellular
// 5m40s, edge 8m50s; the large-file set adds two passes of about 38 MB per
// contender, about 30 s each at 10 Mbit/s). At 2 Mbit/s a first sync of the
// 59 MB data set takes 2 to 4 minutes per contender, so edge runs once and
// leaves the interruption runs (byte counts, which do not depend on the
// rate) to cellular; with --interrupts it shrinks the large-file set to a
// fifth, so that a pass takes about as long as at cellular. lossy takes
// about a quarter of an hour on its own.
var Presets = []Preset{
	{Name: "cellular", Rate: 10_000_000, Runs: 2, Interrupts: 1, Scenarios: allScenarios, LargeScale: 1},
	{Name: "edge", Rate: 2_000_000, Runs: 1, Interrupts: 0, Scenarios: allScenarios, LargeScale: 0.2},
	{Name: "lan", Rate: 0, Runs: 3, Interrupts: 1, Scenarios: allScenarios, LargeScale: 1},
	{Name: "lossy", Rate: 2_000_000, Delay: 300 * time.Millisecond, Loss: 0.01, Runs: 1, Interrupts: 0,
		Scenarios: []string{ScenarioInitial, ScenarioUnchanged}},
}

// ParsePresets parses a comma-separated list of preset names, or "all".
func ParsePresets(s string) ([]Preset, error) {
	var out []Preset
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "all" {
			return slices.Clone(Presets), nil
		}
		i := slices.IndexFunc(Presets, func(p Preset) bool { return p.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown preset %q (want edge, cellular, lan, lossy or all)", name)
		}
		if !slices.ContainsFunc(out, func(p Preset) bool { return p.Name == name }) {
			out = append(out, Presets[i])
		}
	}
	return out, nil
}

// RateString formats a rate in bits per second the way tc does.
func RateString(bps int64) string {
	switch {
	case bps == 0:
		return "unlimited"
	case bps%1_000_000 == 0:
		return fmt.Sprintf("%d Mbit/s", bps/1_000_000)
	case bps%1000 == 0:
		return fmt.Sprintf("%d kbit/s", bps/1000)
	}
	return fmt.Sprintf("%d bit/s", bps)
}
