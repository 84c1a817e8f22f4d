//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Runner runs the scenarios of one preset against a set of contenders.
type Runner struct {
	Link *Link
	Data *Dataset
	Src  string
	Want *Tree // the source tree as it is now
	// Large is the large-file set, or nil for no runs on it.
	Large *Source
	// Contenders, those that run on the large-file set only (LargeOnly)
	// included.
	Contenders []Contender
	Env        *Env
	Logf       func(string, ...any)
	// Timeout bounds each sync; 0 derives it from the rate.
	Timeout time.Duration
	// Settle is how long to wait after a sender exits before reading the
	// counters, for the last packets (connection close) to pass.
	Settle time.Duration

	session *Session
}

// Source is a data set written to disk.
type Source struct {
	Data *Dataset
	Dir  string
	Want *Tree // the tree as written
}

// RunPreset runs reps repetitions of the preset's scenarios for every
// contender, rotating their order, then interrupts interruption runs, then
// as many pairs of runs on the large-file set (if any).
func (r *Runner) RunPreset(ctx context.Context, p Preset, reps, interrupts int) (*Session, error) {
	s := r.session
	s.Repetitions, s.Interrupts = reps, interrupts
	main := r.main()
	for rep := range reps {
		for _, c := range rotate(main, rep) {
			if err := r.repetition(ctx, c, p, rep); err != nil {
				return s, err
			}
		}
	}
	if !slices.Contains(p.Scenarios, ScenarioInitial) {
		interrupts = 0
	}
	src := Source{Data: r.Data, Dir: r.Src, Want: r.Want}
	for rep := range interrupts {
		for _, c := range rotate(main, rep) {
			run := r.interrupt(ctx, c, rep, src, ScenarioInitial, ScenarioInterrupt)
			if err := r.record(ctx, run); err != nil {
				return s, err
			}
		}
	}
	if r.Large != nil && interrupts > 0 {
		if err := r.large(ctx, interrupts); err != nil {
			return s, err
		}
	}
	s.End = time.Now()
	return s, nil
}

// main returns the contenders of the main data set's scenarios.
func (r *Runner) main() []Contender {
	var cs []Contender
	for _, c := range r.Contenders {
		if !LargeOnly(c.Name()) {
			cs = append(cs, c)
		}
	}
	return cs
}

// large runs n pairs of runs on the large-file set for every contender: an
// uninterrupted first sync, which also sets the point of the cut, and an
// interruption run.
func (r *Runner) large(ctx context.Context, n int) error {
	// The contenders read env.Src at each Sync.
	mainSrc := r.Env.Src
	r.Env.Src = r.Large.Dir
	defer func() { r.Env.Src = mainSrc }()
	for rep := range n {
		for _, c := range rotate(r.Contenders, rep) {
			run := Run{Contender: c.Name(), Scenario: ScenarioLarge, Rep: rep, CriticalSeconds: -1, AllSeconds: -1}
			if err := c.Reset(ctx); err != nil {
				run.Error = "reset: " + err.Error()
			} else {
				run = r.measureWant(ctx, c, ScenarioLarge, rep, r.Large.Want)
			}
			if err := r.record(ctx, run); err != nil {
				return err
			}
			run = r.interrupt(ctx, c, rep, *r.Large, ScenarioLarge, ScenarioLargeInterrupt)
			if err := r.record(ctx, run); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewSession starts recording a preset.
func (r *Runner) NewSession(p Preset, m Machine) *Session {
	d := r.Data
	s := &Session{Preset: p, Scale: d.Scale, Seed: d.Seed, DataBytes: d.Bytes(""), DataFiles: d.Count(""),
		CritBytes: d.Bytes(KindCritical), CritFiles: d.Count(KindCritical),
		KindCounts: map[Kind]int{}, KindBytes: map[Kind]int64{}, Versions: map[string]string{},
		Machine: map[string]string{"cpu": m.CPU, "cores": strconv.Itoa(m.Cores), "kernel": m.Kernel, "go": m.Go},
		Start:   time.Now()}
	for _, k := range []Kind{KindCritical, KindLog, KindMedia, KindDB} {
		s.KindCounts[k], s.KindBytes[k] = d.Count(k), d.Bytes(k)
	}
	for _, c := range r.main() {
		s.Contenders = append(s.Contenders, c.Name())
	}
	if l := r.Large; l != nil {
		s.LargeScale, s.LargeBytes, s.LargeFiles, s.LargeSpecs = l.Data.Scale, l.Data.Bytes(""), l.Data.Count(""), l.Data.Files
		for _, c := range r.Contenders {
			s.LargeContenders = append(s.LargeContenders, c.Name())
		}
	}
	r.session = s
	return s
}

func rotate(cs []Contender, n int) []Contender {
	if len(cs) == 0 {
		return nil
	}
	n %= len(cs)
	return append(slices.Clone(cs[n:]), cs[:n]...)
}

func (r *Runner) record(ctx context.Context, run Run) error {
	run.Load = LoadAverage()
	r.session.Runs = append(r.session.Runs, run)
	status := "ok"
	if !run.OK {
		status = "FAILED: " + run.Error
	}
	extra := ""
	if run.Scenario == ScenarioInitial {
		extra = fmt.Sprintf(" critical %.2f s,", run.CriticalSeconds)
	}
	if run.Scenario == ScenarioInterrupt || run.Scenario == ScenarioLargeInterrupt {
		extra = fmt.Sprintf(" cut at %s, first attempt %s,", Bytes(float64(run.CutAt)), Bytes(float64(run.FirstAttempt)))
	}
	r.Logf("%-8s %-15s rep %d: %6.1f s,%s wire %s, torn %d — %s",
		run.Contender, run.Scenario, run.Rep, run.Seconds, extra, Bytes(float64(run.Wire())), len(run.Torn), status)
	return ctx.Err()
}

// repetition runs the preset's scenarios for one contender: initial sync,
// unchanged re-run, edit.
func (r *Runner) repetition(ctx context.Context, c Contender, p Preset, rep int) error {
	if err := c.Reset(ctx); err != nil {
		return fmt.Errorf("%s: reset: %w", c.Name(), err)
	}
	for _, sc := range p.Scenarios {
		var run Run
		switch sc {
		case ScenarioInitial, ScenarioUnchanged:
			run = r.measure(ctx, c, sc, rep)
		case ScenarioEdit:
			undo, err := r.Data.Edit(r.Src, rep+1)
			if err != nil {
				return fmt.Errorf("edit: %w", err)
			}
			want, werr := r.rehash(r.Data.EditTarget().Path)
			if werr == nil {
				run = r.measureWant(ctx, c, sc, rep, want)
			}
			if err := errors.Join(undo(), werr); err != nil {
				return fmt.Errorf("edit: %w", err)
			}
		}
		if err := r.record(ctx, run); err != nil {
			return err
		}
		if !run.OK && sc == ScenarioInitial {
			break // the re-runs would measure a broken tree
		}
	}
	return nil
}

// rehash returns a copy of the source tree with one file hashed again.
func (r *Runner) rehash(rel string) (*Tree, error) {
	s, n, err := HashFile(filepath.Join(r.Src, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	t := &Tree{Files: make(map[string]Entry, len(r.Want.Files)), Dirs: r.Want.Dirs}
	for k, v := range r.Want.Files {
		t.Files[k] = v
	}
	t.Files[rel] = Entry{Size: n, Sum: s}
	return t, nil
}

// timeout bounds one sync of the tree want.
func (r *Runner) timeout(want *Tree) time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	rate := r.Link.Rate
	if rate == 0 {
		rate = 1_000_000_000
	}
	var n int64
	for _, e := range want.Files {
		n += e.Size
	}
	return 3*time.Duration(float64(n)*8/float64(rate)*float64(time.Second)) + 2*time.Minute
}

func (r *Runner) measure(ctx context.Context, c Contender, sc string, rep int) Run {
	return r.measureWant(ctx, c, sc, rep, r.Want)
}

// measureWant runs one sync of c and checks the destination against want.
func (r *Runner) measureWant(ctx context.Context, c Contender, sc string, rep int, want *Tree) Run {
	run := Run{Contender: c.Name(), Scenario: sc, Rep: rep, CriticalSeconds: -1, AllSeconds: -1, Started: time.Now()}
	w, err := r.watch(ctx, c, want)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	sctx, cancel := context.WithTimeout(ctx, r.timeout(want))
	info, err := c.Sync(sctx)
	cancel()
	run.Seconds = time.Since(w.start).Seconds()
	run.Self = info
	time.Sleep(r.Settle)
	after, cerr := r.Link.Counters()
	w.stop()
	r.fill(&run, w.poller, after.Sub(w.before))
	switch {
	case err != nil:
		run.Error = err.Error()
	case cerr != nil:
		run.Error = cerr.Error()
	default:
		if verr := Verify(want, c.Dest(), c.Ignore); verr != nil {
			run.Error = verr.Error()
		} else {
			run.OK = true
		}
	}
	return run
}

// watching is a sync being observed from outside: the destination polled
// and the link's counters read at the start.
type watching struct {
	poller *Poller
	before Counters
	start  time.Time
	stop   func() // ends the polling and waits for it; safe to call twice
}

// watch starts observing a sync of c into its destination, against want.
func (r *Runner) watch(ctx context.Context, c Contender, want *Tree) (*watching, error) {
	poller := NewPoller(c.Dest(), want, IsCritical)
	before, err := r.Link.Counters()
	if err != nil {
		return nil, err
	}
	pctx, stopPoll := context.WithCancel(ctx)
	polled := make(chan struct{})
	start := time.Now()
	go func() { poller.Run(pctx, start); close(polled) }()
	return &watching{poller: poller, before: before, start: start, stop: sync.OnceFunc(func() {
		stopPoll()
		<-polled
	})}, nil
}

func (r *Runner) fill(run *Run, p *Poller, wire Counters) {
	res := p.Result()
	run.WireRx, run.WireTx = wire.Rx, wire.Tx
	run.Polls = res.Polls
	run.Torn = res.Torn
	if res.Critical >= 0 {
		run.CriticalSeconds = res.Critical.Seconds()
	}
	if res.All >= 0 {
		run.AllSeconds = res.All.Seconds()
	}
}

// interrupt runs the interruption case (scenario sc) on src, which
// env.Src points at: a first sync into an empty destination, the link cut
// once half the contender's usual wire bytes (the median of its runs of
// scenario base) have passed, the sender killed a second later, the link
// restored, and a second sync to the end. The poller runs across both
// attempts.
func (r *Runner) interrupt(ctx context.Context, c Contender, rep int, src Source, base, sc string) Run {
	run := Run{Contender: c.Name(), Scenario: sc, Rep: rep, CriticalSeconds: -1, AllSeconds: -1, Started: time.Now()}
	if err := c.Reset(ctx); err != nil {
		run.Error = "reset: " + err.Error()
		return run
	}
	usual := r.session.Summary(c.Name(), base, MetricWire).Median
	if usual != usual || usual <= 0 { // NaN: no uninterrupted run to go by
		usual = float64(src.Data.Bytes(""))
	}
	run.CutAt = int64(usual / 2)

	w, err := r.watch(ctx, c, src.Want)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	poller, before, stop := w.poller, w.before, w.stop
	defer stop()

	sctx, cancel := context.WithTimeout(ctx, r.timeout(src.Want))
	type result struct {
		info SyncInfo
		err  error
	}
	first := make(chan result, 1)
	go func() {
		info, err := c.Sync(sctx)
		first <- result{info, err}
	}()
	tick := time.NewTicker(10 * time.Millisecond)
watch:
	for {
		select {
		case res := <-first:
			cancel()
			tick.Stop()
			// Finished before the cut: the data set is too small for
			// the rate, or the contender sends far less than usual.
			run.Error = fmt.Sprintf("the first attempt ended before the cut (err %v)", res.err)
			return run
		case <-tick.C:
			now, err := r.Link.Counters()
			if err == nil && now.Sub(before).Total() >= run.CutAt {
				break watch
			}
		case <-ctx.Done():
			cancel()
			<-first
			run.Error = ctx.Err().Error()
			return run
		}
	}
	tick.Stop()
	if err := r.Link.Cut(ctx); err != nil {
		cancel()
		<-first
		run.Error = "cut: " + err.Error()
		return run
	}
	time.Sleep(time.Second)
	cancel() // kills the sender
	<-first
	mid, _ := r.Link.Counters()
	run.FirstAttempt = mid.Sub(before).Total()
	if err := r.Link.Restore(ctx); err != nil {
		run.Error = "restore: " + err.Error()
		return run
	}
	if err := c.Settle(ctx); err != nil {
		run.Error = "settle: " + err.Error()
		return run
	}
	restart := time.Now()
	sctx2, cancel2 := context.WithTimeout(ctx, r.timeout(src.Want))
	info, err := c.Sync(sctx2)
	cancel2()
	run.Seconds = time.Since(restart).Seconds()
	run.Self = info
	time.Sleep(r.Settle)
	after, cerr := r.Link.Counters()
	stop()
	r.fill(&run, poller, after.Sub(before))
	run.CriticalSeconds, run.AllSeconds = -1, -1 // not meaningful across two attempts
	switch {
	case err != nil:
		run.Error = err.Error()
	case cerr != nil:
		run.Error = cerr.Error()
	default:
		if verr := Verify(src.Want, c.Dest(), c.Ignore); verr != nil {
			run.Error = verr.Error()
		} else {
			run.OK = true
		}
	}
	return run
}

// PrepareSource writes the data set to dir (removing what was there) and
// hashes it.
func PrepareSource(d *Dataset, dir string) (*Tree, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := d.Write(dir); err != nil {
		return nil, err
	}
	t, err := ReadTree(dir, nil)
	if err != nil {
		return nil, err
	}
	if len(t.Files) != len(d.Files) {
		return nil, fmt.Errorf("wrote %d files, read back %d", len(d.Files), len(t.Files))
	}
	return t, nil
}
