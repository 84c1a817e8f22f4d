package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Kind is the role of a file in the data set.
type Kind string

// The kinds of files in the data set.
const (
	KindCritical Kind = "critical" // small state, alarm and config files
	KindLog      Kind = "log"      // small compressible text
	KindMedia    Kind = "media"    // incompressible, a few MiB
	KindDB       Kind = "db"       // 8 MiB of database-like pages
	KindImage    Kind = "image"    // a compressed firmware image: incompressible
)

// FileSpec is one file of the data set: its content is a pure function of
// the data set's seed and the file's index.
type FileSpec struct {
	Path  string // slash-separated, relative to the root
	Kind  Kind
	Size  int64
	Index int // position in Dataset.Files, also the content seed
}

// Dataset describes a generated tree. Build it with NewDataset or
// NewLargeDataset; write it with Write.
type Dataset struct {
	Seed  uint64
	Scale float64
	Files []FileSpec // sorted by Path
	// Large marks the set of a few large files (NewLargeDataset), whose
	// content is drawn from a stream of its own.
	Large bool
}

// Shape at scale 1. The counts scale linearly (at least one of each kind);
// the two database files stay 8 MiB each, as the edit case needs one.
const (
	criticalFiles = 40
	logFiles      = 1450
	mediaFiles    = 6
	dbFiles       = 2
	dbSize        = 8 << 20
	pageSize      = 4096
	// EditSize is the size of the edit in the edit case.
	EditSize = 4 << 10
)

// criticalDirs sort after every other top-level directory (db, logs,
// media), so name order never favours them.
var criticalDirs = []string{"zz-site/state", "zz-site/alarms", "zz-site/config"}

// CriticalGlobs returns the patterns (ferry --critical syntax) that select
// exactly the critical files.
func CriticalGlobs() []string {
	g := make([]string, len(criticalDirs))
	for i, d := range criticalDirs {
		g[i] = d + "/**"
	}
	return g
}

// IsCritical reports whether a relative path is one of the critical files.
func IsCritical(rel string) bool {
	for _, d := range criticalDirs {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

var services = []string{
	"gateway", "modbus", "camera", "uplink", "hvac", "power", "door",
	"gps", "lte-modem", "watchdog", "scheduler", "storage",
}

// NewDataset lays out the data set for seed and scale: paths, kinds and
// sizes. It writes nothing.
func NewDataset(seed uint64, scale float64) (*Dataset, error) {
	if !(scale > 0) || scale > 1000 {
		return nil, fmt.Errorf("scale %v: want a number in (0, 1000]", scale)
	}
	n := func(base int) int { return max(1, int(math.Round(float64(base)*scale))) }
	r := rand.New(rand.NewPCG(seed, 0x6461746173657421))
	var files []FileSpec
	add := func(p string, k Kind, size int64) {
		files = append(files, FileSpec{Path: p, Kind: k, Size: size})
	}

	// Critical: state, alarms and config in the proportions 40/35/25.
	nc := n(criticalFiles)
	for i := range nc {
		size := int64(200 + r.IntN(3900))
		switch pct := i * 100 / nc; {
		case pct < 40:
			add(fmt.Sprintf("zz-site/state/unit-%03d.json", i), KindCritical, size)
		case pct < 75:
			add(fmt.Sprintf("zz-site/alarms/alarm-%03d.json", i), KindCritical, size)
		default:
			add(fmt.Sprintf("zz-site/config/module-%03d.conf", i), KindCritical, size)
		}
	}
	// Logs: log-uniform sizes from 2 to 48 KiB, one directory per service.
	for i := range n(logFiles) {
		svc := services[i%len(services)]
		day := 1 + (i/len(services))%28
		size := int64(math.Exp(math.Log(2<<10) + r.Float64()*math.Log(24)))
		add(fmt.Sprintf("logs/%s/2026-07-%02d-%04d.log", svc, day, i), KindLog, size)
	}
	// Media: 2 to 5 MiB of incompressible bytes.
	for i := range n(mediaFiles) {
		size := int64(2<<20 + r.IntN(3<<20))
		add(fmt.Sprintf("media/cam-%d/clip-%04d.mp4", i%3, i), KindMedia, size)
	}
	// Databases: 8 MiB each.
	names := []string{"events", "telemetry"}
	for i := range max(dbFiles, n(dbFiles)) {
		name := fmt.Sprintf("db-%d", i)
		if i < len(names) {
			name = names[i]
		}
		add("db/"+name+".db", KindDB, dbSize)
	}
	slices.SortFunc(files, func(a, b FileSpec) int { return strings.Compare(a.Path, b.Path) })
	for i := range files {
		files[i].Index = i
	}
	return &Dataset{Seed: seed, Scale: scale, Files: files}, nil
}

// Bytes returns the total size of the files of kind k, or of all files if k
// is empty.
func (d *Dataset) Bytes(k Kind) int64 {
	var t int64
	for _, f := range d.Files {
		if k == "" || f.Kind == k {
			t += f.Size
		}
	}
	return t
}

// Count returns the number of files of kind k, or of all files if k is
// empty.
func (d *Dataset) Count(k Kind) int {
	c := 0
	for _, f := range d.Files {
		if k == "" || f.Kind == k {
			c++
		}
	}
	return c
}

// EditTarget returns the file the edit case changes: the first database
// file.
func (d *Dataset) EditTarget() FileSpec {
	for _, f := range d.Files {
		if f.Kind == KindDB {
			return f
		}
	}
	panic("bench: data set without a database file")
}

// baseTime is the modification time of every generated file (plus its
// index in seconds), so that trees are identical across runs.
var baseTime = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)

// Content returns the bytes of file f.
func (d *Dataset) Content(f FileSpec) []byte {
	tag := mainTag
	if d.Large {
		tag = largeTag
	}
	r := rand.New(rand.NewChaCha8(contentSeed(d.Seed, uint64(f.Index), tag)))
	switch f.Kind {
	case KindCritical:
		return criticalContent(r, f)
	case KindLog:
		return logContent(r, f)
	case KindMedia:
		return mediaContent(r, f)
	case KindImage:
		return imageContent(r, f)
	default:
		return dbContent(r, f)
	}
}

// Tags that keep the two data sets' content streams apart.
const (
	mainTag  = "ferry-bench-data"
	largeTag = "ferry-bench-larg"
)

func contentSeed(seed, index uint64, tag string) [32]byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[0:], seed)
	binary.LittleEndian.PutUint64(s[8:], index)
	copy(s[16:], tag)
	return s
}

// Write creates the tree under dir, which must not exist or be empty.
func (d *Dataset) Write(dir string) error {
	for i, f := range d.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, d.Content(f), 0o644); err != nil {
			return err
		}
		mt := baseTime.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(p, mt, mt); err != nil {
			return err
		}
	}
	// Directory times too, so that a re-generated tree is the same tree.
	dirs := map[string]bool{}
	for _, f := range d.Files {
		for p := path.Dir(f.Path); p != "."; p = path.Dir(p) {
			dirs[p] = true
		}
	}
	for p := range dirs {
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(p)), baseTime, baseTime); err != nil {
			return err
		}
	}
	return nil
}

// Edit overwrites EditSize bytes in the middle of the edit target (page
// aligned, new records with the given generation) and moves its mtime
// forward, as an application writing one page would. It returns a function
// that puts the original bytes and mtime back.
func (d *Dataset) Edit(dir string, generation int) (undo func() error, err error) {
	f := d.EditTarget()
	p := filepath.Join(dir, filepath.FromSlash(f.Path))
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	off := EditOffset(f.Size)
	fh, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	old := make([]byte, EditSize)
	if _, err := fh.ReadAt(old, off); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewChaCha8(contentSeed(d.Seed^0xed17, uint64(generation), mainTag)))
	page := make([]byte, EditSize)
	fillPage(r, page, uint32(off/pageSize), int64(1_800_000_000+generation*1000))
	if _, err := fh.WriteAt(page, off); err != nil {
		return nil, err
	}
	if err := fh.Close(); err != nil {
		return nil, err
	}
	mt := fi.ModTime().Add(time.Hour + time.Duration(generation)*time.Second)
	if err := os.Chtimes(p, mt, mt); err != nil {
		return nil, err
	}
	return func() error {
		if err := writeAt(p, old, off); err != nil {
			return err
		}
		return os.Chtimes(p, fi.ModTime(), fi.ModTime())
	}, nil
}

// EditOffset is where the edit lands in a file of size n: the page-aligned
// middle.
func EditOffset(n int64) int64 { return (n / 2) &^ (pageSize - 1) }

func writeAt(p string, b []byte, off int64) error {
	fh, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if _, err := fh.WriteAt(b, off); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// pad grows or cuts b to n bytes, ending in a newline when it grows.
func pad(b []byte, n int64, filler byte) []byte {
	if int64(len(b)) >= n {
		return b[:n]
	}
	for int64(len(b)) < n-1 {
		b = append(b, filler)
	}
	return append(b, '\n')
}

func criticalContent(r *rand.Rand, f FileSpec) []byte {
	var b strings.Builder
	if strings.HasSuffix(f.Path, ".conf") {
		fmt.Fprintf(&b, "# %s\n", f.Path)
		for int64(b.Len()) < f.Size {
			fmt.Fprintf(&b, "%s.%s = %d\n", services[r.IntN(len(services))],
				[]string{"interval", "threshold", "retries", "timeout_ms", "port"}[r.IntN(5)], r.IntN(10000))
		}
		return pad([]byte(b.String()), f.Size, '#')
	}
	fmt.Fprintf(&b, "{\"path\":%q,\"seq\":%d,\"state\":%q,\"since\":%q,\"readings\":[",
		f.Path, r.IntN(1e6), []string{"ok", "armed", "alarm", "degraded"}[r.IntN(4)],
		baseTime.Add(time.Duration(r.IntN(86400))*time.Second).Format(time.RFC3339))
	for int64(b.Len()) < f.Size-40 {
		fmt.Fprintf(&b, "%d.%02d,", r.IntN(500), r.IntN(100))
	}
	b.WriteString("0]}")
	return pad([]byte(b.String()), f.Size, ' ')
}

var logMessages = []string{
	"poll ok unit=%d reg=%d value=%d latency_ms=%d",
	"connection established peer=10.0.%d.%d port=%d rtt_ms=%d",
	"retrying request attempt=%d backoff_ms=%d code=%d seq=%d",
	"frame captured cam=%d bytes=%d exposure_us=%d gain=%d",
	"temperature sensor=%d celsius=%d.%d threshold=%d",
	"heartbeat sent seq=%d queue=%d drops=%d uptime_s=%d",
	"signal rssi=-%d rsrq=-%d sinr=%d band=%d",
	"write flushed file=%d bytes=%d fsync_ms=%d pending=%d",
}

func logContent(r *rand.Rand, f FileSpec) []byte {
	b := make([]byte, 0, f.Size+200)
	t := baseTime.Add(time.Duration(f.Index) * time.Minute)
	levels := []string{"INFO ", "INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"}
	svc := strings.Split(f.Path, "/")[1]
	for int64(len(b)) < f.Size {
		t = t.Add(time.Duration(r.IntN(5000)) * time.Millisecond)
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z ")
		b = append(b, levels[r.IntN(len(levels))]...)
		b = fmt.Appendf(b, " %s[%d]: ", svc, 400+f.Index%50)
		b = fmt.Appendf(b, logMessages[r.IntN(len(logMessages))], r.IntN(64), r.IntN(5000), r.IntN(1000), r.IntN(100))
		b = append(b, '\n')
	}
	return pad(b, f.Size, '.')
}

func mediaContent(r *rand.Rand, f FileSpec) []byte {
	return randomContent(r, f, "\x00\x00\x00\x20ftypisom")
}

// randomContent is f.Size incompressible bytes that start with magic.
func randomContent(r *rand.Rand, f FileSpec, magic string) []byte {
	b := make([]byte, f.Size)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	copy(b, magic)
	return b
}

func dbContent(r *rand.Rand, f FileSpec) []byte {
	b := make([]byte, f.Size)
	for pg := int64(0); pg*pageSize < f.Size; pg++ {
		end := min(f.Size, (pg+1)*pageSize)
		fillPage(r, b[pg*pageSize:end], uint32(pg), 1_780_000_000+pg*60)
	}
	return b
}

// fillPage writes a page of fixed-width records: a header, rows of (time,
// sensor, value, status, tag) and zeroed free space at the end, about as
// compressible as a real database page.
func fillPage(r *rand.Rand, p []byte, no uint32, t0 int64) {
	clear(p)
	if len(p) < 16 {
		return
	}
	binary.LittleEndian.PutUint32(p[0:], no)
	binary.LittleEndian.PutUint64(p[8:], r.Uint64()) // checksum-like
	tags := []string{"ok", "warn", "temp", "door", "power", "link", "cam"}
	rows := 90 + r.IntN(37) // 32-byte rows: 90..126 of the page's 127 slots
	for i := 0; i < rows && 16+(i+1)*32 <= len(p); i++ {
		row := p[16+i*32:]
		binary.LittleEndian.PutUint64(row[0:], uint64(t0+int64(i)*int64(1+r.IntN(30))))
		binary.LittleEndian.PutUint16(row[8:], uint16(r.IntN(200)))
		binary.LittleEndian.PutUint32(row[10:], math.Float32bits(float32(r.NormFloat64()*10+20)))
		row[14] = byte(r.IntN(4))
		copy(row[15:32], tags[r.IntN(len(tags))])
	}
	binary.LittleEndian.PutUint32(p[4:], uint32(rows))
}
