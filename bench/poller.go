package bench

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Poller watches a destination directory from outside while a contender
// syncs into it. Every Interval it looks at each final path of the source
// tree: a file whose size and hash match the source is complete; a file
// that matches neither the source nor what was at that path when the
// poller started is torn (a partial or foreign file at a final path). It
// records when every critical file was first complete, when every file was,
// and every torn path it saw.
type Poller struct {
	Dir      string
	Want     *Tree
	Critical func(rel string) bool
	Interval time.Duration

	base  map[string]Entry // what the destination held at the start
	cache map[string]pollState

	mu       sync.Mutex
	start    time.Time
	critical time.Duration // -1 until observed
	all      time.Duration
	torn     map[string]string
	polls    int
	errs     int
}

type pollState struct {
	sig      fileSig
	complete bool
	torn     bool
}

type fileSig struct {
	size, mtime int64
	ino         uint64
}

// NewPoller makes a poller for the tree want synced into dir. The baseline
// (what dir holds now) is read at once, so call it before the sync starts.
func NewPoller(dir string, want *Tree, critical func(string) bool) *Poller {
	p := &Poller{Dir: dir, Want: want, Critical: critical, Interval: 50 * time.Millisecond,
		base: map[string]Entry{}, cache: map[string]pollState{}, critical: -1, all: -1, torn: map[string]string{}}
	for rel := range want.Files {
		if s, n, err := HashFile(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			p.base[rel] = Entry{Size: n, Sum: s}
		}
	}
	return p
}

// Run polls until ctx ends; start is the instant the sync was started.
func (p *Poller) Run(ctx context.Context, start time.Time) {
	p.mu.Lock()
	p.start = start
	p.mu.Unlock()
	crit, rest := p.split()
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		p.poll(crit, rest)
		select {
		case <-ctx.Done():
			p.poll(crit, rest)
			return
		case <-t.C:
		}
	}
}

func (p *Poller) split() (crit, rest []string) {
	for rel := range p.Want.Files {
		if p.Critical != nil && p.Critical(rel) {
			crit = append(crit, rel)
		} else {
			rest = append(rest, rel)
		}
	}
	slices.Sort(crit)
	slices.Sort(rest)
	return crit, rest
}

// poll checks the critical paths first and timestamps them, then the rest.
func (p *Poller) poll(crit, rest []string) {
	critDone := p.check(crit)
	now := time.Since(p.start)
	restDone := p.check(rest)
	end := time.Since(p.start)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls++
	if critDone && p.critical < 0 {
		p.critical = now
	}
	if critDone && restDone && p.all < 0 {
		p.all = end
	}
}

// check reports whether every path in paths is complete.
func (p *Poller) check(paths []string) bool {
	done := true
	for _, rel := range paths {
		st, err := p.look(rel)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				p.mu.Lock()
				p.errs++
				p.mu.Unlock()
			}
			done = false
			continue
		}
		if !st.complete {
			done = false
		}
	}
	return done
}

func (p *Poller) look(rel string) (pollState, error) {
	full := filepath.Join(p.Dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	if err != nil {
		return pollState{}, err
	}
	sig := fileSig{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	sig.ino = inode(fi)
	if st, ok := p.cache[rel]; ok && st.sig == sig {
		return st, nil
	}
	want := p.Want.Files[rel]
	base, hadBase := p.base[rel]
	st := pollState{sig: sig}
	switch {
	case !fi.Mode().IsRegular():
		st.torn = true
	case fi.Size() != want.Size && (!hadBase || fi.Size() != base.Size):
		st.torn = true
	default:
		s, n, err := HashFile(full)
		if err != nil {
			return pollState{}, err
		}
		switch {
		case n == want.Size && s == want.Sum:
			st.complete = true
		case hadBase && n == base.Size && s == base.Sum:
			// The previous version, untouched so far.
		default:
			st.torn = true
		}
	}
	if st.torn {
		p.mu.Lock()
		if _, seen := p.torn[rel]; !seen {
			p.torn[rel] = time.Since(p.start).Round(time.Millisecond).String()
		}
		p.mu.Unlock()
	}
	p.cache[rel] = st
	return st, nil
}

// PollResult is what a poller observed.
type PollResult struct {
	Critical time.Duration // -1 if never observed
	All      time.Duration // -1 if never observed
	Torn     []string      // paths seen torn at their final path
	Polls    int
	Errors   int
}

// Result returns what the poller saw so far.
func (p *Poller) Result() PollResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := PollResult{Critical: p.critical, All: p.all, Polls: p.polls, Errors: p.errs}
	for rel := range p.torn {
		r.Torn = append(r.Torn, rel)
	}
	slices.Sort(r.Torn)
	return r
}
