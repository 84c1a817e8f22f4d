package transfer

import (
	"fmt"
	"io"
	"slices"

	"github.com/zeebo/blake3"

	"github.com/ferrysync/ferry/scan"
)

// Delta transfer: when the receiver holds an earlier version of a file, it
// answers the offer with Delta and a basis frame: that version cut into
// content-defined blocks, grouped, with an 8-byte digest per group. The
// sender cuts its file the same way and looks for each group among runs of
// its own blocks; for the groups it did not find it asks (a need frame) for
// their blocks' lengths and 5-byte hashes (a block list frame), so only the
// neighbourhood of a change costs a per-block list. It then sends copy
// frames for what the receiver holds and ordinary chunks for the rest; the
// receiver checks each copied block against its full hash and the whole
// result against the offered hash, as for any file. A small edit in a
// 64 MiB file costs a kilobyte of group digests, one group's block list and
// the two or three blocks around the edit.

// Bounds of a delta.
const (
	MaxBasisBlocks = 1 << 17
	MaxBasisGroups = 1 << 13
	MaxGroupSize   = 256
)

// blockHashLen is how much of a block's BLAKE3 a block list carries: a
// false match needs a 40-bit collision between blocks of the same length,
// and even then the receiver's full-hash check refuses the copy.
const blockHashLen = 5

// BlockHash is the short hash of a delta block.
type BlockHash [blockHashLen]byte

// Blocks is a version of a file cut into content-defined blocks, grouped.
type Blocks struct {
	Avg   int // average block size used to cut
	Group int // blocks per group
	Lens  []int
	Sums  []scan.Sum // full BLAKE3 of each block
}

// groups returns the number of groups.
func (b *Blocks) groups() int { return (len(b.Lens) + b.Group - 1) / b.Group }

// groupRange returns the blocks of group j.
func (b *Blocks) groupRange(j int) (lo, hi int) {
	return j * b.Group, min((j+1)*b.Group, len(b.Lens))
}

// groupDigest digests a run of block sums.
func groupDigest(sums []scan.Sum) [8]byte {
	h := blake3.New()
	for i := range sums {
		h.Write(sums[i][:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return [8]byte(out[:8])
}

// cutFile cuts r into blocks of average avg, with their full sums.
func cutFile(r io.Reader, avg int) (lens []int, sums []scan.Sum, err error) {
	err = cutBlocks(r, avg, func(block []byte) error {
		if len(lens) == MaxBasisBlocks {
			return errTooManyBlocks
		}
		lens = append(lens, len(block))
		sums = append(sums, scan.Sum(blake3.Sum256(block)))
		return nil
	})
	return lens, sums, err
}

var errTooManyBlocks = fmt.Errorf("more than %d delta blocks", MaxBasisBlocks)

// MakeBlocks cuts the receiver's version of a file for a delta reply to
// an offer of size bytes.
func MakeBlocks(r io.Reader, size int64) (*Blocks, error) {
	b := &Blocks{Avg: DeltaBlockSize(size)}
	var err error
	if b.Lens, b.Sums, err = cutFile(r, b.Avg); err != nil {
		return nil, err
	}
	b.Group = deltaGroup(len(b.Lens))
	if b.groups() > MaxBasisGroups {
		return nil, fmt.Errorf("%d delta groups: %w", b.groups(), errTooManyBlocks)
	}
	return b, nil
}

// deltaGroup returns the group size for n blocks: about √n, so the group
// digests and one group's block list cost about the same.
func deltaGroup(n int) int {
	g := 16
	for g*g < n && g < MaxGroupSize {
		g *= 2
	}
	return g
}

// Basis is the receiver's group digests of its version (frame).
type Basis struct {
	ID      uint64
	Avg     int
	Group   int
	NBlocks int
	Digests [][8]byte
}

// basisOf returns the basis frame of b for offer id.
func basisOf(id uint64, b *Blocks) Basis {
	m := Basis{ID: id, Avg: b.Avg, Group: b.Group, NBlocks: len(b.Lens), Digests: make([][8]byte, b.groups())}
	for j := range m.Digests {
		lo, hi := b.groupRange(j)
		m.Digests[j] = groupDigest(b.Sums[lo:hi])
	}
	return m
}

// Append appends the payload of m to b.
func (m Basis) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.uvarint(uint64(m.Avg))
	e.uvarint(uint64(m.Group))
	e.uvarint(uint64(m.NBlocks))
	for _, d := range m.Digests {
		e.bytes(d[:])
	}
	return e.b
}

// DecodeBasis decodes a basis.
func DecodeBasis(p []byte) (Basis, error) {
	d := dec{b: p}
	m := Basis{ID: d.uvarint("id"), Avg: int(d.bounded("avg", MaxDeltaBlock))}
	if d.err == nil && (m.Avg < MinDeltaBlock || m.Avg&(m.Avg-1) != 0) {
		d.fail("avg", fmt.Sprintf("%d is not a power of two in range", m.Avg))
	}
	m.Group = int(d.bounded("group", MaxGroupSize))
	m.NBlocks = int(d.bounded("blocks", MaxBasisBlocks))
	if d.err == nil && (m.Group == 0 || m.NBlocks == 0) {
		d.fail("group", "empty")
	}
	if d.err == nil {
		n := (m.NBlocks + m.Group - 1) / m.Group
		if n > MaxBasisGroups {
			d.fail("groups", fmt.Sprintf("%d above bound %d", n, MaxBasisGroups))
		} else {
			m.Digests = make([][8]byte, n)
		}
	}
	for i := range m.Digests {
		copy(m.Digests[i][:], d.fixed("digest", 8))
	}
	return m, d.end(TypeBasis)
}

// Need asks for the block lists of groups the sender did not find.
type Need struct {
	ID     uint64
	Groups []int // ascending
}

// Append appends the payload of m to b.
func (m Need) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.uvarint(uint64(len(m.Groups)))
	prev := -1
	for _, g := range m.Groups {
		e.uvarint(uint64(g - prev - 1)) // gaps: ascending, compact
		prev = g
	}
	return e.b
}

// DecodeNeed decodes a need.
func DecodeNeed(p []byte) (Need, error) {
	d := dec{b: p}
	m := Need{ID: d.uvarint("id")}
	n := int(d.bounded("groups", MaxBasisGroups))
	prev := -1
	for i := 0; i < n && d.err == nil; i++ {
		g := prev + 1 + int(d.bounded("group gap", MaxBasisGroups))
		if g >= MaxBasisGroups {
			d.fail("group", "out of range")
		}
		m.Groups = append(m.Groups, g)
		prev = g
	}
	return m, d.end(TypeNeed)
}

// BlockList carries the blocks of the groups a need asked for: for each
// group in order, each block's length and short hash.
type BlockList struct {
	ID     uint64
	Groups []int
	Lens   [][]int
	Sums   [][]BlockHash
}

// Append appends the payload of m to b.
func (m BlockList) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.uvarint(uint64(len(m.Groups)))
	for i, g := range m.Groups {
		e.uvarint(uint64(g))
		e.uvarint(uint64(len(m.Lens[i])))
		for k, n := range m.Lens[i] {
			e.uvarint(uint64(n))
			e.bytes(m.Sums[i][k][:])
		}
	}
	return e.b
}

// DecodeBlockList decodes a block list.
func DecodeBlockList(p []byte) (BlockList, error) {
	d := dec{b: p}
	m := BlockList{ID: d.uvarint("id")}
	n := int(d.bounded("groups", MaxBasisGroups))
	for i := 0; i < n && d.err == nil; i++ {
		m.Groups = append(m.Groups, int(d.bounded("group", MaxBasisGroups-1)))
		k := int(d.bounded("blocks", MaxGroupSize))
		lens, sums := make([]int, 0, k), make([]BlockHash, 0, k)
		for ; k > 0 && d.err == nil; k-- {
			lens = append(lens, int(d.bounded("block length", 4*MaxDeltaBlock)))
			var h BlockHash
			copy(h[:], d.fixed("block hash", blockHashLen))
			sums = append(sums, h)
		}
		m.Lens, m.Sums = append(m.Lens, lens), append(m.Sums, sums)
	}
	return m, d.end(TypeBlockList)
}

// blockList answers a need from the receiver's blocks.
func blockList(id uint64, b *Blocks, groups []int) (BlockList, error) {
	m := BlockList{ID: id, Groups: groups}
	for _, g := range groups {
		if g >= b.groups() {
			return m, fmt.Errorf("need for group %d of %d: %w", g, b.groups(), ErrProtocol)
		}
		lo, hi := b.groupRange(g)
		lens, sums := b.Lens[lo:hi], make([]BlockHash, 0, hi-lo)
		for _, s := range b.Sums[lo:hi] {
			sums = append(sums, BlockHash(s[:blockHashLen]))
		}
		m.Lens, m.Sums = append(m.Lens, lens), append(m.Sums, sums)
	}
	return m, nil
}

// Copy tells the receiver to copy Count blocks of its version, from Index,
// to Offset of the new file.
type Copy struct {
	ID     uint64
	Offset int64
	Index  int
	Count  int
}

// Append appends the payload of m to b.
func (m Copy) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.uvarint(uint64(m.Offset))
	e.uvarint(uint64(m.Index))
	e.uvarint(uint64(m.Count))
	return e.b
}

// DecodeCopy decodes a copy.
func DecodeCopy(p []byte) (Copy, error) {
	d := dec{b: p}
	m := Copy{ID: d.uvarint("id"), Offset: d.size("offset"), Index: int(d.bounded("index", MaxBasisBlocks)), Count: int(d.bounded("count", MaxBasisBlocks))}
	if d.err == nil && m.Count == 0 {
		d.fail("count", "zero")
	}
	return m, d.end(TypeCopy)
}

// deltaPlan is the sender's side of a delta: its own blocks and, for each,
// the receiver block it matches (-1: send it).
type deltaPlan struct {
	lens   []int
	assign []int
}

// matchGroups cuts the sender's file and finds the receiver's groups among
// runs of its blocks. It returns the plan and the groups not found.
func matchGroups(r io.Reader, b *Basis) (*deltaPlan, []int, error) {
	lens, sums, err := cutFile(r, b.Avg)
	if err != nil {
		return nil, nil, err
	}
	p := &deltaPlan{lens: lens, assign: make([]int, len(lens))}
	for i := range p.assign {
		p.assign[i] = -1
	}
	index := make(map[[8]byte]int, len(b.Digests))
	for j := len(b.Digests) - 1; j >= 0; j-- {
		index[b.Digests[j]] = j
	}
	found := make([]bool, len(b.Digests))
	lastLen := b.NBlocks - (len(b.Digests)-1)*b.Group // blocks in the last group
	for i := 0; i < len(sums); {
		j, n := -1, 0
		for _, try := range []int{b.Group, lastLen} {
			if i+try > len(sums) {
				continue
			}
			g, ok := index[groupDigest(sums[i:i+try])]
			if !ok {
				continue
			}
			size := b.Group
			if g == len(b.Digests)-1 {
				size = lastLen
			}
			if size == try {
				j, n = g, try
				break
			}
		}
		if j < 0 {
			i++
			continue
		}
		for k := range n {
			p.assign[i+k] = j*b.Group + k
		}
		found[j] = true
		i += n
	}
	var missing []int
	if slices.Contains(p.assign, -1) {
		for j, ok := range found {
			if !ok {
				missing = append(missing, j)
			}
		}
	}
	return p, missing, nil
}

// matchBlocks assigns the sender's unmatched blocks to receiver blocks of
// the listed groups.
func (p *deltaPlan) matchBlocks(r io.Reader, avg, group int, l *BlockList) error {
	type key struct {
		n int
		h BlockHash
	}
	index := make(map[key]int)
	for i, g := range l.Groups {
		for k := len(l.Lens[i]) - 1; k >= 0; k-- {
			index[key{l.Lens[i][k], l.Sums[i][k]}] = g*group + k
		}
	}
	i := 0
	return cutBlocks(r, avg, func(block []byte) error {
		if i < len(p.assign) && p.assign[i] < 0 {
			h := blake3.Sum256(block)
			if j, ok := index[key{len(block), BlockHash(h[:blockHashLen])}]; ok {
				p.assign[i] = j
			}
		}
		i++
		return nil
	})
}

// ops turns the plan into copies of consecutive receiver blocks and
// literal ranges.
func (p *deltaPlan) ops() []deltaOp {
	var ops []deltaOp
	var off int64
	for i, n := range p.lens {
		j := p.assign[i]
		last := len(ops) - 1
		switch {
		case j >= 0 && last >= 0 && ops[last].copy && ops[last].index+ops[last].count == j:
			ops[last].count++
			ops[last].n += int64(n)
		case j >= 0:
			ops = append(ops, deltaOp{copy: true, off: off, n: int64(n), index: j, count: 1})
		case last >= 0 && !ops[last].copy:
			ops[last].n += int64(n)
		default:
			ops = append(ops, deltaOp{off: off, n: int64(n)})
		}
		off += int64(n)
	}
	return ops
}

// deltaOp is one step of sending a file against a basis: copy receiver
// blocks, or send [off, off+n) of the file as chunks.
type deltaOp struct {
	copy         bool
	off, n       int64
	index, count int
}
