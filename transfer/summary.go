package transfer

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/scan"
)

// A summary lets an unchanged tree cost a few bytes per bucket instead of
// an offer per entry. The sender spreads the plan's entries over buckets by
// a hash of their path and sends each bucket's digest where it knows every
// hash without reading a file (from its cache); the receiver compares them
// with its last manifest and answers which buckets it needs offered. The
// exchange rides on the hello/welcome round trip, so it costs no extra
// round trip; buckets whose files changed are offered entry by entry.

// MaxBuckets bounds a summary.
const MaxBuckets = 1 << 16

// entriesPerBucket is the target bucket size: one changed file costs the
// offers of its bucket.
const entriesPerBucket = 16

// Meta is what a summary digests of an entry: what a manifest records.
type Meta struct {
	Path   string
	Kind   scan.Kind
	Size   int64
	Mode   uint32
	MTime  int64
	Hash   scan.Sum // zero for directories
	Target string
}

// BucketCount returns the number of buckets for a plan of n entries.
func BucketCount(n int) int {
	return min(max((n+entriesPerBucket-1)/entriesPerBucket, 1), MaxBuckets)
}

// BucketOf returns the bucket of path among n.
func BucketOf(path string, n int) int {
	h := blake3.Sum256([]byte(path))
	return int(binary.LittleEndian.Uint64(h[:8]) % uint64(n))
}

// BucketDigest digests the entries of one bucket, in any order.
func BucketDigest(entries []Meta) [8]byte {
	slices.SortFunc(entries, func(a, b Meta) int { return strings.Compare(a.Path, b.Path) })
	h := blake3.New()
	var b []byte
	for _, m := range entries {
		e := enc{b[:0]}
		e.str(m.Path)
		e.u8(uint8(m.Kind))
		e.uvarint(uint64(m.Size))
		e.uvarint(uint64(m.Mode))
		e.varint(m.MTime)
		e.bytes(m.Hash[:])
		e.str(m.Target)
		b = e.b
		h.Write(b)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return [8]byte(sum[:8])
}

// Summary is the sender's digest of its plan.
type Summary struct {
	Entries uint64
	// Known[i] is set when Digest[i] covers bucket i; other buckets are
	// offered entry by entry.
	Known  []bool
	Digest [][8]byte
}

// Append appends the payload of m to b.
func (m Summary) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.Entries)
	e.uvarint(uint64(len(m.Known)))
	e.bytes(packBits(m.Known))
	for i, k := range m.Known {
		if k {
			e.bytes(m.Digest[i][:])
		}
	}
	return e.b
}

// DecodeSummary decodes a summary.
func DecodeSummary(p []byte) (Summary, error) {
	d := dec{b: p}
	m := Summary{Entries: d.uvarint("entries")}
	n := int(d.bounded("buckets", MaxBuckets))
	if d.err == nil && n == 0 {
		d.fail("buckets", "none")
	}
	m.Known = unpackBits(d.fixed("known", (n+7)/8), n)
	m.Digest = make([][8]byte, len(m.Known))
	for i, k := range m.Known {
		if k {
			copy(m.Digest[i][:], d.fixed("digest", 8))
		}
	}
	return m, d.end(TypeSummary)
}

// SummaryReply says which buckets the receiver needs offered.
type SummaryReply struct {
	Send []bool
}

// Append appends the payload of m to b.
func (m SummaryReply) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(uint64(len(m.Send)))
	e.bytes(packBits(m.Send))
	return e.b
}

// DecodeSummaryReply decodes a summary reply.
func DecodeSummaryReply(p []byte) (SummaryReply, error) {
	d := dec{b: p}
	n := int(d.bounded("buckets", MaxBuckets))
	m := SummaryReply{Send: unpackBits(d.fixed("send", (n+7)/8), n)}
	return m, d.end(TypeSummaryReply)
}

func packBits(v []bool) []byte {
	b := make([]byte, (len(v)+7)/8)
	for i, x := range v {
		if x {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return b
}

func unpackBits(b []byte, n int) []bool {
	if len(b) < (n+7)/8 {
		return nil
	}
	v := make([]bool, n)
	for i := range v {
		v[i] = b[i/8]&(1<<(i%8)) != 0
	}
	return v
}

// Summarizer is an optional Sink interface: Compare answers a summary with
// the buckets the receiver needs offered. A Sink without it gets every
// entry offered.
type Summarizer interface {
	Compare(s *Summary) ([]bool, error)
}

// HashCache is an optional Source interface: the hash of an entry if it is
// known without reading the file.
type HashCache interface {
	Cached(e scan.Entry) (scan.Sum, bool)
}

// metaOf returns the summary view of an offer.
func metaOf(o *Offer) Meta {
	return Meta{Path: o.Path, Kind: o.Kind, Size: o.Size, Mode: o.Mode, MTime: o.ModTime, Hash: o.Hash, Target: o.Target}
}
