package resume

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"
)

// ErrClosed is returned by the methods of a closed Journal.
var ErrClosed = errors.New("resume: journal closed")

// Journal is an open write-ahead journal file. Its methods are safe for
// concurrent use; appends are serialized.
//
// After a failed write, fsync or rename the journal's state on disk is
// unknown, so the error sticks: every later Append and Rewrite returns it.
// Close the journal and Open it again, which re-reads what is really there.
type Journal struct {
	root *os.Root
	name string

	mu        sync.Mutex
	f         *os.File // nil once closed
	size      int64    // bytes of whole, acknowledged records in f
	truncated int64
	tailErr   error
	err       error // sticky failure
	buf       []byte
}

// Open opens the journal name inside root, creating it if needed, and returns
// every record in it. The directory holding name must exist. root must stay
// open while the journal is in use.
//
// A torn or corrupt tail (a short frame, a bad length, a checksum mismatch, a
// malformed payload) is cut off: the file is truncated to the end of the last
// good record and fsynced. Truncated and TailErr report the cut.
//
// Everything from the first bad frame on is tail, even if whole records
// follow it. Appends only extend the file and each Append returns only after
// fsync, so a crash damages nothing but records that were never acknowledged;
// whole frames after a bad one are either such records (written out of order
// by the page cache) or lie beyond damage no crash explains, and neither kind
// is trusted. Losing records costs re-sending, never correctness (see the
// package documentation).
func Open(root *os.Root, name string) (*Journal, []Record, error) {
	// A Rewrite that crashed before its rename leaves name.tmp behind; it holds
	// nothing the journal lacks. Rewrite truncates it anyway, so errors here
	// do not matter.
	_ = root.Remove(name + ".tmp")

	f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("resume: open journal %s: %w", name, bare(err))
	}
	j := &Journal{root: root, name: name, f: f}
	recs, err := j.load()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return j, recs, nil
}

// load reads all records, cuts a bad tail and makes the file's existence and
// length durable.
func (j *Journal) load() ([]Record, error) {
	data, err := io.ReadAll(j.f)
	if err != nil {
		return nil, fmt.Errorf("resume: read journal %s: %w", j.name, err)
	}
	var recs []Record
	off := 0
	for off < len(data) {
		r, n, err := Decode(data[off:])
		if err != nil {
			var ce *CorruptError
			if errors.As(err, &ce) {
				ce.Offset = int64(off)
			}
			j.tailErr = err
			break
		}
		recs = append(recs, r)
		off += n
	}
	j.size = int64(off)
	if off < len(data) {
		j.truncated = int64(len(data) - off)
		if err := j.f.Truncate(j.size); err != nil {
			return nil, fmt.Errorf("resume: cut journal tail: %w", bare(err))
		}
		if err := j.f.Sync(); err != nil {
			return nil, fmt.Errorf("resume: cut journal tail: %w", bare(err))
		}
	}
	// The file may have just been created: make its directory entry durable
	// before any Append is acknowledged.
	if err := syncDir(j.root, j.name); err != nil {
		return nil, fmt.Errorf("resume: open journal %s: %w", j.name, bare(err))
	}
	return recs, nil
}

// Append writes recs as one group: it encodes them all, writes them with one
// write and fsyncs, and returns only after the fsync. A record whose Time is
// zero is stamped with the current time. If a record cannot be encoded,
// nothing is written. Appending no records does nothing.
//
// Write-ahead: append a record only after the data it describes is durable.
func (j *Journal) Append(recs ...Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.usable(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	buf, err := j.encode(recs)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(buf); err != nil {
		j.err = fmt.Errorf("resume: append to %s: %w", j.name, err)
		return j.err
	}
	if err := j.f.Sync(); err != nil {
		j.err = fmt.Errorf("resume: append to %s: %w", j.name, err)
		return j.err
	}
	j.size += int64(len(buf))
	return nil
}

// Rewrite replaces the journal's content with recs (compaction; typically
// State.Records after a commit): it writes name.tmp, fsyncs it, renames it
// over name and fsyncs the directory. A crash at any point leaves either the
// old or the new journal, whole. Appends continue on the new file.
//
// If Rewrite fails before the rename, the old journal is untouched and stays
// usable; after it, the failure sticks (see Journal).
func (j *Journal) Rewrite(recs []Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.usable(); err != nil {
		return err
	}
	buf, err := j.encode(recs)
	if err != nil {
		return err
	}
	tmp := j.name + ".tmp"
	f, err := j.root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("resume: rewrite journal: %w", bare(err))
	}
	if err := writeSync(f, buf); err != nil {
		f.Close()
		_ = j.root.Remove(tmp)
		return fmt.Errorf("resume: rewrite journal: %w", bare(err))
	}
	if err := j.root.Rename(tmp, j.name); err != nil {
		f.Close()
		_ = j.root.Remove(tmp)
		return fmt.Errorf("resume: rewrite journal: %w", bare(err))
	}
	// name is now the new file, and f is open on it.
	old := j.f
	j.f, j.size = f, int64(len(buf))
	old.Close() // fully synced; nothing is lost if closing fails
	if err := syncDir(j.root, j.name); err != nil {
		j.err = fmt.Errorf("resume: rewrite journal: %w", bare(err))
		return j.err
	}
	return nil
}

// Size returns the length of the journal file: all acknowledged records.
func (j *Journal) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}

// Truncated returns how many bytes of torn or corrupt tail Open cut off.
func (j *Journal) Truncated() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.truncated
}

// TailErr returns why Open cut the tail (a *CorruptError whose Offset is the
// position of the cut in the file), or nil if it cut nothing.
func (j *Journal) TailErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.tailErr
}

// Close closes the journal file. Every acknowledged record is already durable.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return ErrClosed
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// usable returns the error that stops the journal from writing, if any.
func (j *Journal) usable() error {
	if j.f == nil {
		return ErrClosed
	}
	return j.err
}

// encode frames recs into j.buf, stamping zero times with the current time.
func (j *Journal) encode(recs []Record) ([]byte, error) {
	if cap(j.buf) > 1<<20 {
		j.buf = nil // do not keep a huge rewrite's buffer
	}
	buf := j.buf[:0]
	now := time.Now().UnixNano()
	for _, r := range recs {
		if r.Time == 0 {
			r.Time = now
		}
		var err error
		if buf, err = Encode(buf, r); err != nil {
			return nil, err
		}
	}
	j.buf = buf
	return buf, nil
}

func writeSync(f *os.File, b []byte) error {
	if _, err := f.Write(b); err != nil {
		return err
	}
	return f.Sync()
}

// bare drops the path from a file error: the journal is named by its name
// in the namespace, and an os.Root file reports its absolute path, which a
// hub must not pass on to a sender.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
