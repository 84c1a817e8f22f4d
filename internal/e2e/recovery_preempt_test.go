package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
	"github.com/ferrysync/ferry/resume"
	"github.com/ferrysync/ferry/scan"
	"github.com/ferrysync/ferry/transfer"
)

// rcvWaitChunk waits until the namespace's journal holds a chunk record of
// p at offset at.
func rcvWaitChunk(t *testing.T, ns, p string, at int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(ns, transfer.StateDir, "journal"))
		for len(data) > 0 {
			r, n, err := resume.Decode(data)
			if err != nil {
				break
			}
			if r.Kind == resume.KindChunk && r.Path == p && r.Offset == at {
				return
			}
			data = data[n:]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub did not journal %s up to %d", p, at)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRecoveryHubPreempt: a device whose link dropped reconnects while its
// old session still holds the namespace; the new session preempts the old
// one, which ends, and resumes what the old one journaled.
func TestRecoveryHubPreempt(t *testing.T) {
	const size = 8 * rcvChunk
	const name = "big.bin"
	src := t.TempDir()
	build(t, src, []node{{path: name, size: size}})
	data := randomBytes(name, 0, size)
	dev := rcvIdentity(t)
	h := startHub(t, map[identity.ID]string{dev.ID: "edge"})
	ns := filepath.Join(h.root, "edge")

	// The old session: offers the file, sends two chunks, goes quiet.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, stream, err := transfer.Dial(ctx, h.addr, dev.ClientConfig(h.id.ID), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer transfer.Finish(conn, nil)
	fw, fr := transfer.NewFrameWriter(stream), transfer.NewFrameReader(stream)
	write := func(typ transfer.Type, parts ...[]byte) {
		t.Helper()
		if err := fw.WriteFrame(typ, parts...); err != nil {
			t.Fatal(err)
		}
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	read := func(want transfer.Type) []byte {
		t.Helper()
		typ, p, err := fr.ReadFrame()
		if err != nil || typ != want {
			t.Fatalf("old session: got %v (%v), want %v", typ, err, want)
		}
		return p
	}
	write(transfer.TypeHello, transfer.Hello{MinVersion: transfer.MinVersion, MaxVersion: transfer.MaxVersion}.Append(nil))
	read(transfer.TypeWelcome)
	fi, err := os.Stat(filepath.Join(src, name))
	if err != nil {
		t.Fatal(err)
	}
	o := transfer.Offer{ID: 1, Kind: scan.File, Path: name, Size: size, Mode: 0o644, ModTime: fi.ModTime().UnixNano(), Hash: blake3Sum(data)}
	write(transfer.TypeOffer, o.Append(nil))
	if r, err := transfer.DecodeReply(read(transfer.TypeReply)); err != nil || r.Action != transfer.Send || r.Offset != 0 {
		t.Fatalf("old session: reply %+v, %v", r, err)
	}
	for off := int64(0); off < 2*rcvChunk; off += rcvChunk {
		c := transfer.Chunk{ID: 1, Offset: off, Hash: blake3Sum(data[off : off+rcvChunk])}
		write(transfer.TypeChunk, c.AppendHeader(nil), data[off:off+rcvChunk])
	}
	rcvWaitChunk(t, ns, name, 2*rcvChunk)
	oldEnded := make(chan error, 1)
	go func() {
		_, _, err := fr.ReadFrame()
		oldEnded <- err
	}()

	// The device reconnects and syncs.
	opt := agent.Options{Source: src, ChunkSize: rcvChunk}
	plan, err := agent.Scan(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := agent.Send(ctx, time.Now(), plan, opt, agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0))
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	if !rep.Committed.Complete {
		t.Errorf("new session committed %+v", rep.Committed)
	}
	if want := int64(size - 2*rcvChunk); rep.PayloadBytes != want {
		t.Errorf("new session sent %d bytes, want %d: the old session's journaled chunks are resumed", rep.PayloadBytes, want)
	}
	sameTree(t, src, ns)
	select {
	case err := <-oldEnded:
		if err == nil {
			t.Errorf("old session: the hub sent another frame instead of ending it")
		}
	case <-time.After(10 * time.Second):
		t.Errorf("old session still open after the new one committed")
	}
}

func rcvIdentity(t *testing.T) *identity.Identity {
	t.Helper()
	id, err := identity.New()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
