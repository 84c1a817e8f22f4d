package agent

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/transfer"
)

// HubProbe asks a hub, before connecting, whether it already holds the
// plan: one sealed UDP datagram each way (see transfer.AskHub), with the key
// the hub gave in its last commit, kept in File.
type HubProbe struct {
	// Addr is the hub's UDP address, the one QUIC connects to.
	Addr string
	// File keeps the hub's probe key between runs (mode 0600). Whoever
	// reads it can learn whether a guessed tree is the one the hub holds.
	File string
}

func (p *HubProbe) key() (transfer.ProbeKey, bool) {
	var k transfer.ProbeKey
	data, err := os.ReadFile(p.File)
	if err != nil || k.UnmarshalBinary(data) != nil {
		return k, false
	}
	return k, true
}

// keep stores the hub's key, if it changed.
func (p *HubProbe) keep(k transfer.ProbeKey) error {
	if old, ok := p.key(); k.IsZero() || ok && old == k {
		return nil
	}
	data, _ := k.MarshalBinary()
	return identity.WriteSecret(p.File, data)
}

// probe settles the run without a connection when the hub holds the plan
// as its last complete restore point. It reports false whenever it cannot
// tell (no key, a cold hash cache, no answer, a changed tree): then the run
// connects as usual.
func probe(ctx context.Context, start time.Time, plan prioritize.Plan, src transfer.HashCache, opt Options, rep *Report) bool {
	k, ok := opt.Probe.key()
	if !ok {
		return false
	}
	items := transfer.PlanItems(plan)
	m, ok := transfer.ProbeFor(items, src)
	if !ok {
		return false
	}
	a, wire, err := transfer.AskHub(ctx, opt.Probe.Addr, k, m)
	rep.WireBytes += int64(wire)
	if err != nil {
		if opt.Logger != nil && !errors.Is(err, context.Canceled) {
			opt.Logger.Info("no answer to the probe; connecting", "err", err)
		}
		return false
	}
	if !a.Holds {
		return false
	}
	for i := range items {
		opt.Events(transfer.Event{Kind: transfer.EventDone, Item: &items[i], Skipped: true})
	}
	rep.Probed = true
	rep.Committed = a.Committed
	rep.Elapsed = time.Since(start)
	for _, it := range plan.Items {
		if it.Class == prioritize.Critical {
			rep.CriticalElapsed = rep.Elapsed
			break
		}
	}
	return true
}

// keepProbeKey stores the key a commit brought.
func keepProbeKey(opt Options, c transfer.Committed) {
	if err := opt.Probe.keep(c.Probe); err != nil && opt.Logger != nil {
		opt.Logger.Warn("keep the hub's probe key", "file", opt.Probe.File, "err", err)
	}
}
