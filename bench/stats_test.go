package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in          []float64
		n           int
		med, lo, hi float64
	}{
		{in: []float64{3, 1, 2}, n: 3, med: 2, lo: 1, hi: 3},
		{in: []float64{4, 1, 3, 2}, n: 4, med: 2.5, lo: 1, hi: 4},
		{in: []float64{nan, 5, nan}, n: 1, med: 5, lo: 5, hi: 5},
	} {
		s := Summarize(tc.in)
		if s.N != tc.n || s.Median != tc.med || s.Min != tc.lo || s.Max != tc.hi {
			t.Errorf("Summarize(%v) = %+v", tc.in, s)
		}
	}
	if s := Summarize([]float64{nan}); s.N != 0 || !math.IsNaN(s.Median) || s.Format(Seconds) != "–" {
		t.Errorf("Summarize(NaN) = %+v, %q", s, s.Format(Seconds))
	}
	if got := Summarize([]float64{1.5, 0.25, 12}).Format(Seconds); got != "1.5 (0.25–12.0)" {
		t.Errorf("Format = %q", got)
	}
	if got := Summarize([]float64{2}).Format(Seconds); got != "2.0" {
		t.Errorf("Format one sample = %q", got)
	}
}

func TestPairRatios(t *testing.T) {
	nan := math.NaN()
	a := []float64{1, 2, nan, 8, 5}
	b := []float64{2, 4, 1, 0, nan}
	got := PairRatios(a, b)
	if len(got) != 2 || got[0] != 0.5 || got[1] != 0.5 {
		t.Errorf("PairRatios = %v, want [0.5 0.5]: failed runs and zero divisors skipped, pairs kept by index", got)
	}
	if r := PairRatios([]float64{1, 2, 3}, []float64{1}); len(r) != 1 {
		t.Errorf("unequal lengths: %v", r)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		f    func(float64) string
		in   float64
		want string
	}{
		{Ratio, 0.01234, "0.0123"}, {Ratio, 0.5, "0.5"}, {Ratio, 1.074, "1.07"}, {Ratio, 12.34, "12.3"}, {Ratio, 250, "250"},
		{Bytes, 512, "512 B"}, {Bytes, 3072, "3.1 KB"}, {Bytes, 61e6, "61.00 MB"},
		{Seconds, 0.123, "0.12"}, {Seconds, 52.04, "52.0"}, {Seconds, 250.4, "250"},
		{Mbit, 9.4e6, "9.40"},
	} {
		if got := tc.f(tc.in); got != tc.want {
			t.Errorf("format(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPresets(t *testing.T) {
	ps, err := ParsePresets("edge, cellular,edge")
	if err != nil || len(ps) != 2 || ps[0].Name != "edge" || ps[1].Name != "cellular" {
		t.Fatalf("ParsePresets = %v, %v", ps, err)
	}
	if ps, _ := ParsePresets("all"); len(ps) != 4 {
		t.Errorf("all = %d presets", len(ps))
	}
	if _, err := ParsePresets("satellite"); err == nil {
		t.Error("unknown preset accepted")
	}
	edge := ps[0]
	// 250,000 bytes at 2 Mbit/s take one second; no added delay.
	if f := edge.Floor(250_000); math.Abs(f-1) > 1e-9 {
		t.Errorf("edge floor = %v", f)
	}
	lossy, _ := ParsePresets("lossy")
	if !lossy[0].FerryOnly() || lossy[0].RTT() != 600*time.Millisecond {
		t.Errorf("lossy = %+v", lossy[0])
	}
	if f := lossy[0].Floor(0); math.Abs(f-0.9) > 1e-9 {
		t.Errorf("lossy floor of nothing = %v, want 1.5 RTT", f)
	}
}

func TestParseNetDev(t *testing.T) {
	const s = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  fb-s: 1234567    1000    0    0    0     0          0         0 89101112    2000    0    0    0     0       0          0
`
	c, err := parseNetDev(s, "fb-s")
	if err != nil || c.Rx != 1234567 || c.Tx != 89101112 || c.Total() != 1234567+89101112 {
		t.Fatalf("parseNetDev = %+v, %v", c, err)
	}
	if d := c.Sub(Counters{Rx: 7, Tx: 12}); d.Rx != 1234560 || d.Tx != 89101100 {
		t.Errorf("Sub = %+v", d)
	}
	if _, err := parseNetDev(s, "eth0"); err == nil {
		t.Error("missing interface found")
	}
}

// A session with two repetitions: ratios are taken repetition by
// repetition, a failed run drops its pair, and the targets are judged.
func TestSessionRatiosAndReport(t *testing.T) {
	s := &Session{Preset: Presets[0], Scale: 1, DataBytes: 60e6, DataFiles: 1500, CritBytes: 80e3, CritFiles: 40,
		Contenders: []string{"ferry", "rsync", "rsync-z"}, Versions: map[string]string{}, Machine: map[string]string{},
		KindCounts: map[Kind]int{}, KindBytes: map[Kind]int64{}, Repetitions: 2, Interrupts: 1,
		Start: time.Unix(0, 0), End: time.Unix(100, 0)}
	add := func(c, sc string, rep int, ok bool, secs, crit float64, wire int64) {
		s.Runs = append(s.Runs, Run{Contender: c, Scenario: sc, Rep: rep, OK: ok, Seconds: secs, CriticalSeconds: crit, WireTx: wire})
	}
	add("ferry", ScenarioInitial, 0, true, 50, 0.2, 63e6)
	add("ferry", ScenarioInitial, 1, true, 60, 0.3, 64e6)
	add("rsync", ScenarioInitial, 0, true, 52, 50, 64e6)
	add("rsync", ScenarioInitial, 1, true, 40, 40, 64e6)
	add("rsync-z", ScenarioInitial, 0, true, 30, 29, 32e6)
	add("rsync-z", ScenarioInitial, 1, false, 0, -1, 0)
	add("ferry", ScenarioInterrupt, 0, true, 30, -1, 65e6)
	add("ferry", ScenarioUnchanged, 0, true, 1, -1, 20e3)
	add("ferry", ScenarioEdit, 0, true, 1, -1, 9e6)

	r := s.RatioSummary("ferry", "rsync", ScenarioInitial, MetricSeconds)
	if r.N != 2 || math.Abs(r.Min-50.0/52) > 1e-9 || math.Abs(r.Max-1.5) > 1e-9 {
		t.Errorf("ferry/rsync seconds = %+v", r)
	}
	if r := s.RatioSummary("ferry", "rsync-z", ScenarioInitial, MetricWire); r.N != 1 || r.Median != 63.0/32 {
		t.Errorf("ferry/rsync-z wire = %+v (the failed repetition must drop out)", r)
	}
	if got := s.ownInterruptRatios("ferry", ScenarioInitial, ScenarioInterrupt); len(got) != 1 || math.Abs(got[0]-65/63.5) > 1e-9 {
		t.Errorf("own interrupt ratio = %v", got)
	}
	md := Markdown(s)
	for _, want := range []string{
		"| ferry | rsync | rsync-z | ferry/rsync | ferry/rsync-z |",
		"critical files: at most 1/10 of rsync's time",
		"| unchanged re-run: at most 3 KiB | 20.0 KB | **missed**",
		"rsync-z initial rep 1: FAILED",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// The large-file runs get their own section, with rsync-nopartial as a
// column there only, their own ratio against the uninterrupted run on the
// same set, and their own counts of torn and failed runs.
func TestLargeReport(t *testing.T) {
	set, _ := NewLargeDataset(1, 1)
	s := &Session{Preset: Presets[0], Scale: 1, DataBytes: 60e6, DataFiles: 1500, CritBytes: 80e3, CritFiles: 40,
		Contenders: []string{"ferry", "rsync"}, Versions: map[string]string{}, Machine: map[string]string{},
		KindCounts: map[Kind]int{}, KindBytes: map[Kind]int64{}, Repetitions: 1, Interrupts: 1,
		LargeScale: 1, LargeBytes: 40e6, LargeFiles: LargeFiles, LargeSpecs: set.Files,
		LargeContenders: []string{"ferry", "rsync", "rsync-nopartial"},
		Start:           time.Unix(0, 0), End: time.Unix(100, 0)}
	add := func(c, sc string, wire, first int64, torn ...string) {
		s.Runs = append(s.Runs, Run{Contender: c, Scenario: sc, OK: true, Seconds: 30, CriticalSeconds: -1,
			WireTx: wire, FirstAttempt: first, Torn: torn})
	}
	add("ferry", ScenarioInitial, 32e6, 0)
	add("rsync", ScenarioInitial, 63e6, 0)
	add("ferry", ScenarioLarge, 36e6, 0)
	add("ferry", ScenarioLargeInterrupt, 36.72e6, 18e6)
	add("rsync", ScenarioLarge, 40e6, 0)
	add("rsync", ScenarioLargeInterrupt, 40.4e6, 20e6, "video/cam-1/2026-07-01T06.mp4")
	add("rsync-nopartial", ScenarioLarge, 40e6, 0)
	add("rsync-nopartial", ScenarioLargeInterrupt, 46e6, 20e6)

	if got := s.ownInterruptRatios("rsync-nopartial", ScenarioLarge, ScenarioLargeInterrupt); len(got) != 1 || math.Abs(got[0]-1.15) > 1e-9 {
		t.Errorf("rsync-nopartial own ratio = %v, want [1.15]", got)
	}
	md := Markdown(s)
	main, large, ok := strings.Cut(md, "## Interruption with a few large files")
	if !ok {
		t.Fatalf("no large-file section:\n%s", md)
	}
	if !strings.Contains(main, "| metric | ferry | rsync | ferry/rsync |\n") {
		t.Errorf("main table's columns are not the main contenders':\n%s", main)
	}
	if !strings.Contains(main, "rsync-nopartial: ;") {
		t.Errorf("no version for rsync-nopartial:\n%s", main)
	}
	for _, want := range []string{
		"| metric | ferry | rsync | rsync-nopartial | ferry/rsync | ferry/rsync-nopartial |",
		"| interrupted at ~50%: wire bytes over both attempts / data bytes | 0.918 | 1.01 | 1.15 | 0.909 | 0.798 |",
		"| interrupted: wire bytes over both attempts / own uninterrupted run | 1.02 | 1.01 | 1.15 | | |",
		"| partial file seen at a final path (runs) | no (interrupted: 0 of 1; others: 0 of 1) | **yes** (interrupted: 1 of 1; others: 0 of 1) |",
		"| runs ok / failed | 2 / 0 | 2 / 0 | 2 / 0 | | |",
		"interruption, a few large files: both attempts at most 1.01× its own uninterrupted run | 1.02× | **missed**",
	} {
		if !strings.Contains(large, want) {
			t.Errorf("large-file section lacks %q:\n%s", want, large)
		}
	}
	// The main table counts the main data set's runs only.
	if !strings.Contains(main, "| runs ok / failed | 1 / 0 | 1 / 0 |") {
		t.Errorf("main table counts other runs:\n%s", main)
	}
}
