package transfer

import (
	"fmt"
	"io"

	"github.com/zeebo/blake3"
)

// Delta transfer: when the receiver holds an earlier version of a file, it
// answers the offer with Delta and a basis frame listing that version's
// content-defined blocks (length and a 5-byte hash each). The sender cuts
// its file the same way and sends copy frames for blocks the receiver has
// and chunk frames for the rest; the receiver builds the new file in
// staging and checks the whole of it against the offered hash, as always.

// MaxBasisBlocks bounds a basis; a receiver with more blocks answers Send.
const MaxBasisBlocks = 1 << 17

// blockHashLen is how much of a block's BLAKE3 a basis carries: a false
// match needs a 40-bit collision between blocks of the same length, and
// even then the whole-file check refuses the result.
const blockHashLen = 5

// BlockHash is the short hash of a delta block.
type BlockHash [blockHashLen]byte

func blockHash(b []byte) BlockHash {
	h := blake3.Sum256(b)
	return BlockHash(h[:blockHashLen])
}

// Basis lists the blocks of the receiver's version of a file.
type Basis struct {
	ID   uint64
	Avg  int // average block size used to cut
	Lens []int
	Sums []BlockHash
}

// Append appends the payload of m to b.
func (m Basis) Append(b []byte) []byte {
	e := enc{b}
	e.uvarint(m.ID)
	e.uvarint(uint64(m.Avg))
	e.uvarint(uint64(len(m.Lens)))
	for i, n := range m.Lens {
		e.uvarint(uint64(n))
		e.bytes(m.Sums[i][:])
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
	n := int(d.bounded("blocks", MaxBasisBlocks))
	if d.err == nil && n > len(p) {
		d.fail("blocks", "more than the frame can hold")
	}
	if d.err == nil {
		m.Lens = make([]int, n)
		m.Sums = make([]BlockHash, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		m.Lens[i] = int(d.bounded("block length", 4*MaxDeltaBlock))
		copy(m.Sums[i][:], d.fixed("block hash", blockHashLen))
	}
	return m, d.end(TypeBasis)
}

// MakeBasis cuts r into blocks for a delta reply to offer id.
func MakeBasis(r io.Reader, id uint64, size int64) (*Basis, error) {
	b := &Basis{ID: id, Avg: DeltaBlockSize(size)}
	err := cutBlocks(r, b.Avg, func(block []byte) error {
		if len(b.Lens) == MaxBasisBlocks {
			return errTooManyBlocks
		}
		b.Lens = append(b.Lens, len(block))
		b.Sums = append(b.Sums, blockHash(block))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

var errTooManyBlocks = fmt.Errorf("more than %d delta blocks", MaxBasisBlocks)

// Copy tells the receiver to copy Count blocks of its basis, from Index,
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

// deltaOp is one step of sending a file against a basis: copy basis
// blocks, or send [off, off+n) of the file as chunks.
type deltaOp struct {
	copy         bool
	off, n       int64
	index, count int
}

// planDelta cuts the sender's file and matches its blocks against the
// basis, merging runs: consecutive basis blocks into one copy, unmatched
// blocks into one literal range.
func planDelta(r io.Reader, b *Basis) ([]deltaOp, error) {
	type key struct {
		n int
		h BlockHash
	}
	index := make(map[key]int, len(b.Lens))
	for i := len(b.Lens) - 1; i >= 0; i-- {
		index[key{b.Lens[i], b.Sums[i]}] = i
	}
	var ops []deltaOp
	var off int64
	err := cutBlocks(r, b.Avg, func(block []byte) error {
		n := int64(len(block))
		i, ok := index[key{len(block), blockHash(block)}]
		last := len(ops) - 1
		switch {
		case ok && last >= 0 && ops[last].copy && ops[last].index+ops[last].count == i:
			ops[last].count++
			ops[last].n += n
		case ok:
			ops = append(ops, deltaOp{copy: true, off: off, n: n, index: i, count: 1})
		case last >= 0 && !ops[last].copy:
			ops[last].n += n
		default:
			ops = append(ops, deltaOp{off: off, n: n})
		}
		off += n
		return nil
	})
	return ops, err
}
