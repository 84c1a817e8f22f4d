package receiver

import (
	"context"
	"testing"
	"time"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/transfer"
)

// recWaitJournal waits until dir's journal holds a chunk record of p at
// offset at: the receiver has made those bytes durable.
func recWaitJournal(t *testing.T, dir, p string, at int64) {
	t.Helper()
	deadline := time.Now().Add(recWait)
	for {
		recs, _, _ := recJournal(t, dir)
		for _, r := range recs {
			if r.Kind == resume.KindChunk && r.Path == p && r.Offset == at {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no chunk record of %s at %d within %v", p, at, recWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestPreempt: a second session on the namespace, started with Preempt,
// ends the first (its Receive returns) and proceeds, resuming what the
// first one staged.
func TestPreempt(t *testing.T) {
	dir := t.TempDir()
	st := recOpen(t, dir, Options{})
	defer st.Close()
	a := recFile{path: "a.json", data: []byte(`{"a":1}`)}
	b := recFile{path: "b.bin", data: recData("b", 1, 5*recChunk+11)}

	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	ss1, err := st.Preempt(ctx1, cancel1)
	if err != nil {
		t.Fatal(err)
	}
	w1 := recStartWire(t, ctx1, ss1, true)
	if s := w1.file(a, 1); s.Code != transfer.CodeOK {
		t.Fatalf("a: %+v", s)
	}
	w1.offer(b.offer(2))
	w1.chunks(2, b.data, 0, 2*recChunk)
	recWaitJournal(t, dir, b.path, 2*recChunk)
	// The first sender goes quiet, as one whose link dropped.

	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	type began struct {
		ss  *Session
		err error
	}
	second := make(chan began, 1)
	go func() {
		ss, err := st.Preempt(ctx2, cancel2)
		second <- began{ss, err}
	}()
	err1 := w1.result()
	t.Logf("preempted session: %v", err1)
	if !recIsCanceled(err1) {
		t.Errorf("preempted session ended with %v, want it canceled", err1)
	}
	if ctx1.Err() == nil {
		t.Errorf("the preempted session's context was not canceled")
	}
	if err := ss1.Close(); err != nil {
		t.Errorf("close the preempted session: %v", err)
	}
	var g began
	select {
	case g = <-second:
	case <-time.After(recWait):
		t.Fatalf("the second session did not begin within %v of the first ending", recWait)
	}
	if g.err != nil {
		t.Fatalf("preempt: %v", g.err)
	}
	ss2 := g.ss
	defer ss2.Close()
	w2 := recStartWire(t, ctx2, ss2, true)
	if r := w2.offer(a.offer(1)); r.Action != transfer.Skip {
		t.Errorf("a, placed by the preempted session: answered %+v, want skip", r)
	}
	r := w2.offer(b.offer(2))
	if r.Action != transfer.Send || r.Offset != 2*recChunk {
		t.Fatalf("b: answered %v from %d, want send from %d", r.Action, r.Offset, 2*recChunk)
	}
	w2.chunks(2, b.data, r.Offset, int64(len(b.data)))
	if s := w2.status(); s.Code != transfer.CodeOK {
		t.Fatalf("b: %+v", s)
	}
	c := w2.commit(2, true)
	if c.Seq != 1 || c.Files != 2 || !c.Complete {
		t.Errorf("committed %+v, want manifest 1, complete, of 2 files", c)
	}
	recLive(t, dir, a.path, a.data)
	recLive(t, dir, b.path, b.data)
}
