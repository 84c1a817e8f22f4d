package transfer

import (
	"context"
	"io"

	"github.com/ferrysync/ferry/scan"
)

// Source gives the sender the content of the entries it offers.
type Source interface {
	// Hash returns the BLAKE3 of a file's content or a symlink's target.
	// It is called in plan order, a few entries ahead of the data.
	Hash(ctx context.Context, e scan.Entry) (scan.Sum, error)
	// Open opens a file for reading.
	Open(e scan.Entry) (File, error)
}

// File is an open source file.
type File interface {
	io.ReaderAt
	io.Closer
}
