package netsim

import (
	"container/heap"
	"time"
)

// run delivers admitted datagrams at their delivery times until done is
// closed. It is the only goroutine that pops from p.inflight and the only
// writer of this direction, so writes leave in schedule order. One timer,
// re-armed for the head of the heap, replaces a timer per datagram.
func (p *pipe) run(done <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []packet
	for {
		now := time.Now()
		p.mu.Lock()
		due = due[:0]
		for p.inflight.Len() > 0 && !p.inflight.peek().at.After(now) {
			due = append(due, p.inflight.pop())
		}
		var wait time.Duration = -1
		if p.inflight.Len() > 0 {
			wait = p.inflight.peek().at.Sub(now)
		}
		p.mu.Unlock()

		for i := range due {
			p.deliver(due[i])
			due[i] = packet{} // let the buffer go
		}
		if len(due) > 0 {
			continue // writing took time; look again before sleeping
		}

		var fire <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-fire:
		case <-p.wake:
		case <-done:
			return
		}
	}
}

// drain discards everything still queued; the scheduler must have stopped.
func (p *pipe) drain() {
	p.mu.Lock()
	p.inflight = packetHeap{}
	p.mu.Unlock()
}

// deliver writes one due datagram, unless the link went dark while it was
// in flight.
func (p *pipe) deliver(pkt packet) {
	now := time.Now()
	if p.cut != nil && p.cut(now) {
		p.stats.blackouts.Add(1)
		return
	}
	if err := p.send(pkt.to, pkt.b); err != nil {
		p.stats.errors.Add(1)
		return
	}
	p.stats.forwarded.Add(1)
	p.stats.forwardedBytes.Add(uint64(len(pkt.b)))
	if p.onDeliver != nil {
		p.onDeliver(p.dir, len(pkt.b), pkt.at)
	}
}

// packetHeap is a min-heap of packets by delivery time, then arrival.
type packetHeap struct{ h packetSlice }

func (q *packetHeap) Len() int      { return len(q.h) }
func (q *packetHeap) push(p packet) { heap.Push(&q.h, p) }
func (q *packetHeap) pop() packet   { return heap.Pop(&q.h).(packet) }
func (q *packetHeap) peek() *packet { return &q.h[0] }

type packetSlice []packet

var _ heap.Interface = (*packetSlice)(nil)

func (s packetSlice) Len() int { return len(s) }
func (s packetSlice) Less(i, j int) bool {
	if s[i].at.Equal(s[j].at) {
		return s[i].seq < s[j].seq
	}
	return s[i].at.Before(s[j].at)
}
func (s packetSlice) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s *packetSlice) Push(x any)   { *s = append(*s, x.(packet)) }
func (s *packetSlice) Pop() any {
	old := *s
	p := old[len(old)-1]
	old[len(old)-1] = packet{}
	*s = old[:len(old)-1]
	return p
}
