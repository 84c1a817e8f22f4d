package receiver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
)

// syncDir makes a directory's entries durable (a rename or create in it).
func (s *Store) syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Windows cannot open a directory for syncing; NTFS journals
		// renames itself.
		return nil
	}
	if err := s.hit(opSyncDir, dir); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	d, err := s.root.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, unwrapPath(err))
	}
	return nil
}

// writeDurable writes data to name through a temporary file: write, fsync,
// rename, fsync the directory. A crash leaves either the old or the new
// content at name.
func (s *Store) writeDurable(name string, data []byte, perm fs.FileMode) error {
	tmp := name + ".tmp"
	f, err := s.openFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	err = s.writeFile(f, tmp, data)
	if err == nil {
		err = s.syncFile(f, tmp)
	}
	if cerr := f.Close(); err == nil {
		err = inNamespace("close", tmp, cerr)
	}
	if err == nil {
		err = s.rename(tmp, name)
	}
	if err != nil {
		s.root.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return s.syncDir(path.Dir(name))
}

// isNotExist reports whether err says a path does not exist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// maxDirHandles bounds the directories a session keeps open for syncing.
const maxDirHandles = 64

// syncDir syncs a directory of the live tree through a handle kept open
// for the session: placing many files in one directory then costs an fsync
// each, not a walk of the path as well.
func (ss *Session) syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, ok := ss.dirHandles[dir]
	if !ok {
		if len(ss.dirHandles) >= maxDirHandles {
			ss.closeDirs()
		}
		var err error
		if d, err = ss.s.root.Open(dir); err != nil {
			return fmt.Errorf("open directory %s: %w", dir, err)
		}
		if ss.dirHandles == nil {
			ss.dirHandles = make(map[string]*os.File)
		}
		ss.dirHandles[dir] = d
	}
	err := ss.s.hit(opSyncDir, dir)
	if err == nil {
		err = d.Sync()
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, unwrapPath(err))
	}
	return nil
}

func (ss *Session) closeDirs() {
	for dir, d := range ss.dirHandles {
		d.Close()
		delete(ss.dirHandles, dir)
	}
}
