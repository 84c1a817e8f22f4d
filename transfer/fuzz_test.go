package transfer

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/ferrysync/ferry/scan"
)

// FuzzFrames feeds arbitrary bytes to the frame reader and every decoder:
// they must return frames or errors, never panic, and a decoded offer must
// carry a path the receiver may use.
func FuzzFrames(f *testing.F) {
	var seed bytes.Buffer
	fw := NewFrameWriter(&seed)
	fw.WriteFrame(TypeHello, Hello{1, 1}.Append(nil))
	fw.WriteFrame(TypeOffer, Offer{ID: 1, Kind: scan.File, Path: "a/b", Size: 3}.Append(nil))
	fw.WriteFrame(TypeOffer, Offer{ID: 2, Kind: scan.Symlink, Path: "a/l", Target: "../b"}.Append(nil))
	fw.WriteFrame(TypeReply, Reply{ID: 1, Action: Send}.Append(nil))
	fw.WriteFrame(TypeSummary, Summary{Entries: 3, Known: []bool{true, false}, Root: [16]byte{1}}.Append(nil))
	fw.WriteFrame(TypeSummaryReply, SummaryReply{Match: true}.Append(nil))
	fw.WriteFrame(TypeSummaryReply, SummaryReply{Have: []bool{false, true}, Digest: [][8]byte{{}, {2}}}.Append(nil))
	fw.WriteFrame(TypeKeep, Keep{Buckets: []bool{false, true}}.Append(nil))
	fw.WriteFrame(TypeBasis, Basis{ID: 1, Avg: 8192, Group: 16, NBlocks: 3, Digests: [][8]byte{{1}}}.Append(nil))
	fw.WriteFrame(TypeNeed, Need{ID: 1, Groups: []int{0, 2}}.Append(nil))
	fw.WriteFrame(TypeBlockList, BlockList{ID: 1, Groups: []int{0}, Lens: [][]int{{100, 9000}}, Sums: [][]BlockHash{{{1}, {2}}}}.Append(nil))
	fw.WriteFrame(TypeCopy, Copy{ID: 1, Offset: 100, Index: 1, Count: 1}.Append(nil))
	fw.WriteFrame(TypeChunk, Chunk{ID: 1}.AppendHeader(nil), []byte("abc"))
	fw.WriteFrame(TypeDone, Status{1, 0, ""}.Append(nil))
	fw.WriteFrame(TypeCommit, Commit{2, true}.Append(nil))
	fw.WriteFrame(TypeCommitted, Committed{Seq: 1, Files: 2, Bytes: 3, Complete: true}.Append(nil))
	fw.WriteFrame(TypeCommitted, Committed{Seq: 1, Complete: true, Probe: ProbeKey{ID: [8]byte{1}, Key: [32]byte{2}}}.Append(nil))
	fw.WriteFrame(TypeError, ErrorMsg{1, "x"}.Append(nil))
	fw.Flush()
	f.Add(seed.Bytes())
	f.Add([]byte{byte(TypeOffer), 0, 0, 0, 3, 1, 1, 0})
	f.Add([]byte{byte(TypeChunk), 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFrameReader(bytes.NewReader(data))
		for {
			typ, p, err := fr.ReadFrame()
			if err != nil {
				if !errors.Is(err, io.EOF) && CodeOf(err) != CodeProtocol {
					t.Fatalf("framing error %v maps to code %d", err, CodeOf(err))
				}
				return
			}
			if limit, _ := maxPayload(typ); len(p) > limit {
				t.Fatalf("%v payload of %d bytes above its bound", typ, len(p))
			}
			switch typ {
			case TypeHello:
				DecodeHello(p)
			case TypeWelcome:
				DecodeWelcome(p)
			case TypeOffer:
				if o, err := DecodeOffer(p); err == nil {
					if ValidPath(o.Path) != nil {
						t.Fatalf("offer with invalid path %q accepted", o.Path)
					}
				}
			case TypeReply:
				DecodeReply(p)
			case TypeChunk:
				if c, err := DecodeChunk(p); err == nil && (c.Offset < 0 || len(c.Data) == 0) {
					t.Fatalf("bad chunk accepted: offset %d, %d bytes", c.Offset, len(c.Data))
				}
			case TypeDone, TypeAbandon:
				DecodeStatus(typ, p)
			case TypeCommit:
				DecodeCommit(p)
			case TypeCommitted:
				DecodeCommitted(p)
			case TypeError:
				DecodeError(p)
			case TypeSummary:
				if s, err := DecodeSummary(p); err == nil && len(s.Known) == 0 {
					t.Fatalf("summary of no buckets accepted")
				}
			case TypeSummaryReply:
				if r, err := DecodeSummaryReply(p); err == nil && !r.Match && (len(r.Have) == 0 || len(r.Have) != len(r.Digest)) {
					t.Fatalf("summary reply with %d buckets, %d digests accepted", len(r.Have), len(r.Digest))
				}
			case TypeKeep:
				if k, err := DecodeKeep(p); err == nil && len(k.Buckets) == 0 {
					t.Fatalf("keep of no buckets accepted")
				}
			case TypeBasis:
				if b, err := DecodeBasis(p); err == nil && len(b.Digests) != (b.NBlocks+b.Group-1)/b.Group {
					t.Fatalf("basis of %d blocks in groups of %d with %d digests accepted", b.NBlocks, b.Group, len(b.Digests))
				}
			case TypeNeed:
				if n, err := DecodeNeed(p); err == nil && !slices.IsSorted(n.Groups) {
					t.Fatalf("need with groups out of order accepted: %v", n.Groups)
				}
			case TypeBlockList:
				if l, err := DecodeBlockList(p); err == nil && (len(l.Lens) != len(l.Groups) || len(l.Sums) != len(l.Groups)) {
					t.Fatalf("inconsistent block list accepted")
				}
			case TypeCopy:
				if c, err := DecodeCopy(p); err == nil && (c.Count == 0 || c.Offset < 0) {
					t.Fatalf("bad copy accepted: %+v", c)
				}
			}
		}
	})
}
