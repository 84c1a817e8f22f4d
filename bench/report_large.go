package bench

import (
	"fmt"
	"slices"
	"strings"
)

// largeTable renders the runs on the large-file set: its own section, as
// its data set and contenders differ from the main table's.
func largeTable(b *strings.Builder, s *Session) {
	if s.LargeFiles == 0 || s.Interrupts == 0 {
		return
	}
	perData := func(r Run) float64 { return float64(r.Wire()) / float64(s.LargeBytes) }
	first := func(r Run) float64 { return float64(r.FirstAttempt) / float64(s.LargeBytes) }

	b.WriteString("\n## Interruption with a few large files\n\n")
	var files []string
	for _, f := range s.LargeSpecs {
		files = append(files, fmt.Sprintf("%s (%s, %s)", f.Path, f.Kind, Bytes(float64(f.Size))))
	}
	fmt.Fprintf(b, "- **Data set**: seed %d, %d files, %s (%d bytes): %s. Media and firmware image incompressible, the database compressible.\n",
		s.Seed, s.LargeFiles, Bytes(float64(s.LargeBytes)), s.LargeBytes, strings.Join(files, ", "))
	size := "--scale itself at this preset"
	if s.LargeScale != s.Scale {
		size = fmt.Sprintf("%g× --scale at this preset, so that a pass at %s stays short", s.LargeScale/s.Scale, RateString(s.Preset.Rate))
	}
	fmt.Fprintf(b, "- **Scale**: %g (%s; byte ratios do not depend on the rate, but with a smaller set one chunk or one file weighs more).\n", s.LargeScale, size)
	fmt.Fprintf(b, "- **Runs**: %d pair(s) per contender, contender order rotated each pair: an uninterrupted first sync into an empty destination, "+
		"then the interruption run: the link cut once half of that contender's uninterrupted wire bytes (median) have passed, the sender killed a second later, "+
		"the link restored and a second sync to the end.\n", s.Interrupts)
	if s.Interrupts == 1 {
		b.WriteString("- **One pair only**: figures are single runs, without a spread.\n")
	}
	if slices.Contains(s.LargeContenders, "rsync-nopartial") {
		b.WriteString("- **rsync-nopartial** is `rsync -a` without `--partial`, run on this data set only: its receiver deletes the file cut short, " +
			"and the next run sends that file again from zero. With `--partial` (rsync, rsync-z) the receiver moves the partial file to its final path, " +
			"where the poller sees it, and the next run uses it as the basis of a delta transfer.\n")
	}
	b.WriteString("\n")

	rows := []row{
		{"uninterrupted first sync (s)", ScenarioLarge, MetricSeconds, Seconds, true},
		{"uninterrupted: wire bytes, both ways / data bytes", ScenarioLarge, perData, Ratio, true},
		{"interrupted at ~50%: first attempt's wire bytes / data bytes", ScenarioLargeInterrupt, first, Ratio, false},
		{"interrupted at ~50%: wire bytes over both attempts / data bytes", ScenarioLargeInterrupt, perData, Ratio, true},
	}
	t := newTable(b, s, s.LargeContenders, rows)
	t.line("interrupted: wire bytes over both attempts / own uninterrupted run", func(c string) string {
		return Summarize(s.ownInterruptRatios(c, ScenarioLarge, ScenarioLargeInterrupt)).Format(Ratio)
	})
	t.line("partial file seen at a final path (runs)", func(c string) string {
		return s.tornSummary(c, ScenarioLargeInterrupt, []string{ScenarioLarge})
	})
	t.line("runs ok / failed", func(c string) string {
		ok, bad := s.count(c, []string{ScenarioLarge, ScenarioLargeInterrupt})
		return fmt.Sprintf("%d / %d", ok, bad)
	})
}
