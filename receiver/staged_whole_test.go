package receiver

import (
	"testing"

	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/transfer"
)

// TestStagedWhole: a file staged and journaled to its last byte, but not
// placed before a crash (an older build journaled the last chunk too), is
// placed at its next offer instead of blocking the namespace.
func TestStagedWhole(t *testing.T) {
	dir := t.TempDir()
	f := recFile{path: "logs/f.log", data: recData("f", 1, 3*recChunk)}
	st := recOpen(t, dir, Options{})
	ss := recBegin(t, st)
	o := f.offer(1)
	if r := recOffer(t, ss, o); r.Action != transfer.Send || r.Offset != 0 {
		t.Fatalf("first offer: %+v", r)
	}
	recWrite(t, ss, o, f.data, 0, int64(len(f.data)))
	// Journal the whole file as staged, then crash before Finish.
	ss.flush()
	ss.stage.sync()
	if err := st.journal(resume.Record{Kind: resume.KindChunk, Path: f.path, FileHash: f.hash(), Offset: int64(len(f.data))}); err != nil {
		t.Fatal(err)
	}
	recCrash(ss)

	st = recOpen(t, dir, Options{})
	defer st.Close()
	ss = recBegin(t, st)
	defer ss.Close()
	if r := recOffer(t, ss, f.offer(1)); r.Action != transfer.Skip {
		t.Fatalf("offer of a fully staged file: %+v, want skip (placed)", r)
	}
	recLive(t, dir, f.path, f.data)
}
