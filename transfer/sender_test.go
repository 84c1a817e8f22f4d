package transfer

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/scan"
)

// unopenable is a source whose files hash but cannot be opened.
type unopenable struct{}

func (unopenable) Hash(context.Context, scan.Entry) (scan.Sum, error) { return scan.Sum{1}, nil }
func (unopenable) Open(scan.Entry) (File, error)                      { return nil, errors.New("permission denied") }

// TestSenderAbandonCrossesDone: the sender gives up a file it cannot open
// while the receiver, at the same moment, refuses it. The receiver's done
// for a file the sender already abandoned is no protocol violation.
func TestSenderAbandonCrossesDone(t *testing.T) {
	sc, rc := net.Pipe()
	defer rc.Close()
	plan := prioritize.Plan{Items: []prioritize.Item{{Entry: scan.Entry{Path: "a.bin", Kind: scan.File, Size: 10, Mode: 0o644}}}}
	done := make(chan error, 1)
	var res Result
	go func() {
		var err error
		res, err = NewSender(SenderConfig{ChunkSize: 4}).Send(context.Background(), sc, plan, unopenable{})
		done <- err
	}()
	fr, fw := NewFrameReader(rc), NewFrameWriter(rc)
	expect := func(want Type) []byte {
		t.Helper()
		typ, p, err := fr.ReadFrame()
		if err != nil || typ != want {
			t.Fatalf("receiver read %v, %v; want %v", typ, err, want)
		}
		return p
	}
	write := func(typ Type, p []byte) {
		t.Helper()
		if err := fw.WriteFrame(typ, p); err != nil {
			t.Fatal(err)
		}
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	expect(TypeHello)
	write(TypeWelcome, Welcome{Version: MaxVersion}.Append(nil))
	expect(TypeOffer)
	// Ask for the data and refuse the file in one go, as a receiver that
	// cannot hold it does; the sender meanwhile fails to open it.
	if err := fw.WriteFrame(TypeReply, Reply{ID: 1, Action: Send}.Append(nil)); err != nil {
		t.Fatal(err)
	}
	write(TypeDone, Status{ID: 1, Code: CodeRefused, Message: "refused"}.Append(nil))
	expect(TypeAbandon)
	c, err := DecodeCommit(expect(TypeCommit))
	if err != nil || c.Complete {
		t.Fatalf("commit %+v, %v; want an incomplete one", c, err)
	}
	write(TypeCommitted, Committed{Seq: 1}.Append(nil))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sender: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sender did not finish")
	}
	if len(res.Failed) != 1 {
		t.Errorf("failed %v; want a.bin", res.Failed)
	}
}
