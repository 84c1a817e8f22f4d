package receiver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// A staged file keeps beside its data a sidecar of the sums of its
// verified chunks, so that a resumed file's prefix is checked chunk by
// chunk and a damaged chunk costs only itself and what follows.
const (
	sumsSuffix = ".sums"
	sumRecLen  = 8 + 32 // end offset, BLAKE3 of the chunk
)

// staged is a file being received into staging.
type staged struct {
	s     *Store
	path  string   // final path
	hash  scan.Sum // offered content hash
	name  string   // staging data file
	f     *os.File
	sums  *os.File       // opened at the first sync: a file that arrives whole never needs one
	h     *blake3.Hasher // over [0, size)
	size  int64          // bytes written and verified
	dirty bool           // written since the last sync
	err   error          // a failed sync, which sticks
	// pending holds sum records not yet in the sums file.
	pending []byte
}

func stageName(p string) string {
	sum := blake3.Sum256([]byte(p))
	return fmt.Sprintf("%s/%x", stagingDir, sum[:16])
}

// openStaged opens the staging of p for content hash, continuing after a
// verified prefix of at (0 starts over). The caller has checked the prefix
// with verifyStaged and passes the hasher over it.
func openStaged(s *Store, p string, hash scan.Sum, at int64, h *blake3.Hasher) (*staged, error) {
	name := stageName(p)
	flags := os.O_RDWR | os.O_CREATE
	if at == 0 {
		flags |= os.O_TRUNC
		h = blake3.New()
	}
	f, err := s.openFile(name, flags, 0o600)
	if err != nil {
		return nil, storageErr("open staging file for "+p, err)
	}
	st := &staged{s: s, path: p, hash: hash, name: name, f: f, h: h, size: at}
	if at > 0 {
		if st.sums, err = s.openFile(name+sumsSuffix, os.O_RDWR, 0); err != nil {
			f.Close()
			return nil, storageErr("open staging sums for "+p, err)
		}
	}
	if err := st.truncate(at); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

// truncate cuts the data and the sums back to the prefix [0, at), which
// must end on a chunk boundary the sums record.
func (st *staged) truncate(at int64) error {
	var err error
	if st.sums != nil {
		var n int64
		n, err = sumsUpTo(st.sums, at)
		if err == nil {
			err = st.s.truncateFile(st.sums, st.name+sumsSuffix, n*sumRecLen)
		}
		if err == nil {
			_, err = st.sums.Seek(n*sumRecLen, io.SeekStart)
		}
	}
	if err == nil {
		err = st.s.truncateFile(st.f, st.name, at)
	}
	if err == nil {
		_, err = st.f.Seek(at, io.SeekStart)
	}
	if err != nil {
		return storageErr("truncate staging file for "+st.path, err)
	}
	return nil
}

// write appends a verified chunk.
func (st *staged) write(data []byte, sum scan.Sum) error {
	if err := st.s.writeFile(st.f, st.name, data); err != nil {
		return storageErr("write staging file for "+st.path, err)
	}
	st.size += int64(len(data))
	st.pending = binary.BigEndian.AppendUint64(st.pending, uint64(st.size))
	st.pending = append(st.pending, sum[:]...)
	st.h.Write(data)
	st.dirty = true
	return nil
}

// sync makes everything written durable.
//
// A failure sticks: after a failed fsync the file system may have dropped
// the pages it could not write and report the next fsync clean, so what
// was written since the last good sync is never vouched for.
func (st *staged) sync() error {
	if st.err != nil {
		return st.err
	}
	if !st.dirty {
		return nil
	}
	var err error
	if st.sums == nil {
		st.sums, err = st.s.openFile(st.name+sumsSuffix, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	}
	if err == nil {
		err = st.s.writeFile(st.sums, st.name+sumsSuffix, st.pending)
		st.pending = st.pending[:0]
	}
	if err == nil {
		err = st.s.syncFile(st.f, st.name)
	}
	if err == nil {
		err = st.s.syncFile(st.sums, st.name+sumsSuffix)
	}
	if err != nil {
		st.err = storageErr("sync staging file for "+st.path, err)
		return st.err
	}
	st.dirty = false
	return nil
}

func (st *staged) close() {
	st.f.Close()
	if st.sums != nil {
		st.sums.Close()
	}
}

// remove closes and deletes the staging files.
func (st *staged) remove() {
	st.close()
	st.s.root.Remove(st.name)
	st.removeSums()
}

// removeSums deletes the sums file once the data no longer needs it.
func (st *staged) removeSums() {
	if st.sums != nil {
		st.s.root.Remove(st.name + sumsSuffix)
	}
}

// sumsUpTo returns how many sum records end at or before at, and fails if
// none ends exactly at at (unless at is 0).
func sumsUpTo(sums *os.File, at int64) (int64, error) {
	if at == 0 {
		return 0, nil
	}
	var rec [sumRecLen]byte
	for n := int64(0); ; n++ {
		if _, err := sums.ReadAt(rec[:], n*sumRecLen); err != nil {
			return 0, fmt.Errorf("no chunk ends at %d: %w", at, errNoBoundary)
		}
		end := int64(binary.BigEndian.Uint64(rec[:8]))
		if end == at {
			return n + 1, nil
		}
		if end > at {
			return 0, fmt.Errorf("no chunk ends at %d: %w", at, errNoBoundary)
		}
	}
}

var errNoBoundary = errors.New("receiver: staged chunks do not match the journal")

// verifyStaged reads the staged prefix [0, at) of p chunk by chunk against
// its sums and returns the end of the longest good prefix and the hasher
// over it. Damage costs the first bad chunk and what follows it.
func verifyStaged(root *os.Root, p string, at int64) (int64, *blake3.Hasher, error) {
	name := stageName(p)
	f, err := root.Open(name)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	sums, err := root.Open(name + sumsSuffix)
	if err != nil {
		return 0, nil, err
	}
	defer sums.Close()
	h := blake3.New()
	var rec [sumRecLen]byte
	var buf []byte
	good := int64(0)
	for n := int64(0); good < at; n++ {
		if _, err := sums.ReadAt(rec[:], n*sumRecLen); err != nil {
			break
		}
		end := int64(binary.BigEndian.Uint64(rec[:8]))
		if end <= good || end > at || end-good > transfer.MaxChunkSize {
			break
		}
		if int64(cap(buf)) < end-good {
			buf = make([]byte, end-good)
		}
		chunk := buf[:end-good]
		if _, err := f.ReadAt(chunk, good); err != nil {
			break
		}
		if scan.Sum(blake3.Sum256(chunk)) != scan.Sum(rec[8:]) {
			break
		}
		h.Write(chunk)
		good = end
	}
	return good, h, nil
}
