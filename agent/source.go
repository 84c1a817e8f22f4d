package agent

import (
	"context"
	"fmt"
	"os"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// dirSource reads entries of a source tree through an os.Root, so a
// symlink swapped in after the scan cannot make the sender read outside it.
type dirSource struct {
	root   *os.Root
	hasher *scan.Hasher
}

var (
	_ transfer.Source    = (*dirSource)(nil)
	_ transfer.HashCache = (*dirSource)(nil)
)

// Cached returns a file's hash from the cache, if it is there and the file
// was not touched since it was hashed.
func (s *dirSource) Cached(e scan.Entry) (scan.Sum, bool) {
	if e.Kind == scan.Symlink {
		return scan.Sum(blake3.Sum256([]byte(e.Target))), true
	}
	return s.hasher.Cache.Lookup(e)
}

func (s *dirSource) Hash(ctx context.Context, e scan.Entry) (scan.Sum, error) {
	return s.hasher.Hash(ctx, e)
}

func (s *dirSource) Open(e scan.Entry) (transfer.File, error) {
	f, err := s.root.Open(e.Path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is no longer a regular file: %w", e.Path, transfer.ErrChanged)
	}
	return f, nil
}
