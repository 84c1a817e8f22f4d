package receiver

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// defaultGroup is the default journal group: chunks arriving back to back
// on a fast link share an fsync, up to this many.
const defaultGroup = 16

const (
	stagingDir = transfer.StateDir + "/staging"
	trashDir   = transfer.StateDir + "/trash"
)

// Options configures a Store. The zero value works.
type Options struct {
	// Logger receives one line per placed file at debug level and one per
	// commit at info level. If nil, nothing is logged.
	Logger *slog.Logger
	// Placed, if set, is called with each path placed in the live tree,
	// after it is durable, from the session's goroutine.
	Placed func(path string)
	// Group says how many verified chunks may share one journal fsync
	// while they arrive back to back; whenever the receiver waits for the
	// network the group is journaled anyway, so on a thin link every chunk
	// is. If MaxChunks is zero, defaults to 16.
	Group resume.Grouper
	// CheckpointEvery is how often a long session commits a checkpoint
	// manifest of everything placed so far (also done at the end of each
	// class). If zero, defaults to 10 minutes; negative disables the
	// timed checkpoints.
	CheckpointEvery time.Duration
	// Limits bound what one sender may make this namespace hold.
	Limits Limits
	// Probes gives the sender the namespace's probe key with each commit
	// (see Store.ProbeKey).
	Probes bool

	// fault, if set, is asked before each durable write and its error is
	// that write's (see fault.go). Only tests set it; it may be called
	// from several goroutines at once.
	fault func(op faultOp, name string) error
}

// Limits bound a namespace against a broken or hostile sender. A zero
// field means no limit.
type Limits struct {
	// Quota is the most file bytes the live tree may hold, counting the
	// last manifest's files and every file offered in a session.
	Quota int64
	// MaxFileSize is the largest file accepted.
	MaxFileSize int64
	// MaxEntries is the most entries one session may offer.
	MaxEntries int
	// MinFree is the free space a file may not take the namespace's disk
	// below: such a file is refused at its offer, before its first byte,
	// and the entries after it still come. Other namespaces and the
	// system on the same disk keep that much. Not enforced where free
	// space cannot be read (Windows).
	MinFree int64
}

// Store is one namespace: a live tree and its state. One session at a time
// writes to it.
type Store struct {
	dir  string
	root *os.Root
	log  *slog.Logger
	opt  Options

	sem chan struct{} // holds one token per active session: at most one

	mu     sync.Mutex
	cancel context.CancelFunc // ends the active session, if it can be preempted
	head   uint64
	last   *Manifest // manifest head, nil when head is 0
	probe  transfer.ProbeKey

	// Owned by the active session (or Open).
	j      *resume.Journal
	jerr   bool // a journal write failed: reopen it before the next session
	state  resume.State
	placed map[string]scan.Sum // placed since the last commit, by path

	folds bool // the file system folds case (see FoldCase)
}

// Open opens (creating if needed) the namespace at dir.
func Open(dir string, opt Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open namespace: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open namespace: %w", err)
	}
	if opt.CheckpointEvery == 0 {
		opt.CheckpointEvery = 10 * time.Minute
	}
	if opt.Group.MaxChunks == 0 {
		opt.Group.MaxChunks = defaultGroup
	}
	s := &Store{dir: dir, root: root, log: opt.Logger, opt: opt, sem: make(chan struct{}, 1)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.init(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open namespace %s: %w", dir, err)
	}
	return s, nil
}

func (s *Store) init() error {
	for _, d := range []string{transfer.StateDir, stagingDir, manifestDir, trashDir} {
		if err := s.root.Mkdir(d, 0o700); err != nil && !os.IsExist(err) {
			return err
		}
		fi, err := s.root.Lstat(d)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", d)
		}
	}
	folds, err := FoldCase(s.root)
	if err != nil {
		return err
	}
	s.folds = folds
	head, err := readHead(s.root)
	if err != nil {
		return err
	}
	s.head = head
	if head > 0 {
		m, err := ReadManifest(s.root, head)
		if err != nil {
			return err
		}
		s.last = m
	}
	return s.recover()
}

// Dir returns the namespace directory.
func (s *Store) Dir() string { return s.dir }

// Head returns the last committed manifest, nil if there is none.
func (s *Store) Head() *Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Close closes the namespace.
func (s *Store) Close() error {
	var err error
	if s.j != nil {
		err = s.j.Close()
	}
	if rerr := s.root.Close(); err == nil {
		err = rerr
	}
	return err
}
