package transfer

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferrysync/ferry/scan"
)

func TestMessageRoundTrip(t *testing.T) {
	sum := scan.Sum{1, 2, 3, 31: 9}
	tests := []struct {
		name   string
		t      Type
		encode func() []byte
		decode func([]byte) (any, error)
		want   any
	}{
		{"hello", TypeHello, func() []byte { return Hello{1, 3}.Append(nil) },
			func(p []byte) (any, error) { return DecodeHello(p) }, Hello{1, 3}},
		{"welcome", TypeWelcome, func() []byte { return Welcome{1, 42}.Append(nil) },
			func(p []byte) (any, error) { return DecodeWelcome(p) }, Welcome{1, 42}},
		{"offer file", TypeOffer, func() []byte {
			return Offer{ID: 7, Kind: scan.File, Class: 2, Path: "a/b.txt", Size: 1 << 40, Mode: 0o640, ModTime: -5, Hash: sum}.Append(nil)
		}, func(p []byte) (any, error) { return DecodeOffer(p) },
			Offer{ID: 7, Kind: scan.File, Class: 2, Path: "a/b.txt", Size: 1 << 40, Mode: 0o640, ModTime: -5, Hash: sum}},
		{"offer symlink", TypeOffer, func() []byte {
			return Offer{ID: 1, Kind: scan.Symlink, Path: "a/l", Target: "../b", Hash: sum}.Append(nil)
		}, func(p []byte) (any, error) { return DecodeOffer(p) },
			Offer{ID: 1, Kind: scan.Symlink, Path: "a/l", Target: "../b", Hash: sum}},
		{"reply", TypeReply, func() []byte { return Reply{ID: 9, Action: Send, Offset: 4096}.Append(nil) },
			func(p []byte) (any, error) { return DecodeReply(p) }, Reply{ID: 9, Action: Send, Offset: 4096}},
		{"summary", TypeSummary, func() []byte {
			return Summary{Entries: 40, Known: []bool{true, false, true}, Root: [16]byte{1, 2, 15: 3}}.Append(nil)
		}, func(p []byte) (any, error) { return DecodeSummary(p) },
			Summary{Entries: 40, Known: []bool{true, false, true}, Root: [16]byte{1, 2, 15: 3}}},
		{"summary reply match", TypeSummaryReply, func() []byte { return SummaryReply{Match: true}.Append(nil) },
			func(p []byte) (any, error) { return DecodeSummaryReply(p) }, SummaryReply{Match: true}},
		{"summary reply", TypeSummaryReply, func() []byte {
			return SummaryReply{Have: []bool{false, true, true}, Digest: [][8]byte{{}, {1}, {2, 3}}}.Append(nil)
		}, func(p []byte) (any, error) { return DecodeSummaryReply(p) },
			SummaryReply{Have: []bool{false, true, true}, Digest: [][8]byte{{}, {1}, {2, 3}}}},
		{"keep", TypeKeep, func() []byte { return Keep{Buckets: []bool{true, false, true}}.Append(nil) },
			func(p []byte) (any, error) { return DecodeKeep(p) }, Keep{Buckets: []bool{true, false, true}}},
		{"basis", TypeBasis, func() []byte {
			return Basis{ID: 4, Avg: 8192, Group: 16, NBlocks: 20, Digests: [][8]byte{{1, 2}, {3}}}.Append(nil)
		}, func(p []byte) (any, error) { return DecodeBasis(p) },
			Basis{ID: 4, Avg: 8192, Group: 16, NBlocks: 20, Digests: [][8]byte{{1, 2}, {3}}}},
		{"need", TypeNeed, func() []byte { return Need{ID: 4, Groups: []int{0, 3, 9}}.Append(nil) },
			func(p []byte) (any, error) { return DecodeNeed(p) }, Need{ID: 4, Groups: []int{0, 3, 9}}},
		{"block list", TypeBlockList, func() []byte {
			return BlockList{ID: 4, Groups: []int{3}, Lens: [][]int{{2048, 30000}}, Sums: [][]BlockHash{{{1, 2, 3, 4, 5}, {9}}}}.Append(nil)
		}, func(p []byte) (any, error) { return DecodeBlockList(p) },
			BlockList{ID: 4, Groups: []int{3}, Lens: [][]int{{2048, 30000}}, Sums: [][]BlockHash{{{1, 2, 3, 4, 5}, {9}}}}},
		{"copy", TypeCopy, func() []byte { return Copy{ID: 4, Offset: 1 << 33, Index: 7, Count: 3}.Append(nil) },
			func(p []byte) (any, error) { return DecodeCopy(p) }, Copy{ID: 4, Offset: 1 << 33, Index: 7, Count: 3}},
		{"chunk", TypeChunk, func() []byte {
			return append(Chunk{ID: 3, Offset: 1 << 20, Hash: sum}.AppendHeader(nil), "data"...)
		}, func(p []byte) (any, error) { return DecodeChunk(p) },
			Chunk{ID: 3, Offset: 1 << 20, Size: 4, Hash: sum, Data: []byte("data")}},
		{"compressed chunk", TypeChunk, func() []byte {
			return append(Chunk{ID: 3, Offset: 7, Compressed: true, Size: 100, Hash: sum}.AppendHeader(nil), "zstd"...)
		}, func(p []byte) (any, error) { return DecodeChunk(p) },
			Chunk{ID: 3, Offset: 7, Compressed: true, Size: 100, Hash: sum, Data: []byte("zstd")}},
		{"done", TypeDone, func() []byte { return Status{5, CodeHashMismatch, "bad"}.Append(nil) },
			func(p []byte) (any, error) { return DecodeStatus(TypeDone, p) }, Status{5, CodeHashMismatch, "bad"}},
		{"commit", TypeCommit, func() []byte { return Commit{12, true}.Append(nil) },
			func(p []byte) (any, error) { return DecodeCommit(p) }, Commit{12, true}},
		{"committed", TypeCommitted, func() []byte { return Committed{Seq: 3, Files: 12, Bytes: 999}.Append(nil) },
			func(p []byte) (any, error) { return DecodeCommitted(p) }, Committed{Seq: 3, Files: 12, Bytes: 999}},
		{"committed with a probe key", TypeCommitted, func() []byte { return Committed{Seq: 3, Complete: true, Probe: testProbeKey}.Append(nil) },
			func(p []byte) (any, error) { return DecodeCommitted(p) }, Committed{Seq: 3, Complete: true, Probe: testProbeKey}},
		{"error", TypeError, func() []byte { return ErrorMsg{CodeVersion, "no"}.Append(nil) },
			func(p []byte) (any, error) { return DecodeError(p) }, ErrorMsg{CodeVersion, "no"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			fw := NewFrameWriter(&buf)
			if err := fw.WriteFrame(tt.t, tt.encode()); err != nil {
				t.Fatal(err)
			}
			fw.Flush()
			typ, p, err := NewFrameReader(&buf).ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.t {
				t.Fatalf("type %v, want %v", typ, tt.t)
			}
			got, err := tt.decode(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			// Every strict prefix of the payload is malformed, never a
			// panic or a different message.
			for i := range len(p) {
				if _, err := tt.decode(p[:i]); err == nil && tt.t != TypeChunk {
					t.Errorf("prefix of %d bytes decoded without error", i)
				}
			}
		})
	}
}

func TestDecodeOfferRefuses(t *testing.T) {
	tests := []struct {
		name string
		o    Offer
		want error
	}{
		{"dot dot", Offer{ID: 1, Kind: scan.File, Path: "../x"}, ErrRefused},
		{"inner dot dot", Offer{ID: 1, Kind: scan.File, Path: "a/../../x"}, ErrRefused},
		{"absolute", Offer{ID: 1, Kind: scan.File, Path: "/etc/passwd"}, ErrRefused},
		{"empty", Offer{ID: 1, Kind: scan.File, Path: ""}, ErrRefused},
		{"empty element", Offer{ID: 1, Kind: scan.File, Path: "a//b"}, ErrRefused},
		{"NUL", Offer{ID: 1, Kind: scan.File, Path: "a\x00b"}, ErrRefused},
		{"escape sequence", Offer{ID: 1, Kind: scan.File, Path: "a\x1b[2Jb"}, ErrRefused},
		{"backslash", Offer{ID: 1, Kind: scan.File, Path: `a\..\b`}, ErrRefused},
		{"state dir", Offer{ID: 1, Kind: scan.File, Path: ".ferry/HEAD"}, ErrRefused},
		{"nested state dir", Offer{ID: 1, Kind: scan.File, Path: "x/.ferry/y"}, ErrRefused},
		{"long element", Offer{ID: 1, Kind: scan.File, Path: strings.Repeat("a", 256)}, ErrRefused},
		{"link out", Offer{ID: 1, Kind: scan.Symlink, Path: "a/l", Target: "../../etc"}, ErrRefused},
		{"link absolute", Offer{ID: 1, Kind: scan.Symlink, Path: "l", Target: "/etc"}, ErrRefused},
		{"link climbs through a name", Offer{ID: 1, Kind: scan.Symlink, Path: "a/l", Target: "b/../.."}, ErrRefused},
		{"link to state", Offer{ID: 1, Kind: scan.Symlink, Path: "l", Target: ".ferry"}, ErrRefused},
		{"id zero", Offer{ID: 0, Kind: scan.File, Path: "a"}, ErrMalformed},
		{"bad kind", Offer{ID: 1, Kind: 9, Path: "a"}, ErrMalformed},
		{"dir with size", Offer{ID: 1, Kind: scan.Dir, Path: "a", Size: 3}, ErrMalformed},
		{"bad class", Offer{ID: 1, Kind: scan.File, Path: "a", Class: 3}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeOffer(tt.o.Append(nil))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if CodeOf(err) == CodeOK || CodeOf(err) == CodeInternal {
				t.Errorf("code %d for %v", CodeOf(err), err)
			}
		})
	}
}

func TestFrameBounds(t *testing.T) {
	var buf bytes.Buffer
	fw := NewFrameWriter(&buf)
	if err := fw.WriteFrame(TypeOffer, make([]byte, 1<<20)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized offer written: %v", err)
	}
	// A header that claims 4 GiB is refused before anything is allocated.
	r := NewFrameReader(bytes.NewReader([]byte{byte(TypeChunk), 0xff, 0xff, 0xff, 0xff}))
	if _, _, err := r.ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
	r = NewFrameReader(bytes.NewReader([]byte{99, 0, 0, 0, 0}))
	if _, _, err := r.ReadFrame(); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("got %v, want ErrUnknownType", err)
	}
	r = NewFrameReader(bytes.NewReader([]byte{byte(TypeReply), 0, 0, 0, 9, 1}))
	if _, _, err := r.ReadFrame(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v, want ErrTruncated", err)
	}
}

func TestRemoteErrorIs(t *testing.T) {
	err := Status{ID: 1, Code: CodeNoSpace, Message: "disk full"}.Err()
	if !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrStorage) {
		t.Fatalf("%v does not match exactly its code's sentinel", err)
	}
	if CodeOf(err) != CodeNoSpace {
		t.Fatalf("code %d, want %d", CodeOf(err), CodeNoSpace)
	}
}

func TestRemoteErrorPrintable(t *testing.T) {
	err := &RemoteError{Code: CodeStorage, Message: "disk \x1b[2Jfull\n\u009b"}
	if got, want := err.Error(), "peer: disk ?[2Jfull??"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
