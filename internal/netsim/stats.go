package netsim

import "sync/atomic"

// DirStats counts the datagrams of one direction. Bytes are UDP payload
// bytes, without IP and UDP headers. Once the proxy is idle,
// Packets = Forwarded + DroppedLoss + DroppedQueue + DroppedBlackout + Errors.
type DirStats struct {
	// Packets and Bytes were received by the proxy.
	Packets, Bytes uint64
	// Forwarded and ForwardedBytes were written to the other side.
	Forwarded, ForwardedBytes uint64
	// DroppedLoss were dropped by the random loss stage.
	DroppedLoss uint64
	// DroppedQueue were tail-dropped at a full bottleneck queue.
	DroppedQueue uint64
	// DroppedBlackout were dropped during a blackout, on arrival or while
	// in flight.
	DroppedBlackout uint64
	// Errors failed to be written, for example because the upstream port
	// refused them.
	Errors uint64
}

// Dropped returns the datagrams dropped by impairments.
func (s DirStats) Dropped() uint64 {
	return s.DroppedLoss + s.DroppedQueue + s.DroppedBlackout
}

// Stats is a snapshot of a Proxy's counters.
type Stats struct {
	Up, Down DirStats
	// Sessions counts the sessions opened: one per client address per
	// Serve.
	Sessions int
}

// counters is the live, concurrency-safe form of DirStats.
type counters struct {
	packets, bytes              atomic.Uint64
	forwarded, forwardedBytes   atomic.Uint64
	lost, queueDrops, blackouts atomic.Uint64
	errors                      atomic.Uint64
}

func (c *counters) snapshot() DirStats {
	return DirStats{
		Packets:         c.packets.Load(),
		Bytes:           c.bytes.Load(),
		Forwarded:       c.forwarded.Load(),
		ForwardedBytes:  c.forwardedBytes.Load(),
		DroppedLoss:     c.lost.Load(),
		DroppedQueue:    c.queueDrops.Load(),
		DroppedBlackout: c.blackouts.Load(),
		Errors:          c.errors.Load(),
	}
}
