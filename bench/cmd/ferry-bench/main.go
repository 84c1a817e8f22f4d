//go:build linux

// Command ferry-bench runs ferry against rsync over ssh (with and without
// -z) on the same emulated thin link and prints a markdown table of the
// results, also written to bench/results/. It needs root. Run it through
// the Taskfile:
//
//	go tool task bench                          # cellular and edge, scale 1
//	go tool task bench -- --preset lossy        # ferry alone at 600 ms RTT, 1% loss
//	go tool task bench -- --preset lan --scale 0.2 --runs 1
//
// See package github.com/ferrysync/ferry/bench for what it measures.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ferrysync/ferry/bench"
	"github.com/spf13/pflag"
)

func main() {
	os.Exit(run())
}

type options struct {
	presets    string
	scale      float64
	runs       int
	interrupts int
	contenders string
	seed       uint64
	out        string
	work       string
	keep       bool
	timeout    time.Duration
}

func run() int {
	var o options
	fs := pflag.NewFlagSet("ferry-bench", pflag.ContinueOnError)
	fs.StringVar(&o.presets, "preset", "cellular,edge", "link preset(s), comma-separated: edge, cellular, lan, lossy or all")
	fs.Float64Var(&o.scale, "scale", 1, "data set scale (1: about 1,500 files, 59.5 MB)")
	fs.IntVar(&o.runs, "runs", 0, "repetitions per preset (0: the preset's default: cellular 2, edge 1, lan 3, lossy 1)")
	fs.IntVar(&o.interrupts, "interrupts", -1, "interruption runs per contender on each data set, the main one and the large-file one (-1: the preset's default: cellular 1, edge 0, lan 1, lossy 0)")
	fs.StringVar(&o.contenders, "contenders", strings.Join(bench.ContenderNames, ","), "contenders, comma-separated (rsync-nopartial runs on the large-file set only)")
	fs.Uint64Var(&o.seed, "seed", 1, "data set seed")
	fs.StringVar(&o.out, "out", "", "results directory (default bench/results in the module)")
	fs.StringVar(&o.work, "work", "", "scratch directory (default a new temporary directory, removed afterwards)")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory")
	fs.DurationVar(&o.timeout, "timeout", 0, "limit per sync (0: three times the data set at the link rate, ten times at lossy, plus 2 minutes)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := session(ctx, o)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		logf("interrupted; cleaned up")
		return 130
	}
	logf("error: %v", err)
	return 1
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func session(ctx context.Context, o options) (err error) {
	began := time.Now()
	presets, err := bench.ParsePresets(o.presets)
	if err != nil {
		return err
	}
	names := strings.Split(o.contenders, ",")
	for _, n := range names {
		if _, err := bench.NewContender(n); err != nil {
			return err
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(root, "bench", "results")
	}
	stamp := time.Now().Format("20060102-150405")
	logDir := filepath.Join(o.out, stamp+"-logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	if err := bench.Requirements(ctx, logf); err != nil {
		return err
	}

	work := o.work
	if work == "" {
		if work, err = os.MkdirTemp("", "ferry-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}

	bin, err := build(ctx, root, filepath.Join(work, "bin"))
	if err != nil {
		return err
	}
	data, err := bench.NewDataset(o.seed, o.scale)
	if err != nil {
		return err
	}
	logf("generating the data set (seed %d, scale %g): %d files, %s", o.seed, o.scale, data.Count(""), bench.Bytes(float64(data.Bytes(""))))
	src := filepath.Join(work, "src")
	want, err := bench.PrepareSource(data, src)
	if err != nil {
		return fmt.Errorf("data set: %w", err)
	}

	link, err := bench.SetupLink(ctx, logf)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	defer func() {
		if cerr := link.Close(); cerr != nil {
			logf("cleanup: %v", cerr)
		} else {
			logf("network namespaces %s and %s removed", link.SrcNS, link.DstNS)
		}
	}()
	machine := bench.ReadMachine()

	for _, p := range presets {
		if err := ctx.Err(); err != nil {
			return err
		}
		reps, ints := p.Runs, p.Interrupts
		if o.runs > 0 {
			reps = o.runs
		}
		if o.interrupts >= 0 {
			ints = o.interrupts
		}
		sel := names
		if p.LargeScale == 0 || ints == 0 {
			sel = slices.DeleteFunc(slices.Clone(names), bench.LargeOnly)
		}
		if p.FerryOnly() {
			if !slices.Contains(names, "ferry") {
				logf("preset %s runs ferry alone; ferry is not among --contenders, skipping", p.Name)
				continue
			}
			sel = []string{"ferry"}
		}
		if err := runPreset(ctx, o, p, reps, ints, sel, link, data, src, want, bin, machine, stamp, logDir); err != nil {
			return err
		}
	}
	logf("done in %s; results and logs in %s", time.Since(began).Round(time.Second), o.out)
	return nil
}

func runPreset(ctx context.Context, o options, p bench.Preset, reps, ints int, names []string, link *bench.Link,
	data *bench.Dataset, src string, want *bench.Tree, bin bench.Binaries, m bench.Machine, stamp, logDir string) (err error) {
	logf("preset %s: %s, %d repetition(s), %d interruption run(s), contenders %s",
		p.Name, bench.RateString(p.Rate), reps, ints, strings.Join(names, ", "))
	if err := link.SetRate(ctx, p.Rate); err != nil {
		return err
	}
	env := &bench.Env{
		Link: link, Src: src, Work: filepath.Join(filepath.Dir(src), p.Name), Critical: bench.CriticalGlobs(), Bin: bin,
		Logf: logf,
		Log:  func(name string) string { return filepath.Join(logDir, p.Name+"-"+name+".log") },
	}
	linkDesc := fmt.Sprintf("veth pair %s (netns %s, %s) ↔ %s (netns %s, %s); %s", link.SrcIf, link.SrcNS, link.SrcIP,
		link.DstIf, link.DstNS, link.DstIP, link.Qdiscs(ctx))
	var proxy *bench.Proxy
	if p.FerryOnly() {
		proxy, err = bench.StartProxy(link, bin.Netsim, 7078, 7077, p.Delay, p.Loss, o.seed, env.Log("netsim"))
		if err != nil {
			return err
		}
		defer proxy.Stop()
		env.Via, env.ListenLocal = proxy.Addr, true
		linkDesc += fmt.Sprintf("; then ferry-netsim in %s (%s → ferry serve on 127.0.0.1): %v one-way delay and %g%% loss each way, seed %d",
			link.DstNS, proxy.Addr, p.Delay, p.Loss*100, o.seed)
	} else {
		linkDesc += "; no added delay or loss (the kernel has no netem; ferry-netsim only carries UDP), so ferry and rsync are compared at rate only"
	}

	var cs []bench.Contender
	defer func() {
		for _, c := range cs {
			c.Stop()
		}
	}()
	for _, n := range names {
		c, _ := bench.NewContender(n)
		if err := c.Start(ctx, env); err != nil {
			return fmt.Errorf("%s: start: %w", n, err)
		}
		cs = append(cs, c)
	}
	timeout := o.timeout
	if timeout == 0 && p.FerryOnly() && p.Rate > 0 {
		// Under loss and delay ferry has used about a sixth of the link:
		// allow ten times the data set at the link rate.
		timeout = 10*time.Duration(float64(data.Bytes(""))*8/float64(p.Rate)*float64(time.Second)) + 2*time.Minute
	}
	r := &bench.Runner{Link: link, Data: data, Src: src, Want: want, Contenders: cs, Env: env, Logf: logf,
		Timeout: timeout, Settle: 500 * time.Millisecond}
	if p.LargeScale > 0 && ints > 0 && !p.FerryOnly() {
		if r.Large, err = largeSource(o, p, filepath.Join(filepath.Dir(src), "src-large")); err != nil {
			return err
		}
	}
	s := r.NewSession(p, m)
	s.LinkDesc = linkDesc
	for _, c := range cs {
		s.Versions[c.Name()] = c.Version(ctx)
	}
	s, err = r.RunPreset(ctx, p, reps, ints)
	if proxy != nil {
		s.Notes = append(s.Notes, "ferry-netsim counters over the session: "+strings.Join(proxy.Stats(), "; "))
	}
	if s.End.IsZero() {
		s.End = time.Now()
		s.Notes = append(s.Notes, "**Incomplete**: the session was interrupted.")
	}
	md := bench.Markdown(s)
	base := filepath.Join(o.out, stamp+"-"+p.Name)
	if werr := os.WriteFile(base+".md", []byte(md), 0o644); werr != nil {
		return errors.Join(err, werr)
	}
	if js, jerr := json.MarshalIndent(s, "", "  "); jerr == nil {
		os.WriteFile(base+".json", js, 0o644)
	}
	fmt.Println(md)
	logf("preset %s took %s; wrote %s.md", p.Name, s.End.Sub(s.Start).Round(time.Second), base)
	return err
}

// largeSource writes the large-file set at the preset's size to dir.
func largeSource(o options, p bench.Preset, dir string) (*bench.Source, error) {
	d, err := bench.NewLargeDataset(o.seed, o.scale*p.LargeScale)
	if err != nil {
		return nil, err
	}
	logf("generating the large-file set (seed %d, scale %g): %d files, %s", o.seed, d.Scale, d.Count(""), bench.Bytes(float64(d.Bytes(""))))
	want, err := bench.PrepareSource(d, dir)
	if err != nil {
		return nil, fmt.Errorf("large-file set: %w", err)
	}
	return &bench.Source{Data: d, Dir: dir, Want: want}, nil
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run from the ferry checkout")
		}
		dir = parent
	}
}

// build compiles ferry and ferry-netsim from the checkout into dir.
func build(ctx context.Context, root, dir string) (bench.Binaries, error) {
	b := bench.Binaries{Ferry: filepath.Join(dir, "ferry"), Netsim: filepath.Join(dir, "ferry-netsim")}
	logf("building ferry and ferry-netsim")
	for _, t := range [][2]string{{b.Ferry, "./cmd/ferry"}, {b.Netsim, "./cmd/ferry-netsim"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t[0], t[1])
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build %s: %w: %s", t[1], err, out)
		}
	}
	b.Commit = "unknown"
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		b.Commit = strings.TrimSpace(string(out))
		// Uncommitted changes outside bench/ change what is measured.
		cmd := exec.CommandContext(ctx, "git", "status", "--porcelain", "--", ".", ":(exclude)bench")
		cmd.Dir = root
		if out, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
			b.Commit += " + uncommitted changes"
			cmd := exec.CommandContext(ctx, "git", "diff", "HEAD", "--", ".", ":(exclude)bench")
			cmd.Dir = root
			if diff, err := cmd.Output(); err == nil {
				sum := sha256.Sum256(diff)
				b.Commit += fmt.Sprintf(" (diff sha256 %x, untracked files not included)", sum[:6])
			}
		}
	}
	return b, nil
}
