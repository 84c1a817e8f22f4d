package transfer

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/scan"
)

// A summary lets an unchanged tree cost a few dozen bytes instead of an
// offer per entry. The sender spreads the plan's entries over buckets by a
// hash of their path, digests each bucket where it knows every hash without
// reading a file (from its cache), and sends one root digest over those.
// The receiver computes the same over its last manifest: if the roots
// match, it holds those buckets as they are; if not, it answers with its
// own bucket digests, the sender sees which buckets differ and says which
// to keep, and offers the rest entry by entry. Either way the exchange
// rides on the hello/welcome round trip.

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

// Summary is the sender's digest of its plan. Digest is not sent: Root
// stands for it.
type Summary struct {
	Entries uint64
	// Known[i] is set when Digest[i] covers bucket i; other buckets are
	// offered entry by entry.
	Known  []bool
	Digest [][8]byte
	Root   [16]byte
}

// SummaryRoot digests the digests of the known buckets, in bucket order.
func SummaryRoot(known []bool, digest [][8]byte) [16]byte {
	h := blake3.New()
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(known)))])
	h.Write(packBits(known))
	for i, k := range known {
		if k {
			h.Write(digest[i][:])
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return [16]byte(sum[:16])
}

// Append appends the payload of m to b.
func (m Summary) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.Entries)
	e.uvarint(uint64(len(m.Known)))
	e.bytes(packBits(m.Known))
	e.bytes(m.Root[:])
	return e.b
}

// DecodeSummary decodes a summary.
func DecodeSummary(p []byte) (Summary, error) {
	d := dec{b: p}
	m := Summary{Entries: d.uvarint("entries")}
	m.Known = d.bitmap("known")
	copy(m.Root[:], d.fixed("root", len(m.Root)))
	return m, d.end(TypeSummary)
}

// SummaryReply answers a summary.
type SummaryReply struct {
	// Match says the receiver holds every known bucket as the summary
	// digests it.
	Match bool
	// Without a match, Have marks the buckets the receiver holds intact
	// and Digest holds its digest of each of them.
	Have   []bool
	Digest [][8]byte
}

// Append appends the payload of m to b.
func (m SummaryReply) Append(b []byte) []byte {
	e := enc{b}
	e.u8(boolByte(m.Match))
	if m.Match {
		return e.b
	}
	e.uvarint(uint64(len(m.Have)))
	e.bytes(packBits(m.Have))
	for i, h := range m.Have {
		if h {
			e.bytes(m.Digest[i][:])
		}
	}
	return e.b
}

// DecodeSummaryReply decodes a summary reply.
func DecodeSummaryReply(p []byte) (SummaryReply, error) {
	d := dec{b: p}
	m := SummaryReply{Match: d.flag("match")}
	if d.err == nil && !m.Match {
		m.Have = d.bitmap("have")
		m.Digest = make([][8]byte, len(m.Have))
		for i, h := range m.Have {
			if h && d.err == nil {
				copy(m.Digest[i][:], d.fixed("digest", 8))
			}
		}
	}
	return m, d.end(TypeSummaryReply)
}

// Keep names the buckets whose entries the receiver carries into the next
// manifest as they are, after a summary reply without a match.
type Keep struct {
	Buckets []bool
}

// Append appends the payload of m to b.
func (m Keep) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(uint64(len(m.Buckets)))
	e.bytes(packBits(m.Buckets))
	return e.b
}

// DecodeKeep decodes a keep payload.
func DecodeKeep(p []byte) (Keep, error) {
	d := dec{b: p}
	m := Keep{Buckets: d.bitmap("buckets")}
	return m, d.end(TypeKeep)
}

// bitmap reads a bucket count (1 to MaxBuckets) and a bitmap of that many
// bits, bucket i in bit i%8 of byte i/8.
func (d *dec) bitmap(field string) []bool {
	n := int(d.bounded(field+" count", MaxBuckets))
	if d.err == nil && n == 0 {
		d.fail(field+" count", "none")
	}
	return unpackBits(d.fixed(field, (n+7)/8), n)
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

// Summarizer is an optional Sink interface. Digests returns the digest of
// each bucket of the summary that the last manifest and the live tree hold
// intact, marking those in have. Keep carries the entries of the marked
// buckets of the last manifest into the next one. A Sink without it gets
// every entry offered.
type Summarizer interface {
	Digests(s *Summary) (digest [][8]byte, have []bool, err error)
	Keep(buckets []bool)
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
