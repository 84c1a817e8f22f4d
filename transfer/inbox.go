package transfer

import "sync"

// inbox is an unbounded queue from the goroutine that reads a stream to the
// one that writes it. The reader must never block on the writer: if both
// ends of a synchronous pipe are busy writing, a bounded queue deadlocks.
type inbox[T any] struct {
	mu     sync.Mutex
	items  []T
	notify chan struct{}
}

func newInbox[T any]() *inbox[T] { return &inbox[T]{notify: make(chan struct{}, 1)} }

func (q *inbox[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// drain returns everything queued so far, oldest first.
func (q *inbox[T]) drain() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}
