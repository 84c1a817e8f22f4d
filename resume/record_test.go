package resume

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hash returns a distinct test hash for s.
func hash(s string) [32]byte {
	var h [32]byte
	copy(h[:], s)
	h[31] = byte(len(s))
	return h
}

// sampleRecords holds one record of every kind and some edge values.
func sampleRecords() []Record {
	return []Record{
		{Kind: KindChunk, Path: "a.txt", FileHash: hash("a"), Offset: 1 << 20, Time: 1_700_000_000_000_000_000},
		{Kind: KindChunk, Path: "dir/sub/b.bin", FileHash: hash("b"), Offset: 1<<63 - 1, Time: -1},
		{Kind: KindChunk, Path: strings.Repeat("p", MaxPath), FileHash: hash("long"), Offset: 0, Time: 0},
		{Kind: KindPlaced, Path: "a.txt", FileHash: hash("a"), Time: 42},
		{Kind: KindDropped, Path: "dir/sub/b.bin", Time: 43},
		{Kind: KindClassDone, Class: 0, Seq: 0, Time: 44},
		{Kind: KindClassDone, Class: 255, Seq: 1<<64 - 1, Time: 45},
		{Kind: KindCommit, Seq: 7, Time: 46},
		{Kind: KindChunk, Path: "video/big.mp4", FileHash: hash("v"), Offset: 3 << 30, Time: 47},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	var all []byte
	for _, r := range sampleRecords() {
		b, err := Encode(nil, r)
		if err != nil {
			t.Fatalf("Encode(%+v): %v", r, err)
		}
		got, n, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%v)): %v", r.Kind, err)
		}
		if n != len(b) {
			t.Errorf("%v: Decode consumed %d bytes, want %d", r.Kind, n, len(b))
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("%v: round trip (-want +got):\n%s", r.Kind, diff)
		}
		all, _ = Encode(all, r)
	}
	// Frames concatenate: Decode reads one at a time.
	var got []Record
	for len(all) > 0 {
		r, n, err := Decode(all)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
		all = all[n:]
	}
	if diff := cmp.Diff(sampleRecords(), got); diff != "" {
		t.Errorf("concatenated frames (-want +got):\n%s", diff)
	}
}

func TestEncodeRejects(t *testing.T) {
	h := hash("x")
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"zero kind", Record{}, "unknown kind"},
		{"kind past last", Record{Kind: KindCommit + 1}, "unknown kind"},
		{"chunk without path", Record{Kind: KindChunk, FileHash: h}, "invalid path"},
		{"absolute path", Record{Kind: KindChunk, Path: "/etc/passwd"}, "invalid path"},
		{"dot-dot path", Record{Kind: KindPlaced, Path: "../x"}, "invalid path"},
		{"empty element", Record{Kind: KindPlaced, Path: "a//b"}, "invalid path"},
		{"dot path", Record{Kind: KindDropped, Path: "."}, "invalid path"},
		{"trailing slash", Record{Kind: KindDropped, Path: "a/"}, "invalid path"},
		{"path too long", Record{Kind: KindChunk, Path: strings.Repeat("p", MaxPath+1)}, "invalid path"},
		{"commit with path", Record{Kind: KindCommit, Path: "a", Seq: 1}, "path or hash set"},
		{"class done with hash", Record{Kind: KindClassDone, FileHash: h}, "path or hash set"},
		{"negative offset", Record{Kind: KindChunk, Path: "a", Offset: -1}, "negative offset"},
		{"placed with offset", Record{Kind: KindPlaced, Path: "a", Offset: 1}, "offset set"},
		{"chunk with class", Record{Kind: KindChunk, Path: "a", Class: 1}, "class set"},
		{"commit with class", Record{Kind: KindCommit, Class: 1}, "class set"},
		{"chunk with seq", Record{Kind: KindChunk, Path: "a", Seq: 1}, "seq set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := Encode(dst, tt.r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode error = %v, want one containing %q", err, tt.want)
			}
			if !bytes.Equal(got, []byte("keep")) {
				t.Errorf("Encode changed dst on error: %q", got)
			}
		})
	}
}

// frame wraps payload in a frame with a correct length and checksum.
func frame(payload []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

func TestDecodeErrors(t *testing.T) {
	good, _ := Encode(nil, Record{Kind: KindChunk, Path: "a", FileHash: hash("a"), Offset: 5, Time: 9})
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	pathPayload := func(n int, path string) []byte {
		p := []byte{Version, byte(KindPlaced), 0}
		p = binary.AppendUvarint(p, uint64(n))
		p = append(p, path...)
		return append(p, make([]byte, 32)...)
	}
	chunkPayload := append([]byte{Version, byte(KindChunk), 0, 1, 'a'}, make([]byte, 32)...)
	tests := []struct {
		name  string
		b     []byte
		want  string
		short bool
	}{
		{"empty", nil, "short frame", true},
		{"header cut", good[:7], "short frame", true},
		{"length zero", make([]byte, 16), "bad length 0", false},
		{"length too small", frame([]byte{Version, byte(KindCommit)}), "bad length 2", false},
		{"length too large", binary.LittleEndian.AppendUint32(nil, MaxPayload+1), "short frame", true},
		{"length too large, whole header", append(binary.LittleEndian.AppendUint32(nil, MaxPayload+1), 0, 0, 0, 0), "bad length 65537", false},
		{"payload cut", good[:len(good)-1], "short frame", true},
		{"checksum", badCRC, "checksum mismatch", false},
		{"version", frame([]byte{2, byte(KindCommit), 0, 0}), "unknown version 2", false},
		{"kind zero", frame([]byte{Version, 0, 0, 0}), "unknown kind 0", false},
		{"kind unknown", frame([]byte{Version, 9, 0, 0}), "unknown kind 9", false},
		{"trailing", frame([]byte{Version, byte(KindCommit), 0, 0, 0}), "commit record: 1 trailing bytes", false},
		{"missing seq", frame([]byte{Version, byte(KindCommit), 0}), "commit record: payload too short", false},
		{"non-canonical varint", frame([]byte{Version, byte(KindCommit), 0, 0x80, 0x00}), "non-canonical varint", false},
		{"varint overflow", frame([]byte{Version, byte(KindCommit), 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), "varint overflow", false},
		{"offset overflow", frame(binary.AppendUvarint(chunkPayload, 1<<63)), "offset 9223372036854775808 out of range", false},
		{"path too long", frame(pathPayload(MaxPath+1, "")), "path length 4097 exceeds 4096", false},
		{"path cut", frame(pathPayload(10, "abc")[:3+1+3]), "payload too short", false},
		{"empty path", frame(pathPayload(0, "")), `invalid path ""`, false},
		{"absolute path", frame(pathPayload(2, "/a")), `invalid path "/a"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, n, err := Decode(tt.b)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Decode = %+v, %d, %v; want a *CorruptError", r, n, err)
			}
			if !strings.HasPrefix(err.Error(), "resume: record at 0: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to name %q", err, tt.want)
			}
			if ce.Short != tt.short {
				t.Errorf("Short = %v, want %v", ce.Short, tt.short)
			}
			if n != 0 || r != (Record{}) {
				t.Errorf("Decode returned %+v, %d with an error", r, n)
			}
		})
	}
}

// Every single-bit error in a frame is caught.
func TestDecodeBitFlips(t *testing.T) {
	for _, r := range sampleRecords()[:2] {
		good, _ := Encode(nil, r)
		for i := range len(good) * 8 {
			b := bytes.Clone(good)
			b[i/8] ^= 1 << (i % 8)
			if got, _, err := Decode(b); err == nil {
				t.Errorf("%v: bit %d flipped: decoded %+v", r.Kind, i, got)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, r := range sampleRecords() {
		b, _ := Encode(nil, r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
		// The checksum keeps random bytes from reaching the payload parser;
		// give it b as a payload with a valid frame too.
		if len(b) <= MaxPayload {
			checkDecode(t, frame(b))
		}
	})
}

// checkDecode checks that Decode either fails with a *CorruptError or
// returns a record that encodes to exactly the bytes it came from.
func checkDecode(t *testing.T, b []byte) {
	r, n, err := Decode(b)
	if err != nil {
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("error %v (%T) is not a *CorruptError", err, err)
		}
		if n != 0 {
			t.Fatalf("n = %d with error", n)
		}
		return
	}
	if n < headerSize+minPayload || n > len(b) {
		t.Fatalf("n = %d of %d bytes", n, len(b))
	}
	again, err := Encode(nil, r)
	if err != nil {
		t.Fatalf("decoded record %+v does not encode: %v", r, err)
	}
	if !bytes.Equal(again, b[:n]) {
		t.Fatalf("re-encoding %+v gives %x, decoded from %x", r, again, b[:n])
	}
}
