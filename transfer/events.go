package transfer

import "github.com/ferrysync/ferry/prioritize"

// EventKind says what happened to an entry of the plan.
type EventKind uint8

// Event kinds, in the order they happen to one entry.
const (
	// EventStart: the receiver asked for the file's bytes.
	EventStart EventKind = iota + 1
	// EventProgress: one chunk was written to the stream.
	EventProgress
	// EventDone: the entry is durable on the receiver (placed or already
	// there), or it failed and Err says why.
	EventDone
)

// Event reports progress to the sender's caller. Events are delivered from
// the goroutine that runs Send; a hook must not block.
type Event struct {
	Kind EventKind
	Item *prioritize.Item
	// Bytes is the payload sent: this chunk's for EventProgress, the whole
	// file's for EventDone.
	Bytes int64
	// Offset is where sending started (EventStart; non-zero on resume).
	Offset int64
	// Skipped is set on EventDone when the receiver already had the entry.
	Skipped bool
	Err     error
}
