package receiver

import (
	"io/fs"
	"os"
)

// Every write the receiver's guarantees rest on goes through the small
// methods below: creating, writing, truncating and fsyncing a file,
// renaming, fsyncing a directory, appending to and compacting the journal.
// They do two things besides the call itself:
//
//   - They name the file in an error by its path in the namespace. A file
//     opened through os.Root reports its absolute path, and a hub must not
//     tell a sender where its namespaces live.
//   - They consult Options.fault, which only tests set (fault_test.go), so
//     that an I/O error can be injected at any one step and the guarantees
//     checked to hold there as they do after a crash. In production it is
//     nil and costs one comparison.

// faultOp is a kind of durable write, as Options.fault sees it.
type faultOp uint8

const (
	opCreate     faultOp = iota // create a file, directory or link, or open a file to write
	opWrite                     // write to a file
	opTruncate                  // cut a file back
	opSync                      // fsync a file
	opRename                    // rename; the name is the destination
	opSyncDir                   // fsync a directory
	opRemove                    // remove what recovery does not account for
	opAppend                    // append to the journal: nothing is written
	opAppendSync                // append to the journal: written, but the fsync fails
	opCompact                   // rewrite the journal after a commit
)

var opNames = [...]string{"create", "write", "truncate", "sync", "rename", "sync directory", "remove", "append", "append+sync", "compact"}

func (op faultOp) String() string { return opNames[op] }

// hit returns the error injected at op on name, if any.
func (s *Store) hit(op faultOp, name string) error {
	if s.opt.fault == nil {
		return nil
	}
	return s.opt.fault(op, name)
}

// inNamespace returns err, from an operation on the file name of the
// namespace, naming the file by that name.
func inNamespace(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: name, Err: unwrapPath(err)}
}

// unwrapPath drops the path an *fs.PathError names, for a caller that
// names the file itself.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func (s *Store) openFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if err := s.hit(opCreate, name); err != nil {
		return nil, inNamespace("open", name, err)
	}
	return s.root.OpenFile(name, flag, perm)
}

func (s *Store) mkdir(name string, perm fs.FileMode) error {
	if err := s.hit(opCreate, name); err != nil {
		return inNamespace("mkdir", name, err)
	}
	return s.root.Mkdir(name, perm)
}

func (s *Store) mkdirAll(name string, perm fs.FileMode) error {
	if err := s.hit(opCreate, name); err != nil {
		return inNamespace("mkdir", name, err)
	}
	return s.root.MkdirAll(name, perm)
}

func (s *Store) symlink(target, name string) error {
	if err := s.hit(opCreate, name); err != nil {
		return &os.LinkError{Op: "symlink", Old: target, New: name, Err: err}
	}
	return s.root.Symlink(target, name)
}

func (s *Store) removeAll(name string) error {
	if err := s.hit(opRemove, name); err != nil {
		return inNamespace("remove", name, err)
	}
	return s.root.RemoveAll(name)
}

func (s *Store) rename(from, to string) error {
	if err := s.hit(opRename, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return s.root.Rename(from, to)
}

// writeFile writes b to f, which is name in the namespace.
func (s *Store) writeFile(f *os.File, name string, b []byte) error {
	err := s.hit(opWrite, name)
	if err == nil {
		_, err = f.Write(b)
	}
	return inNamespace("write", name, err)
}

func (s *Store) truncateFile(f *os.File, name string, size int64) error {
	err := s.hit(opTruncate, name)
	if err == nil {
		err = f.Truncate(size)
	}
	return inNamespace("truncate", name, err)
}

func (s *Store) syncFile(f *os.File, name string) error {
	err := s.hit(opSync, name)
	if err == nil {
		err = f.Sync()
	}
	return inNamespace("sync", name, err)
}
