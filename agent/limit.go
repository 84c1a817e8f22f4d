package agent

import (
	"context"
	"io"
	"time"

	"github.com/ferrysync/ferry/internal/bwlimit"
)

// limitedStream paces a session's writes to a bandwidth schedule. Reads
// pass through: the cap is on what this side sends.
type limitedStream struct {
	io.ReadWriteCloser
	w *bwlimit.Writer
}

func (s *limitedStream) Write(p []byte) (int, error) { return s.w.Write(p) }

// SetWriteDeadline and CloseWrite pass through, so an interrupted sender
// can still stop cleanly.
func (s *limitedStream) SetWriteDeadline(t time.Time) error {
	if d, ok := s.ReadWriteCloser.(interface{ SetWriteDeadline(time.Time) error }); ok {
		return d.SetWriteDeadline(t)
	}
	return nil
}

func (s *limitedStream) CloseWrite() error {
	if c, ok := s.ReadWriteCloser.(interface{ CloseWrite() error }); ok {
		return c.CloseWrite()
	}
	return nil
}

func limit(ctx context.Context, s io.ReadWriteCloser, cfg bwlimit.Config) *limitedStream {
	return &limitedStream{ReadWriteCloser: s, w: bwlimit.NewWriter(ctx, s, cfg)}
}
