package receiver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

const journalName = transfer.StateDir + "/journal"

// recover replays the journal and brings .ferry/ back to what it accounts
// for: staged files are cut back to their last journaled chunk, staging
// with no record is discarded, and temporary files and manifests newer than
// HEAD (a commit that did not finish) are removed. Running it twice changes
// nothing the second time.
func (s *Store) recover() error {
	if err := s.hit(opCreate, journalName); err != nil {
		return fmt.Errorf("open journal: %w", inNamespace("open", journalName, err))
	}
	j, recs, err := resume.Open(s.root, journalName)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	s.j = j
	if cut := j.Truncated(); cut > 0 {
		s.log.Warn("journal had a torn tail, cut", "bytes", cut, "err", j.TailErr())
	}
	s.state = resume.Replay(recs)
	s.placed = placedSinceCommit(recs)

	// Staged files the journal vouches for, by staging name.
	want := make(map[string]resume.Staged)
	for _, st := range s.state.Staged {
		want[path.Base(stageName(st.Path))] = st
	}
	entries, err := fs.ReadDir(s.root.FS(), stagingDir)
	if err != nil {
		return fmt.Errorf("read staging: %w", err)
	}
	present := make(map[string]bool)
	for _, de := range entries {
		name := de.Name()
		base := strings.TrimSuffix(name, sumsSuffix)
		if _, ok := want[base]; ok && de.Type().IsRegular() {
			present[name] = true
			continue
		}
		if err := s.removeAll(stagingDir + "/" + name); err != nil {
			return fmt.Errorf("remove unaccounted staging %s: %w", name, err)
		}
	}
	var dropped []resume.Record
	for base, st := range want {
		if present[base] && present[base+sumsSuffix] {
			err := s.cutStaged(st)
			if err == nil {
				continue
			}
			// What the journal cannot vouch for is dropped; a failure to
			// cut what it can ends recovery, which the next run repeats.
			if !errors.Is(err, errNoBoundary) && !isNotExist(err) {
				return fmt.Errorf("cut staging of %s back to its journal: %w", st.Path, err)
			}
		}
		s.root.Remove(stagingDir + "/" + base)
		s.root.Remove(stagingDir + "/" + base + sumsSuffix)
		dropped = append(dropped, resume.Record{Kind: resume.KindDropped, Path: st.Path, FileHash: st.FileHash})
	}
	if len(dropped) > 0 {
		if err := s.journal(dropped...); err != nil {
			return err
		}
	}
	return s.removeLeftovers()
}

// cutStaged truncates a staged file to its journaled prefix: bytes after it
// were never verified durable. An error wrapping errNoBoundary says the
// staging does not hold what the journal vouches for.
func (s *Store) cutStaged(st resume.Staged) error {
	name := stageName(st.Path)
	f, err := s.openFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return inNamespace("stat", name, err)
	}
	if fi.Size() < st.Offset {
		return fmt.Errorf("staged %s is shorter than its journal: %w", st.Path, errNoBoundary)
	}
	sums, err := s.openFile(name+sumsSuffix, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer sums.Close()
	n, err := sumsUpTo(sums, st.Offset)
	if err != nil {
		return err
	}
	if fi.Size() > st.Offset {
		if err := s.truncateFile(f, name, st.Offset); err != nil {
			return err
		}
		if err := s.syncFile(f, name); err != nil {
			return err
		}
	}
	if si, err := sums.Stat(); err == nil && si.Size() > n*sumRecLen {
		if err := s.truncateFile(sums, name+sumsSuffix, n*sumRecLen); err != nil {
			return err
		}
		return s.syncFile(sums, name+sumsSuffix)
	}
	return nil
}

// removeLeftovers removes temporary files of interrupted writes and
// manifests that HEAD never pointed to.
func (s *Store) removeLeftovers() error {
	s.root.Remove(headFile + ".tmp")
	entries, err := fs.ReadDir(s.root.FS(), manifestDir)
	if err != nil {
		return fmt.Errorf("read manifests: %w", err)
	}
	for _, de := range entries {
		name := de.Name()
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, ".json"), 10, 64)
		if strings.HasSuffix(name, ".json") && err == nil && seq <= s.head {
			continue
		}
		if err := s.removeAll(manifestDir + "/" + name); err != nil {
			return fmt.Errorf("remove uncommitted manifest %s: %w", name, err)
		}
	}
	return nil
}

// placedSinceCommit returns the files the journal says were placed after
// the last commit: the live tree holds them though no manifest lists them
// yet.
func placedSinceCommit(recs []resume.Record) map[string]scan.Sum {
	placed := make(map[string]scan.Sum)
	for _, r := range recs {
		switch r.Kind {
		case resume.KindCommit:
			clear(placed)
		case resume.KindPlaced:
			placed[r.Path] = r.FileHash
		}
	}
	return placed
}

// journal appends records and folds them into the store's state.
func (s *Store) journal(recs ...resume.Record) error {
	err := inNamespace("write", journalName, s.hit(opAppend, journalName))
	if err == nil {
		err = s.j.Append(recs...)
	}
	if err == nil {
		err = inNamespace("sync", journalName, s.hit(opAppendSync, journalName))
	}
	if err != nil {
		s.jerr = true
		return storageErr("append to journal", err)
	}
	for _, r := range recs {
		s.state.Apply(r)
		switch r.Kind {
		case resume.KindPlaced:
			s.placed[r.Path] = r.FileHash
		case resume.KindCommit:
			clear(s.placed)
		}
	}
	return nil
}
