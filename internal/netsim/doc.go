// Package netsim owns ferry's user-space link emulator: a UDP relay that
// impairs the traffic between clients and one upstream server with loss, a
// bandwidth limit behind a bounded queue, delay, jitter and blackouts.
//
// The kernels ferry is tested on lack the netem qdisc, so tests and scripts
// put a [Proxy] between a client and a server on 127.0.0.1 instead.
//
// # Overview
//
// A [Proxy] listens on one UDP socket. The first datagram from a client
// address opens a session: an upstream socket connected to the server, used
// for that client alone, so many clients (and many QUIC connections) can
// share one proxy and the server sees a distinct source port per client.
//
// Each direction ([Up]: client to server, [Down]: server to client) runs the
// same pipeline on every datagram it receives, in this order:
//
//  1. Loss: the i-th datagram received in a direction is dropped when the
//     i-th draw of a PCG generator seeded from [Config.Seed] is below
//     [Link.Loss]. One draw is taken per datagram whatever the knobs, so the
//     same seed drops the same indices, and a higher loss rate drops a
//     superset of them.
//  2. Blackout: while a scheduled or manual blackout is on, everything is
//     dropped, in both directions, on arrival and on delivery (datagrams
//     already in flight when the link is cut are lost too).
//  3. Rate: the datagram is serialized at the bottleneck,
//     depart = max(now, lastDepart) + len/Rate.
//  4. Queue: if the bytes still waiting at the bottleneck plus this datagram
//     exceed [Link.QueueBytes], it is tail-dropped; a datagram that finds the
//     queue empty is always accepted.
//  5. Delay: deliver = depart + Delay + uniform[0, Jitter). Unless
//     [Link.Reorder] is set, deliver is raised to the previous delivery time
//     of the direction, so jitter never reorders.
//
// Admission is computed once, on arrival: the rate and queue are virtual
// (clock arithmetic), and the datagram then waits in a min-heap ordered by
// delivery time. One scheduler goroutine per direction sleeps on a single
// timer until the head of the heap is due and writes every due datagram.
//
// Every knob can be changed while the proxy runs with [Proxy.SetLink] and
// [Proxy.SetBlackout]; datagrams already admitted keep their schedule.
// [Proxy.Stats] counts datagrams and payload bytes per direction and stage,
// and [Config.OnDeliver] reports each delivery as it happens.
//
// # Accuracy
//
// Delivery times are exact on the virtual clock, but the scheduler wakes
// through the Go runtime's timers, which on Linux fire with about a
// millisecond of slack (more on a loaded machine). At high rates several
// datagrams become due per wake-up and leave in a burst; averages over tens
// of milliseconds stay accurate because the schedule is absolute and a late
// wake-up catches up rather than drifting.
package netsim
