package receiver

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"github.com/ferrysync/ferry/transfer"
)

// LocalConn is the sender's end of a session with a receiver running in
// this process, for a local destination: the same protocol and the same
// checks as over the network, through an in-memory pipe.
type LocalConn struct {
	net.Conn
	n    atomic.Int64
	once sync.Once
	done chan error
	err  error
	ss   *Session
	st   *Store
}

// Local opens the namespace dir and serves one session on it in a
// goroutine. Close the returned connection to end the session and release
// the namespace; ctx only bounds the wait for the namespace.
func Local(ctx context.Context, dir string, opt Options) (*LocalConn, error) {
	st, err := Open(dir, opt)
	if err != nil {
		return nil, err
	}
	ss, err := st.Begin(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	a, b := net.Pipe()
	c := &LocalConn{Conn: a, done: make(chan error, 1), ss: ss, st: st}
	// The session ends when the sender closes the pipe, not with ctx: an
	// interrupted sender stops at a chunk boundary and the receiver must
	// still read and journal what it sent.
	rctx := context.WithoutCancel(ctx)
	go func() {
		err := transfer.Receive(rctx, b, ss)
		b.Close()
		c.done <- err
	}()
	return c, nil
}

// Read counts the bytes that stand in for wire bytes.
func (c *LocalConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Write counts the bytes that stand in for wire bytes.
func (c *LocalConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Bytes returns the bytes that crossed the pipe both ways.
func (c *LocalConn) Bytes() int64 { return c.n.Load() }

// Close ends the session, waits for the receiver and returns its error.
func (c *LocalConn) Close() error {
	c.once.Do(func() {
		c.Conn.Close()
		c.err = <-c.done
		c.ss.Close()
		c.st.Close()
	})
	return c.err
}
