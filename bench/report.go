package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Targets from the [bench] issue, for ferry.
const (
	TargetCriticalRatio    = 0.1  // of rsync's critical time
	TargetCriticalOverBase = 0.5  // seconds over the physical floor
	TargetInterruptRatio   = 1.01 // of its own uninterrupted wire bytes
	TargetUnchangedBytes   = 3 << 10
	TargetEditBytes        = 40_000
)

// row is one line of the main table.
type row struct {
	label  string
	sc     string
	m      Metric
	f      func(float64) string
	ratios bool
}

// Markdown renders a session: the set-up, the table and, for ferry, the
// issue's targets.
func Markdown(s *Session) string {
	var b strings.Builder
	p := s.Preset
	fmt.Fprintf(&b, "# ferry bench: %s", p.Name)
	fmt.Fprintf(&b, " (%s", RateString(p.Rate))
	if p.FerryOnly() {
		fmt.Fprintf(&b, ", %v RTT, %.0f%% loss", p.RTT(), p.Loss*100)
	}
	fmt.Fprintf(&b, "), scale %g\n\n", s.Scale)

	fmt.Fprintf(&b, "- **Date**: %s, took %s\n", s.Start.Format("2006-01-02 15:04 MST"), s.End.Sub(s.Start).Round(time.Second))
	fmt.Fprintf(&b, "- **Machine**: %s, %s cores, kernel %s, %s\n", s.Machine["cpu"], s.Machine["cores"], s.Machine["kernel"], s.Machine["go"])
	var loads []float64
	for _, r := range s.Runs {
		if r.Load >= 0 {
			loads = append(loads, r.Load)
		}
	}
	if l := Summarize(loads); l.N > 0 {
		fmt.Fprintf(&b, "- **Load**: 1-minute load average at the end of each run %s (on %s cores; the machine may be shared, which shows as spread between repetitions)\n",
			l.Format(func(x float64) string { return fmt.Sprintf("%.1f", x) }), s.Machine["cores"])
	}
	fmt.Fprintf(&b, "- **Link**: %s\n", s.LinkDesc)
	fmt.Fprintf(&b, "- **Data set**: seed %d, %d files, %s (%d bytes): %s. Critical files: %d, %s, under zz-site/ (sorts last)\n",
		s.Seed, s.DataFiles, Bytes(float64(s.DataBytes)), s.DataBytes, describeKinds(s), s.CritFiles, Bytes(float64(s.CritBytes)))
	fmt.Fprintf(&b, "- **Versions**:")
	for _, c := range s.allContenders() {
		fmt.Fprintf(&b, " %s: %s;", c, s.Versions[c])
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "- **Runs**: %d repetition(s) of %s per contender, contender order rotated each repetition",
		s.Repetitions, strings.Join(p.Scenarios, ", "))
	if s.Interrupts > 0 {
		fmt.Fprintf(&b, "; %d interruption run(s) per contender", s.Interrupts)
		if s.LargeFiles > 0 {
			b.WriteString(" on this data set and as many on the large-file set (its own section below)")
		}
	}
	b.WriteString(". Figures are median (min–max); ratios are taken repetition by repetition, then summarized.\n")
	if s.Repetitions == 1 {
		b.WriteString("- **One repetition only** at this preset (to keep the session's time down): figures are single runs, without a spread.\n")
	}
	if s.Interrupts == 0 && !p.FerryOnly() {
		b.WriteString("- **No interruption run** at this preset, on either data set (its byte counts do not depend on the rate, and it would double the preset's time; `--interrupts 1` adds it")
		if p.LargeScale > 0 && p.LargeScale != 1 {
			fmt.Fprintf(&b, ", with the large-file set at %g× --scale so that its passes stay short", p.LargeScale)
		}
		b.WriteString(").\n")
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\n")

	if p.FerryOnly() {
		lossyTable(&b, s)
	} else {
		mainTable(&b, s)
		largeTable(&b, s)
		targets(&b, s)
	}
	if f := s.Failed(); len(f) > 0 {
		b.WriteString("\n## Failed runs\n\n")
		for _, r := range f {
			fmt.Fprintf(&b, "- %s %s rep %d: FAILED: %s\n", r.Contender, r.Scenario, r.Rep, r.Error)
		}
	}
	return b.String()
}

// allContenders lists the contenders of both data sets, in table order.
func (s *Session) allContenders() []string {
	cs := slices.Clone(s.Contenders)
	for _, c := range s.LargeContenders {
		if !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	return cs
}

func describeKinds(s *Session) string {
	var parts []string
	for _, k := range []Kind{KindCritical, KindLog, KindMedia, KindDB} {
		parts = append(parts, fmt.Sprintf("%d %s (%s)", s.KindCounts[k], k, Bytes(float64(s.KindBytes[k]))))
	}
	return strings.Join(parts, ", ")
}

func (s *Session) perData(r Run) float64 { return float64(r.Wire()) / float64(s.DataBytes) }

func (s *Session) goodput(r Run) float64 {
	if r.Seconds <= 0 {
		return math.NaN()
	}
	return float64(s.DataBytes) * 8 / r.Seconds
}

func mainTable(b *strings.Builder, s *Session) {
	rows := []row{
		{"critical files complete at the destination (s)", ScenarioInitial, MetricCritical, Seconds, true},
		{"whole tree complete and verified (s)", ScenarioInitial, MetricSeconds, Seconds, true},
		{"goodput (Mbit/s of data; compression can lift it above the rate)", ScenarioInitial, s.goodput, Mbit, false},
		{"wire bytes, both ways / data bytes", ScenarioInitial, s.perData, Ratio, true},
		{"unchanged re-run (s)", ScenarioUnchanged, MetricSeconds, Seconds, true},
		{"unchanged re-run, wire bytes", ScenarioUnchanged, MetricWire, Bytes, true},
		{"4 KiB edit in an 8 MiB file, wire bytes", ScenarioEdit, MetricWire, Bytes, true},
		{"interrupted at ~50%: wire bytes over both attempts / data bytes", ScenarioInterrupt, s.perData, Ratio, true},
	}
	ran := append(slices.Clone(s.Preset.Scenarios), ScenarioInterrupt)
	rows = slices.DeleteFunc(rows, func(r row) bool { return s.Reps(r.sc) == 0 || !slices.Contains(ran, r.sc) })
	t := newTable(b, s, s.Contenders, rows)
	if s.Interrupts > 0 {
		t.line("interrupted: wire bytes over both attempts / own uninterrupted run", func(c string) string {
			return Summarize(s.ownInterruptRatios(c, ScenarioInitial, ScenarioInterrupt)).Format(Ratio)
		})
	}
	t.line("partial file seen at a final path (runs)", func(c string) string {
		return s.tornSummary(c, ScenarioInterrupt, s.Preset.Scenarios)
	})
	t.line("runs ok / failed", func(c string) string {
		ok, bad := s.count(c, ran)
		return fmt.Sprintf("%d / %d", ok, bad)
	})
	fmt.Fprintf(b, "\nPhysical floor for the critical files: %s s (%s at %s%s).\n",
		Seconds(s.Preset.Floor(s.CritBytes)), Bytes(float64(s.CritBytes)), RateString(s.Preset.Rate), handshakeNote(s.Preset))
}

func handshakeNote(p Preset) string {
	if p.RTT() == 0 {
		return "; the veth's RTT is well under a millisecond, so the handshake's round trip adds nothing measurable"
	}
	return fmt.Sprintf(" plus 1.5 RTT of %v for the handshake and the last byte's trip", p.RTT())
}

// table writes a markdown table of contenders cs, with a column of ratios
// ferry/other for each other contender if ferry is among them.
type table struct {
	b      *strings.Builder
	cs     []string
	others []string
}

// newTable writes the header and the rows.
func newTable(b *strings.Builder, s *Session, cs []string, rows []row) *table {
	t := &table{b: b, cs: cs}
	if slices.Contains(cs, "ferry") {
		for _, c := range cs {
			if c != "ferry" {
				t.others = append(t.others, c)
			}
		}
	}
	b.WriteString("| metric |")
	for _, c := range cs {
		fmt.Fprintf(b, " %s |", c)
	}
	for _, o := range t.others {
		fmt.Fprintf(b, " ferry/%s |", o)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---:|", len(cs)+len(t.others)))
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s |", r.label)
		for _, c := range cs {
			fmt.Fprintf(b, " %s |", s.Summary(c, r.sc, r.m).Format(r.f))
		}
		for _, o := range t.others {
			if r.ratios {
				fmt.Fprintf(b, " %s |", s.RatioSummary("ferry", o, r.sc, r.m).Format(Ratio))
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	return t
}

// line writes a row with one cell per contender and none for the ratios.
func (t *table) line(label string, cell func(c string) string) {
	fmt.Fprintf(t.b, "| %s |", label)
	for _, c := range t.cs {
		fmt.Fprintf(t.b, " %s |", cell(c))
	}
	t.b.WriteString(strings.Repeat(" |", len(t.others)) + "\n")
}

// ownInterruptRatios divides each run of the interruption scenario sc by
// the median wire bytes of the same contender's uninterrupted runs of
// scenario base on the same data set.
func (s *Session) ownInterruptRatios(c, base, sc string) []float64 {
	baseline := s.Summary(c, base, MetricWire).Median
	var out []float64
	for _, v := range s.Values(c, sc, s.Reps(sc), MetricWire) {
		if !math.IsNaN(v) && baseline > 0 {
			out = append(out, v/baseline)
		}
	}
	return out
}

// tornSummary counts contender c's runs of the interruption scenario intr
// and of the scenarios others in which the poller saw a partial file at a
// final path.
func (s *Session) tornSummary(c, intr string, others []string) string {
	var intrT, intrN, other, otherN int
	for _, r := range s.Runs {
		if r.Contender != c {
			continue
		}
		torn := 0
		if len(r.Torn) > 0 {
			torn = 1
		}
		switch {
		case r.Scenario == intr:
			intrT, intrN = intrT+torn, intrN+1
		case slices.Contains(others, r.Scenario):
			other, otherN = other+torn, otherN+1
		}
	}
	verdict := "no"
	if intrT+other > 0 {
		verdict = "**yes**"
	}
	if intrN == 0 {
		return fmt.Sprintf("%s (%d of %d)", verdict, other, otherN)
	}
	return fmt.Sprintf("%s (interrupted: %d of %d; others: %d of %d)", verdict, intrT, intrN, other, otherN)
}

// count returns how many of contender c's runs of the scenarios scs went
// well and how many failed.
func (s *Session) count(c string, scs []string) (ok, bad int) {
	for _, r := range s.Runs {
		if r.Contender == c && slices.Contains(scs, r.Scenario) {
			if r.OK {
				ok++
			} else {
				bad++
			}
		}
	}
	return ok, bad
}

func lossyTable(b *strings.Builder, s *Session) {
	rate := float64(s.Preset.Rate)
	util := func(r Run) float64 { return s.goodput(r) / rate }
	wireUtil := func(r Run) float64 {
		if r.Seconds <= 0 {
			return math.NaN()
		}
		return float64(r.Wire()) * 8 / r.Seconds / rate
	}
	rows := []row{
		{"critical files complete at the destination (s)", ScenarioInitial, MetricCritical, Seconds, false},
		{"whole tree complete and verified (s)", ScenarioInitial, MetricSeconds, Seconds, false},
		{"goodput (Mbit/s of data)", ScenarioInitial, s.goodput, Mbit, false},
		{"**link utilisation**: wire bytes both ways / (rate × time)", ScenarioInitial, wireUtil, Ratio, false},
		{"data goodput / link rate (above the wire figure by what compression saves)", ScenarioInitial, util, Ratio, false},
		{"wire bytes, both ways / data bytes", ScenarioInitial, s.perData, Ratio, false},
		{"unchanged re-run (s)", ScenarioUnchanged, MetricSeconds, Seconds, false},
		{"unchanged re-run, wire bytes", ScenarioUnchanged, MetricWire, Bytes, false},
	}
	b.WriteString("| metric |")
	for _, c := range s.Contenders {
		fmt.Fprintf(b, " %s |", c)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(s.Contenders)) + "\n")
	for _, r := range rows {
		if !slices.Contains(s.Preset.Scenarios, r.sc) {
			continue
		}
		fmt.Fprintf(b, "| %s |", r.label)
		for _, c := range s.Contenders {
			fmt.Fprintf(b, " %s |", s.Summary(c, r.sc, r.m).Format(r.f))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "\nPhysical floor: critical files %s s, whole tree %s s (at %s%s).\n",
		Seconds(s.Preset.Floor(s.CritBytes)), Seconds(s.Preset.Floor(s.DataBytes)), RateString(s.Preset.Rate), handshakeNote(s.Preset))
}

// targets compares ferry with the targets.
func targets(b *strings.Builder, s *Session) {
	has := func(c string) bool { return slices.Contains(s.Contenders, c) }
	if !has("ferry") {
		return
	}
	b.WriteString("\n## ferry against the issue's targets\n\n| target | measured | verdict |\n|---|---:|---|\n")
	line := func(target string, sum Summary, measured string, met bool, miss string) {
		v := "met"
		if !met {
			v = "**missed**: " + miss
		}
		if sum.N == 0 {
			v, measured = "not measured", "–"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", target, measured, v)
	}
	crit := s.Summary("ferry", ScenarioInitial, MetricCritical)
	if has("rsync") {
		r := s.RatioSummary("ferry", "rsync", ScenarioInitial, MetricCritical)
		line("critical files: at most 1/10 of rsync's time", r, r.Format(Ratio)+"× rsync", r.Median <= TargetCriticalRatio,
			fmt.Sprintf("%s× the target", Ratio(r.Median/TargetCriticalRatio)))
	}
	floor := s.Preset.Floor(s.CritBytes)
	over := crit.Median - floor
	line(fmt.Sprintf("critical files: within %.1f s of the physical floor (%s s)", TargetCriticalOverBase, Seconds(floor)),
		crit, crit.Format(Seconds)+" s", over <= TargetCriticalOverBase,
		fmt.Sprintf("%s s over the floor, %s s more than allowed", Seconds(over), Seconds(over-TargetCriticalOverBase)))
	if has("rsync-z") {
		t := s.RatioSummary("ferry", "rsync-z", ScenarioInitial, MetricSeconds)
		line("total time: at most rsync -z's", t, t.Format(Ratio)+"× rsync -z", t.Median <= 1,
			fmt.Sprintf("%s%% slower", pct(t.Median-1)))
		w := s.RatioSummary("ferry", "rsync-z", ScenarioInitial, MetricWire)
		line("wire bytes: at most rsync -z's", w, w.Format(Ratio)+"× rsync -z", w.Median <= 1,
			fmt.Sprintf("%s%% more bytes", pct(w.Median-1)))
	}
	if s.Interrupts > 0 {
		ir := Summarize(s.ownInterruptRatios("ferry", ScenarioInitial, ScenarioInterrupt))
		line("interruption: both attempts at most 1.01× its own uninterrupted run", ir, ir.Format(Ratio)+"×",
			ir.Median <= TargetInterruptRatio, fmt.Sprintf("%s%% over the run, the target allows 1%%", pct(ir.Median-1)))
		if s.LargeFiles > 0 {
			lr := Summarize(s.ownInterruptRatios("ferry", ScenarioLarge, ScenarioLargeInterrupt))
			line("interruption, a few large files: both attempts at most 1.01× its own uninterrupted run", lr, lr.Format(Ratio)+"×",
				lr.Median <= TargetInterruptRatio, fmt.Sprintf("%s%% over the run, the target allows 1%%", pct(lr.Median-1)))
		}
	}
	u := s.Summary("ferry", ScenarioUnchanged, MetricWire)
	line("unchanged re-run: at most 3 KiB", u, u.Format(Bytes), u.Median <= TargetUnchangedBytes,
		fmt.Sprintf("%s× the target", Ratio(u.Median/TargetUnchangedBytes)))
	e := s.Summary("ferry", ScenarioEdit, MetricWire)
	line("4 KiB edit in an 8 MiB file: at most 40 KB", e, e.Format(Bytes), e.Median <= TargetEditBytes,
		fmt.Sprintf("%s× the target", Ratio(e.Median/TargetEditBytes)))
}

func pct(x float64) string { return fmt.Sprintf("%.1f", x*100) }
