package bench

import (
	"math"
	"time"
)

// Scenarios, in the order a repetition runs them.
const (
	ScenarioInitial   = "initial"   // first sync into an empty destination
	ScenarioUnchanged = "unchanged" // the same sync again, nothing changed
	ScenarioEdit      = "edit"      // EditSize bytes changed in the middle of an 8 MiB file
	ScenarioInterrupt = "interrupt" // link cut at half, sender killed, link back, sync again

	// On the large-file set, once per interruption run: an uninterrupted
	// first sync, then the interruption.
	ScenarioLarge          = "large"
	ScenarioLargeInterrupt = "large-interrupt"
)

// Run is one measured run of one contender.
type Run struct {
	Contender string `json:"contender"`
	Scenario  string `json:"scenario"`
	Rep       int    `json:"rep"`
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	// Seconds from starting the sender until it exited with the tree
	// complete (for an interruption run: of the second attempt).
	Seconds float64 `json:"seconds"`
	// CriticalSeconds until the poller first saw every critical file
	// complete at its final path; -1 if it never did.
	CriticalSeconds float64 `json:"critical_seconds"`
	// AllSeconds until the poller first saw every file complete.
	AllSeconds float64 `json:"all_seconds"`
	// WireRx and WireTx are the veth's byte counters at the source end
	// over the whole run (both attempts of an interruption run).
	WireRx int64 `json:"wire_rx"`
	WireTx int64 `json:"wire_tx"`
	// Torn lists the final paths the poller saw holding a partial or
	// foreign file.
	Torn []string `json:"torn,omitempty"`
	// Interruption runs: the wire bytes at which the link was cut, and
	// those of the first attempt.
	CutAt        int64 `json:"cut_at,omitempty"`
	FirstAttempt int64 `json:"first_attempt_bytes,omitempty"`
	Polls        int   `json:"polls"`
	// Load is the host's 1-minute load average when the run ended: the
	// machine may be shared.
	Load    float64 `json:"load"`
	Self    SyncInfo
	Started time.Time `json:"started"`
}

// Wire is both directions.
func (r Run) Wire() int64 { return r.WireRx + r.WireTx }

// Session is everything one preset produced.
type Session struct {
	Preset      Preset
	Scale       float64
	Seed        uint64
	DataBytes   int64
	DataFiles   int
	CritBytes   int64
	CritFiles   int
	KindCounts  map[Kind]int
	KindBytes   map[Kind]int64
	Contenders  []string
	Versions    map[string]string
	Machine     map[string]string
	LinkDesc    string
	Runs        []Run
	Notes       []string
	Start, End  time.Time
	Repetitions int
	Interrupts  int
	// The large-file set, if this preset ran it (LargeFiles > 0), and the
	// contenders that ran on it: Contenders plus those that run there only.
	LargeScale      float64
	LargeBytes      int64
	LargeFiles      int
	LargeSpecs      []FileSpec
	LargeContenders []string
}

// Metric extracts one figure from a run; NaN if it does not apply.
type Metric func(Run) float64

// Values returns, for contender c and scenario sc, the metric of each
// repetition 0..n-1, NaN where the run failed or is missing, so that two
// contenders' slices line up repetition by repetition.
func (s *Session) Values(c, sc string, n int, m Metric) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	for _, r := range s.Runs {
		if r.Contender == c && r.Scenario == sc && r.OK && r.Rep < n {
			v[r.Rep] = m(r)
		}
	}
	return v
}

// Reps returns how many repetitions scenario sc has.
func (s *Session) Reps(sc string) int {
	switch sc {
	case ScenarioInterrupt, ScenarioLarge, ScenarioLargeInterrupt:
		return s.Interrupts
	}
	return s.Repetitions
}

// Summary of contender c's metric m in scenario sc.
func (s *Session) Summary(c, sc string, m Metric) Summary {
	return Summarize(s.Values(c, sc, s.Reps(sc), m))
}

// RatioSummary summarizes a's metric over b's, repetition by repetition.
func (s *Session) RatioSummary(a, b, sc string, m Metric) Summary {
	n := s.Reps(sc)
	return Summarize(PairRatios(s.Values(a, sc, n, m), s.Values(b, sc, n, m)))
}

// Failed returns the runs that failed.
func (s *Session) Failed() []Run {
	var f []Run
	for _, r := range s.Runs {
		if !r.OK {
			f = append(f, r)
		}
	}
	return f
}

// Common metrics.
var (
	MetricSeconds  Metric = func(r Run) float64 { return r.Seconds }
	MetricWire     Metric = func(r Run) float64 { return float64(r.Wire()) }
	MetricCritical Metric = func(r Run) float64 {
		if r.CriticalSeconds < 0 {
			return math.NaN()
		}
		return r.CriticalSeconds
	}
)

// SyncInfo is what a contender says about its own run, beside what the
// benchmark measures from outside. Any field may be zero.
type SyncInfo struct {
	// SelfWireBytes and SelfCritical are the tool's own figures (ferry's
	// summary event), for cross-checking.
	SelfWireBytes   int64   `json:"self_wire_bytes,omitempty"`
	SelfCritical    float64 `json:"self_critical_seconds,omitempty"`
	SelfSeconds     float64 `json:"self_seconds,omitempty"`
	SelfPayloadByte int64   `json:"self_payload_bytes,omitempty"`
}
