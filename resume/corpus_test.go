package resume

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the seed corpora in testdata/fuzz")

// TestSeedCorpus writes the seed corpora of FuzzDecode and FuzzOpen with
// -update, and otherwise checks that they are there.
func TestSeedCorpus(t *testing.T) {
	decode := map[string][]byte{}
	for i, r := range sampleRecords() {
		b, _ := Encode(nil, r)
		decode[fmt.Sprintf("%d-%s", i, r.Kind)] = b
		torn := bytes.Clone(b)
		torn[len(torn)/2] ^= 0x55
		decode[fmt.Sprintf("%d-%s-flipped", i, r.Kind)] = torn
	}
	decode["truncated-header"] = []byte{40, 0, 0}
	decode["zeros"] = make([]byte, 64)

	whole := encodeAll(t, sampleRecords())
	middle := bytes.Clone(whole)
	middle[len(middle)/2] ^= 0x01
	open := map[string][]byte{
		"empty":       {},
		"whole":       whole,
		"torn-tail":   whole[:len(whole)-5],
		"zero-tail":   append(bytes.Clone(whole), make([]byte, 512)...),
		"bad-middle":  middle,
		"huge-length": append(bytes.Clone(whole), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0),
	}

	for target, seeds := range map[string]map[string][]byte{"FuzzDecode": decode, "FuzzOpen": open} {
		dir := filepath.Join("testdata", "fuzz", target)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, b := range seeds {
			path := filepath.Join(dir, name)
			content := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
			if *update {
				if err := os.WriteFile(path, content, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, content) {
				t.Errorf("seed %s is missing or stale (err %v); run go test -run TestSeedCorpus -update", path, err)
			}
		}
	}
}
