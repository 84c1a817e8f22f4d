package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/internal/identity"
)

// Loopback throughput of a whole sync (scan, hashing, the wire, the
// receiver's checks, fsyncs and the commit) with the CLI's defaults. Every
// iteration syncs into a new, empty destination; making it (and, over QUIC,
// starting and stopping its hub) is not timed.
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/e2e/

const (
	largeFileSize = 256 << 20
	smallFiles    = 6000
	smallDirs     = 60
)

func BenchmarkQUICOneLargeFile(b *testing.B) {
	src, files, size := largeTree(b)
	benchSync(b, src, files, size, quicDest(b))
}

func BenchmarkQUICManySmallFiles(b *testing.B) {
	src, files, size := smallTree(b)
	benchSync(b, src, files, size, quicDest(b))
}

func BenchmarkLocalOneLargeFile(b *testing.B) {
	src, files, size := largeTree(b)
	benchSync(b, src, files, size, localDest(b))
}

func BenchmarkLocalManySmallFiles(b *testing.B) {
	src, files, size := smallTree(b)
	benchSync(b, src, files, size, localDest(b))
}

// largeTree writes one file of largeFileSize random bytes.
func largeTree(b *testing.B) (dir string, files int, size int64) {
	b.Helper()
	dir = b.TempDir()
	f, err := os.Create(filepath.Join(dir, "large.bin"))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.NewChaCha8([32]byte{'f', 'e', 'r', 'r', 'y'})
	buf := make([]byte, 1<<20)
	for range largeFileSize / len(buf) {
		r.Read(buf)
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return dir, 1, largeFileSize
}

// smallTree writes smallFiles files of 2 to 32 KiB (seeded sizes) spread
// over smallDirs directories.
func smallTree(b *testing.B) (dir string, files int, size int64) {
	b.Helper()
	dir = b.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	nodes := make([]node, smallFiles)
	for i := range nodes {
		n := 2<<10 + r.IntN(30<<10+1)
		nodes[i] = node{path: fmt.Sprintf("d%02d/f%04d.bin", i%smallDirs, i), size: n}
		size += int64(n)
	}
	build(b, dir, nodes)
	return dir, len(nodes), size
}

// newDest makes an empty destination and returns how to connect to it and
// how to release it. Destinations are kept until the benchmark ends:
// deleting thousands of files just before the next iteration creates them
// again makes ext4's inode allocator scan the recently deleted inodes
// (recently_deleted in find_inode_bit), which the benchmark would then
// measure.
type newDest func() (connect agent.Connect, release func())

// quicDest starts a hub on 127.0.0.1 for each destination: a hub keeps its
// namespaces open, so an empty namespace needs a new hub.
func quicDest(b *testing.B) newDest {
	dev, err := identity.New()
	if err != nil {
		b.Fatal(err)
	}
	base := b.TempDir()
	n := 0
	return func() (agent.Connect, func()) {
		n++
		root := filepath.Join(base, fmt.Sprint(n))
		h, stop := serveHub(b, root, map[identity.ID]string{dev.ID: "edge"})
		return agent.QUIC(h.addr, dev.ClientConfig(h.id.ID), 0), func() {
			stop()
		}
	}
}

// localDest is a new directory served through the in-memory pipe.
func localDest(b *testing.B) newDest {
	base := b.TempDir()
	n := 0
	return func() (agent.Connect, func()) {
		n++
		dst := filepath.Join(base, fmt.Sprint(n))
		return localConnect(dst, nil), func() {}
	}
}

// benchSync times full syncs of src, which holds files files of size bytes
// in all, and reports MB/s, files/s and wire bytes per payload byte.
func benchSync(b *testing.B, src string, files int, size int64, dest newDest) {
	b.Helper()
	b.SetBytes(size)
	var wire, payload int64
	iters := 0
	for b.Loop() {
		b.StopTimer()
		connect, release := dest()
		b.StartTimer()

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		opt := agent.Options{Source: src} // the CLI's defaults: 1 MiB chunks
		plan, err := agent.Scan(ctx, opt)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := agent.Send(ctx, time.Now(), plan, opt, connect)
		cancel()

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Committed.Complete || rep.FilesSent != files || rep.PayloadBytes != size {
			b.Fatalf("sent %d files, %d bytes, committed %+v; want %d files, %d bytes, complete",
				rep.FilesSent, rep.PayloadBytes, rep.Committed, files, size)
		}
		wire += rep.WireBytes
		payload += rep.PayloadBytes
		iters++
		release()
		b.StartTimer()
	}
	b.ReportMetric(float64(wire)/float64(payload), "wire-B/payload-B")
	b.ReportMetric(float64(files*iters)/b.Elapsed().Seconds(), "files/s")
}
