package receiver

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferrysync/ferry/resume"
)

// Point is a restore point of a namespace: a committed manifest, or a
// lightweight point in the journal where a priority class was fully placed.
type Point struct {
	// Seq is the manifest's sequence; for a lightweight point, the
	// sequence of the manifest its session was heading for.
	Seq  uint64
	Kind string // complete, partial, checkpoint, or class-done
	// Class is the finished class of a lightweight point (0 critical,
	// 1 normal, 2 bulk).
	Class    uint8
	Time     time.Time
	Files    int
	Bytes    int64
	Complete bool
}

// Points lists the restore points of the namespace at dir, oldest first,
// without changing anything there: manifests up to HEAD, then the
// lightweight points journaled since the last commit.
func Points(dir string) ([]Point, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open namespace: %w", err)
	}
	defer root.Close()
	head, err := readHead(root)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(root.FS(), manifestDir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a ferry destination: %w", dir, err)
	}
	var pts []Point
	for _, de := range entries {
		seq, err := strconv.ParseUint(strings.TrimSuffix(de.Name(), ".json"), 10, 64)
		if err != nil || !strings.HasSuffix(de.Name(), ".json") || seq > head {
			continue
		}
		m, err := ReadManifest(root, seq)
		if err != nil {
			return pts, err
		}
		pts = append(pts, Point{Seq: seq, Kind: m.Kind, Time: m.Created, Files: m.Files, Bytes: m.Bytes, Complete: m.Complete()})
	}
	slices.SortFunc(pts, func(a, b Point) int { return int(a.Seq) - int(b.Seq) })
	data, err := root.ReadFile(journalName)
	if err != nil && !isNotExist(err) {
		return pts, fmt.Errorf("read journal: %w", err)
	}
	var light []Point
	for len(data) > 0 {
		r, n, err := resume.Decode(data)
		if err != nil {
			break // a torn tail; recovery cuts it on the next session
		}
		data = data[n:]
		switch r.Kind {
		case resume.KindCommit:
			light = nil
		case resume.KindClassDone:
			light = append(light, Point{Seq: r.Seq, Kind: "class-done", Class: r.Class, Time: time.Unix(0, r.Time).UTC()})
		}
	}
	return append(pts, light...), nil
}
