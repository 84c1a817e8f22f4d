package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferrysync/ferry/transfer"
)

// probeKeyFile holds the namespace's probe key (transfer.ProbeKey's
// binary form).
const probeKeyFile = transfer.StateDir + "/probe-key"

// ProbeKey returns the namespace's probe key, creating it on first use.
// A hub gives it to the namespace's device with every commit.
func (s *Store) ProbeKey() (transfer.ProbeKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.probe.IsZero() {
		return s.probe, nil
	}
	k, err := readProbeKey(s.root)
	if errors.Is(err, os.ErrNotExist) {
		k = transfer.NewProbeKey()
		data, _ := k.MarshalBinary()
		err = s.writeDurable(probeKeyFile, data, 0o600)
	}
	if err != nil {
		return transfer.ProbeKey{}, fmt.Errorf("probe key: %w", err)
	}
	s.probe = k
	return k, nil
}

// ReadProbeKey reads the probe key of the namespace at dir, if it has one.
func ReadProbeKey(dir string) (transfer.ProbeKey, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return transfer.ProbeKey{}, err
	}
	defer root.Close()
	return readProbeKey(root)
}

func readProbeKey(root *os.Root) (transfer.ProbeKey, error) {
	var k transfer.ProbeKey
	data, err := root.ReadFile(probeKeyFile)
	if err == nil {
		err = k.UnmarshalBinary(data)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		err = fmt.Errorf("%s: %w", probeKeyFile, err)
	}
	return k, err
}

// Holds answers a probe: whether the last restore point is complete, digests
// as the probe's plan with every bucket known, and the live tree still
// holds it. It only reads, and may run beside a session.
func (s *Store) Holds(p transfer.Probe) (transfer.Committed, bool) {
	m := s.Head()
	if m == nil || !m.Complete() || uint64(len(m.Entries)) != p.Entries {
		return transfer.Committed{}, false
	}
	known := make([]bool, p.Buckets)
	for i := range known {
		known[i] = true
	}
	digest, have := s.digests(m.Entries, known)
	for _, h := range have {
		if !h {
			return transfer.Committed{}, false
		}
	}
	if transfer.SummaryRoot(known, digest) != p.Root {
		return transfer.Committed{}, false
	}
	return transfer.Committed{Seq: m.Seq, Files: uint64(m.Files), Bytes: uint64(m.Bytes), Complete: true}, true
}

// Probes answered per namespace: each reads the metadata of the whole live
// tree, so a device (or someone replaying its probes) gets a few at once
// and then one a second.
const (
	probeBurst = 4
	probeEvery = time.Second
)

// probeTarget is a namespace that answers probes.
type probeTarget struct {
	name string
	key  transfer.ProbeKey
	lim  *rate.Limiter
}

// registerProbes makes st's namespace answer probes.
func (h *Hub) registerProbes(name string, st *Store, log *slog.Logger) {
	k, err := st.ProbeKey()
	if err != nil {
		log.Warn("namespace will not answer probes", "namespace", name, "err", err)
		return
	}
	h.addProbeTarget(name, k)
}

func (h *Hub) addProbeTarget(name string, k transfer.ProbeKey) {
	h.probeMu.Lock()
	defer h.probeMu.Unlock()
	if h.probes == nil {
		h.probes = make(map[[8]byte]*probeTarget)
	}
	if h.probes[k.ID] == nil {
		h.probes[k.ID] = &probeTarget{name: name, key: k, lim: rate.NewLimiter(rate.Every(probeEvery), probeBurst)}
	}
}

// serveProbes answers probes on ln's socket until ctx ends. Datagrams that
// do not open with a known namespace's key get no answer at all, so the
// port neither amplifies nor tells a stranger anything.
func (h *Hub) serveProbes(ctx context.Context, ln *transfer.Listener, log *slog.Logger) {
	h.loadProbeKeys()
	buf := make([]byte, transfer.MaxProbe+1)
	for {
		n, addr, err := ln.ReadProbe(ctx, buf)
		if err != nil {
			return
		}
		if a := h.answerProbe(buf[:n], log); a != nil {
			ln.WriteProbe(a, addr)
		}
	}
}

// loadProbeKeys makes the allowed namespaces that have a key answer probes
// before their first session since the hub started.
func (h *Hub) loadProbeKeys() {
	for _, name := range h.Allow {
		if k, err := ReadProbeKey(filepath.Join(h.Root, name)); err == nil {
			h.addProbeTarget(name, k)
		}
	}
}

// answerProbe returns the sealed answer to a probe, nil to stay silent.
func (h *Hub) answerProbe(p []byte, log *slog.Logger) []byte {
	id, err := transfer.ProbeKeyID(p)
	if err != nil {
		return nil
	}
	h.probeMu.Lock()
	t := h.probes[id]
	h.probeMu.Unlock()
	if t == nil || !t.lim.Allow() {
		return nil
	}
	m, nonce, err := transfer.OpenProbe(t.key, p)
	if err != nil {
		log.Debug("probe refused", "namespace", t.name, "err", err)
		return nil
	}
	st, err := h.store(t.name, log)
	if err != nil {
		return nil
	}
	c, holds := st.Holds(m)
	log.Debug("probe answered", "namespace", t.name, "holds", holds)
	return transfer.SealAnswer(t.key, nonce, transfer.ProbeAnswer{Holds: holds, Committed: c})
}
