package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/transfer"
)

// Hub serves senders over QUIC, each admitted identity into its own
// namespace under Root.
type Hub struct {
	// Root is the directory that holds one namespace per device.
	Root string
	// Allow maps each admitted peer ID to its namespace name, a single
	// path element. Connections from other IDs fail the TLS handshake.
	Allow map[identity.ID]string
	// Logger receives a line per session. If nil, nothing is logged.
	Logger *slog.Logger
	// Placed, if set, is called with each path placed in any namespace.
	Placed func(path string)
	// CheckpointEvery is passed to each namespace's Options.
	CheckpointEvery time.Duration
	// Limits bound each namespace.
	Limits Limits
	// Group is passed to each namespace's Options.
	Group resume.Grouper
	// FrameTimeout ends a session whose sender has not completed a frame
	// for this long: a peer trickling a byte a minute keeps its connection
	// alive but not the session. A connection that opens no stream for
	// this long is closed too. If zero, defaults to 5 minutes.
	FrameTimeout time.Duration
	// MaxConns is the most connections the hub serves at once, from all
	// devices together; a connection beyond it is closed at once with an
	// error naming the limit, and the sender retries later. If zero,
	// defaults to DefaultMaxConns.
	MaxConns int
	// MaxConnsPerDevice is the most connections one device may hold at
	// once; a connection beyond it is closed at once with an error naming
	// the limit. A device needs one, and one more while a reconnect
	// preempts its old session. If zero, defaults to
	// DefaultMaxConnsPerDevice.
	MaxConnsPerDevice int

	mu     sync.Mutex
	stores map[string]*Store
	conns  map[identity.ID]int // open connections per device
	total  int                 // the sum of conns

	probeMu sync.Mutex
	probes  map[[8]byte]*probeTarget // by key ID
}

// Default connection limits of a Hub: room for a fleet of hundreds of
// devices, and for each device a connection, the one a reconnect preempts,
// and two more while a flapping link leaves connections to time out.
const (
	DefaultMaxConns          = 1024
	DefaultMaxConnsPerDevice = 4
)

// ValidNamespace checks a namespace name: one valid path element.
func ValidNamespace(name string) error {
	if err := transfer.ValidPath(name); err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	if strings.Contains(name, "/") {
		return fmt.Errorf("namespace %q: must be a single name, not a path", name)
	}
	return nil
}

// Admit is the TLS allow-list check for Hub.Allow.
func (h *Hub) Admit(id identity.ID) bool {
	_, ok := h.Allow[id]
	return ok
}

// Serve accepts connections on ln until ctx ends, then closes every
// connection it accepted and returns.
func (h *Hub) Serve(ctx context.Context, ln *transfer.Listener) error {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, name := range h.Allow {
		if err := ValidNamespace(name); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer h.closeStores()
	probeCtx, stopProbes := context.WithCancel(ctx)
	probesDone := make(chan struct{})
	go func() {
		defer close(probesDone)
		h.serveProbes(probeCtx, ln, log)
	}()
	defer func() { stopProbes(); <-probesDone }()
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Go(func() { h.serveConn(ctx, conn, log) })
	}
}

func (h *Hub) serveConn(ctx context.Context, conn *quic.Conn, log *slog.Logger) {
	peer, err := identity.PeerID(conn.ConnectionState().TLS)
	if err != nil || !h.Admit(peer) {
		// The TLS handshake already refused unknown peers; this is the
		// second lock on the door.
		conn.CloseWithError(1, "unknown peer")
		return
	}
	name := h.Allow[peer]
	log = log.With("peer", peer.String(), "namespace", name, "remote", conn.RemoteAddr().String())
	if reason := h.hold(peer); reason != "" {
		log.Warn("connection refused", "reason", reason)
		conn.CloseWithError(1, reason)
		return
	}
	defer h.release(peer)
	err = h.session(ctx, conn, name, log)
	if err != nil {
		log.Warn("session ended", "err", err)
		// Give the error frame a moment to reach the sender: closing
		// the connection drops data not yet acknowledged.
		select {
		case <-conn.Context().Done():
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
		transfer.Finish(conn, err)
		return
	}
	// The sender closes the connection once it has read the commit;
	// closing first would drop that last message.
	select {
	case <-conn.Context().Done():
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
	}
	transfer.Finish(conn, nil)
}

func (h *Hub) session(ctx context.Context, conn *quic.Conn, name string, log *slog.Logger) error {
	st, err := h.store(name, log)
	if err != nil {
		// The cause names the hub's directories: it goes to the log,
		// and the sender learns only that storage failed.
		log.Error("open namespace", "err", err)
		return fmt.Errorf("open namespace %s: %w", name, storageKind(err))
	}
	timeout := h.FrameTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	// A connection that never opens its stream would otherwise be held
	// for as long as the peer answers keep-alives.
	actx, cancelAccept := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no stream from the sender in %v", timeout))
	stream, err := transfer.Accept(actx, conn)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		err = context.Cause(actx)
	}
	cancelAccept()
	if err != nil {
		return err
	}
	defer stream.CloseWrite()
	// A device that reconnects after its link dropped finds its old
	// session still waiting for the idle timeout: the newer one wins.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopRead := context.AfterFunc(ctx, func() { stream.Close() })
	defer stopRead()
	ss, err := st.Preempt(ctx, cancel)
	if err != nil {
		return err
	}
	log.Info("session started")
	err = transfer.ReceiveWith(ctx, stream, ss, transfer.ReceiveConfig{FrameTimeout: timeout})
	if cerr := ss.Close(); err == nil {
		err = cerr
	}
	return err
}

// hold counts a new connection from peer, or returns why it is refused:
// the limit it would pass.
func (h *Hub) hold(peer identity.ID) (refused string) {
	perDevice, total := h.MaxConnsPerDevice, h.MaxConns
	if perDevice <= 0 {
		perDevice = DefaultMaxConnsPerDevice
	}
	if total <= 0 {
		total = DefaultMaxConns
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.conns[peer] >= perDevice:
		return fmt.Sprintf("per-device connection limit reached (%d)", perDevice)
	case h.total >= total:
		return fmt.Sprintf("hub connection limit reached (%d)", total)
	}
	if h.conns == nil {
		h.conns = make(map[identity.ID]int)
	}
	h.conns[peer]++
	h.total++
	return ""
}

func (h *Hub) release(peer identity.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns[peer]--; h.conns[peer] == 0 {
		delete(h.conns, peer)
	}
	h.total--
}

// Conns returns how many connections the hub serves now.
func (h *Hub) Conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// storageKind returns the kind of a storage failure, without its details.
func storageKind(err error) error {
	if errors.Is(err, transfer.ErrNoSpace) || errors.Is(err, syscall.ENOSPC) {
		return transfer.ErrNoSpace
	}
	return transfer.ErrStorage
}

// store opens a namespace once and keeps it open.
func (h *Hub) store(name string, log *slog.Logger) (*Store, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.stores[name]; st != nil {
		return st, nil
	}
	st, err := Open(filepath.Join(h.Root, name), Options{Logger: log, Placed: h.Placed, CheckpointEvery: h.CheckpointEvery, Limits: h.Limits, Group: h.Group, Probes: true})
	if err != nil {
		return nil, err
	}
	h.registerProbes(name, st, log)
	if h.stores == nil {
		h.stores = make(map[string]*Store)
	}
	h.stores[name] = st
	return st, nil
}

func (h *Hub) closeStores() {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for _, st := range h.stores {
		errs = append(errs, st.Close())
	}
	h.stores = nil
	_ = errors.Join(errs...)
}
