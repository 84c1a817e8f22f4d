package receiver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// Manifest kinds.
const (
	// KindComplete: every entry of the sender's plan is in the manifest.
	KindComplete = "complete"
	// KindPartial: the session ended with entries that failed; the
	// manifest lists what the live tree holds, which for those entries is
	// their previous version, if any.
	KindPartial = "partial"
	// KindCheckpoint: written during a long session (at the end of each
	// class and periodically): the files placed so far and, for paths not
	// yet sent, their previous versions.
	KindCheckpoint = "checkpoint"
)

const (
	manifestVersion = 1
	manifestDir     = transfer.StateDir + "/manifests"
	headFile        = transfer.StateDir + "/HEAD"
	// maxManifestSize bounds what is read back from disk.
	maxManifestSize = 1 << 30
)

// Manifest is a restore point: the state of a namespace's live tree that a
// commit made durable.
type Manifest struct {
	Version int       `json:"version"`
	Seq     uint64    `json:"seq"`
	Kind    string    `json:"kind"`
	Created time.Time `json:"created"`
	Files   int       `json:"files"`
	Bytes   int64     `json:"bytes"`
	Entries []Entry   `json:"entries"`
}

// Complete reports whether the manifest holds the sender's whole plan.
func (m *Manifest) Complete() bool { return m.Kind == KindComplete }

// Entry is one path of a manifest.
type Entry struct {
	Path   string      `json:"path"`
	Kind   string      `json:"kind"` // "file", "dir" or "symlink"
	Size   int64       `json:"size,omitempty"`
	Mode   fs.FileMode `json:"mode"`
	MTime  int64       `json:"mtime"` // Unix nanoseconds
	Hash   *scan.Sum   `json:"hash,omitempty"`
	Target string      `json:"target,omitempty"`
}

func entryOf(o *transfer.Offer) Entry {
	e := Entry{Path: o.Path, Kind: o.Kind.String(), Size: o.Size, Mode: fs.FileMode(o.Mode).Perm(), MTime: o.ModTime, Target: o.Target}
	if o.Kind == scan.File || o.Kind == scan.Symlink {
		h := o.Hash
		e.Hash = &h
	}
	return e
}

func manifestName(seq uint64) string {
	return fmt.Sprintf("%s/%020d.json", manifestDir, seq)
}

// writeManifest commits m: manifest first, then HEAD, each durable.
func (s *Store) writeManifest(m *Manifest) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest %d: %w", m.Seq, err)
	}
	if err := s.writeDurable(manifestName(m.Seq), data, 0o644); err != nil {
		return err
	}
	return s.writeDurable(headFile, []byte(strconv.FormatUint(m.Seq, 10)+"\n"), 0o644)
}

// readHead returns the committed sequence in HEAD, 0 if there is none.
func readHead(root *os.Root) (uint64, error) {
	b, err := root.ReadFile(headFile)
	if isNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read HEAD: %w", err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read HEAD: %q is not a sequence number", bytes.TrimSpace(b))
	}
	return seq, nil
}

// ReadManifest reads and checks the manifest with sequence seq.
func ReadManifest(root *os.Root, seq uint64) (*Manifest, error) {
	name := manifestName(seq)
	f, err := root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read manifest %d: %w", seq, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxManifestSize {
		return nil, fmt.Errorf("read manifest %d: %d bytes, above the bound of %d", seq, fi.Size(), maxManifestSize)
	}
	var m Manifest
	if err := json.NewDecoder(f).Decode(&m); err != nil {
		return nil, fmt.Errorf("read manifest %d: %w", seq, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("read manifest %d: %w", seq, err)
	}
	if m.Seq != seq {
		return nil, fmt.Errorf("read manifest %d: it says it is manifest %d", seq, m.Seq)
	}
	return &m, nil
}

// DecodeManifest decodes and checks a manifest.
func DecodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	return &m, nil
}

// check validates what a manifest read from disk claims, so that nothing
// derived from it can name a path outside the namespace.
func (m *Manifest) check() error {
	if m.Version != manifestVersion {
		return fmt.Errorf("version %d, this build reads %d", m.Version, manifestVersion)
	}
	if m.Kind != KindComplete && m.Kind != KindPartial && m.Kind != KindCheckpoint {
		return fmt.Errorf("unknown kind %q", m.Kind)
	}
	seen := make(map[string]bool, len(m.Entries))
	for _, e := range m.Entries {
		if err := transfer.ValidPath(e.Path); err != nil {
			return err
		}
		if seen[e.Path] {
			return fmt.Errorf("path %q listed twice", e.Path)
		}
		seen[e.Path] = true
		switch e.Kind {
		case "file":
			if e.Size < 0 || e.Hash == nil {
				return fmt.Errorf("file %q: bad size or no hash", e.Path)
			}
		case "dir":
		case "symlink":
			if err := transfer.ValidLinkTarget(e.Path, e.Target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("path %q: unknown kind %q", e.Path, e.Kind)
		}
	}
	return nil
}

// parentDirs returns the ancestors of p, outermost first.
func parentDirs(p string) []string {
	var dirs []string
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		dirs = append(dirs, d)
	}
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	return dirs
}
