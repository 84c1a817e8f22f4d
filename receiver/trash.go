package receiver

import (
	"fmt"
	"path"
	"slices"
)

// trash moves p into the trash of sequence seq and makes the move durable.
// A name the trash already holds gets a suffix: nothing there is replaced.
func (s *Store) trash(p string, seq uint64) error {
	dst := fmt.Sprintf("%s/%d/%s", trashDir, seq, p)
	for i := 2; s.exists(dst); i++ {
		dst = fmt.Sprintf("%s/%d/%s.%d", trashDir, seq, p, i)
	}
	if err := s.mkdirAll(path.Dir(dst), 0o700); err != nil {
		return storageErr("make trash for "+p, err)
	}
	err := s.rename(p, dst)
	if err == nil {
		err = s.syncDir(path.Dir(dst))
	}
	if err == nil {
		err = s.syncDir(path.Dir(p))
	}
	if err != nil {
		return storageErr("move "+p+" to the trash", err)
	}
	return nil
}

func (s *Store) exists(name string) bool {
	_, err := s.root.Lstat(name)
	return err == nil
}

// tidy moves to the trash of seq what the restore point prev listed and m
// does not, each directory before what it holds, so that it goes whole.
func (s *Store) tidy(prev, m *Manifest, seq uint64) error {
	keep := make(map[string]bool, len(m.Entries))
	for _, e := range m.Entries {
		keep[e.Path] = true
	}
	var gone []string
	for _, e := range prev.Entries {
		if !keep[e.Path] {
			gone = append(gone, e.Path)
		}
	}
	slices.Sort(gone)
	for _, p := range gone {
		_, err := s.root.Lstat(p)
		if isNotExist(err) {
			continue // gone with its directory, or never placed
		}
		if err != nil {
			return storageErr("stat "+p, err)
		}
		if err := s.trash(p, seq); err != nil {
			return err
		}
	}
	return nil
}
