package crashtest

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readHead reads the manifest HEAD names; nil if there is no HEAD yet.
func readHead(ns string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(ns, ".ferry", "HEAD"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("HEAD holds %q: %v", b, err)
	}
	name := filepath.Join(ns, ".ferry", "manifests", fmt.Sprintf("%020d.json", seq))
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("HEAD names manifest %d: %v", seq, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest %d: %v", seq, err)
	}
	if m.Seq != seq {
		return nil, fmt.Errorf("manifest %d says it is %d", seq, m.Seq)
	}
	return &m, nil
}

// checkCrashed checks the namespace after a crash: the live tree (see
// checkLive) and guarantee 2, the restore point HEAD names is intact and
// usable: every file it lists is at its final path with the listed
// content, which is the source's. HEAD is read before the walk, so a hub
// still running may commit meanwhile. It returns HEAD's sequence (0 if
// none).
func (tr *tree) checkCrashed(t *testing.T, ns, when string) uint64 {
	t.Helper()
	m, err := readHead(ns)
	live, problems := tr.checkLive(ns)
	report(t, when+", the live tree", problems)
	if err != nil {
		t.Errorf("%s, the restore point: %v", when, err)
		return 0
	}
	report(t, when+", the restore point", tr.checkRestorePoint(m, live))
	if m == nil {
		return 0
	}
	return m.Seq
}

// checkRestorePoint checks that every file m lists is in live with the
// listed content, which is the source's.
func (tr *tree) checkRestorePoint(m *manifest, live map[string]liveFile) []string {
	if m == nil {
		return nil
	}
	var problems []string
	files, bytes := 0, int64(0)
	for _, e := range m.Entries {
		if e.Kind != "file" {
			continue
		}
		files++
		bytes += e.Size
		want, ok := tr.files[e.Path]
		lf, present := live[e.Path]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("manifest %d lists %s, which the source does not have", m.Seq, e.Path))
		case e.Size != want.size || e.Hash != hex.EncodeToString(want.sum[:]):
			problems = append(problems, fmt.Sprintf("manifest %d lists %s with size %d hash %s, source has %d %x", m.Seq, e.Path, e.Size, e.Hash, want.size, want.sum))
		case !present:
			problems = append(problems, fmt.Sprintf("manifest %d lists %s, which is not in the live tree", m.Seq, e.Path))
		case lf.sum != want.sum:
			problems = append(problems, fmt.Sprintf("manifest %d lists %s, the live file differs", m.Seq, e.Path))
		}
	}
	if files != m.Files || bytes != m.Bytes {
		problems = append(problems, fmt.Sprintf("manifest %d says %d files, %d bytes; its entries hold %d files, %d bytes", m.Seq, m.Files, m.Bytes, files, bytes))
	}
	return problems
}

// checkFinalManifest checks that the last manifest is complete and lists
// exactly the source's files with their sizes and BLAKE3.
func (tr *tree) checkFinalManifest(t *testing.T, ns string) {
	t.Helper()
	m, err := readHead(ns)
	if err != nil || m == nil {
		t.Fatalf("no manifest committed: %v", err)
	}
	live, _ := tr.checkLive(ns)
	problems := tr.checkRestorePoint(m, live)
	{
		if m.Kind != "complete" {
			problems = append(problems, fmt.Sprintf("last manifest %d is %q, want complete", m.Seq, m.Kind))
		}
		listed := map[string]bool{}
		for _, e := range m.Entries {
			switch e.Kind {
			case "file":
				listed[e.Path] = true
			case "dir":
				if !tr.dirs[e.Path] {
					problems = append(problems, fmt.Sprintf("manifest %d lists directory %s, which the source does not have", m.Seq, e.Path))
				}
			default:
				problems = append(problems, fmt.Sprintf("manifest %d lists %s of kind %s", m.Seq, e.Path, e.Kind))
			}
		}
		for p := range tr.files {
			if !listed[p] {
				problems = append(problems, fmt.Sprintf("manifest %d does not list %s", m.Seq, p))
			}
		}
	}
	report(t, "the last manifest is not the source", problems)
}
