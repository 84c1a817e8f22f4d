package prioritize

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/scan"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is an edge device's data directory: critical state in a
// late-sorting directory, logs, media, a database whose indexes must follow
// its data files, and things to exclude.
func fixture() []scan.Entry {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	dir := func(p string) scan.Entry { return scan.Entry{Path: p, Kind: scan.Dir, Mode: 0o755, ModTime: t0} }
	file := func(p string, size int64) scan.Entry {
		return scan.Entry{Path: p, Kind: scan.File, Size: size, Mode: 0o644, ModTime: t0}
	}
	link := func(p, target string) scan.Entry {
		return scan.Entry{Path: p, Kind: scan.Symlink, Mode: 0o777, ModTime: t0, Target: target}
	}
	return []scan.Entry{
		file("README", 1500),
		dir("cache"),
		file("cache/blob", 999),
		dir("config"),
		file("config/secrets.yaml", 120),
		file("config/site.yaml", 812),
		link("current", "media/cam1/0002.mp4"),
		dir("db"),
		file("db/a.dat", 52428800),
		file("db/a.idx", 4096),
		file("db/b.dat", 1024),
		file("db/b.idx", 512),
		file("firmware.iso", 734003200),
		dir("logs"),
		dir("logs/2026"),
		file("logs/2026/app.1.log.gz", 1048576),
		file("logs/app.log", 40960),
		dir("media"),
		dir("media/cam1"),
		file("media/cam1/0001.mp4", 2147483648),
		file("media/cam1/0002.mp4", 104857600),
		file("notes.txt", 300),
		dir("state"),
		file("state/counters.json", 2048),
		file("x.tmp", 10),
		dir("zz"),
		dir("zz/state"),
		file("zz/state/alarm.json", 96),
	}
}

// flagRules makes the rules command-line flags would.
func flagRules(t testing.TB, flags ...string) Rules {
	t.Helper()
	var r Rules
	for i := 0; i < len(flags); i += 2 {
		p, err := scan.Compile(flags[i+1])
		if err != nil {
			t.Fatal(err)
		}
		rule := Rule{Pattern: p, Source: flags[i]}
		switch flags[i] {
		case "--critical":
			r.Critical = append(r.Critical, rule)
		case "--bulk":
			r.Bulk = append(r.Bulk, rule)
		case "--exclude":
			r.Exclude = append(r.Exclude, rule)
		default:
			t.Fatalf("unknown flag %s", flags[i])
		}
	}
	return r
}

func parse(t testing.TB, text string) Rules {
	t.Helper()
	r, err := ParseRules(strings.NewReader(text), "rules.txt")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// render writes a plan as the golden files show it.
func render(p Plan) string {
	var b strings.Builder
	for i, it := range p.Items {
		fmt.Fprintf(&b, "%3d %-8s %10d %-24s %s\n", i+1, it.Class, it.Size, it.Path, it.Reason)
	}
	for _, d := range p.Dirs {
		fmt.Fprintf(&b, "  - dir %s\n", d.Path)
	}
	return b.String()
}

const edgeRules = `# ferry rules for the edge box
critical config/*.yaml
bulk *.mp4
bulk logs/**/*.gz
exclude *.tmp
exclude cache/
after db/*.idx db/*.dat   # indexes only after their data
`

func TestOrderGolden(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		file  string
	}{
		{name: "no-rules"},
		{name: "edge", flags: []string{"--critical", "state", "--bulk", "*.iso"}, file: edgeRules},
		// The indexes are bulk, so the after rule is already satisfied.
		{name: "satisfied", file: "bulk db/*.idx\nafter db/*.idx db/*.dat\n"},
		{name: "chain", file: "after db/a.* db/b.*\nafter README db/a.*\nafter notes.txt README\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := flagRules(t, tt.flags...)
			r.Add(parse(t, tt.file))
			plan, err := Order(fixture(), r)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, plan, r)
			got := render(plan)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan (-%s +got):\n%s", golden, diff)
			}
		})
	}
}

// checkPlan checks the invariants every plan keeps.
func checkPlan(t *testing.T, p Plan, r Rules) {
	t.Helper()
	pos := make(map[string]int)
	for i, it := range p.Items {
		if i > 0 && it.Class < p.Items[i-1].Class {
			t.Errorf("%s (%s) after %s (%s)", it.Path, it.Class, p.Items[i-1].Path, p.Items[i-1].Class)
		}
		if it.Kind == scan.Dir || it.Reason == "" {
			t.Errorf("bad item %+v", it)
		}
		if _, dup := pos[it.Path]; dup {
			t.Errorf("%s twice", it.Path)
		}
		pos[it.Path] = i
		for _, x := range r.Exclude {
			if x.Pattern.Match(it.Path, false) {
				t.Errorf("%s kept though %q excludes it", it.Path, x.Pattern)
			}
		}
	}
	for _, a := range r.After {
		lastEarlier, firstLater := -1, len(p.Items)
		for i, it := range p.Items {
			if a.Earlier.Match(it.Path, false) {
				lastEarlier = i
			}
			if a.Later.Match(it.Path, false) && i < firstLater {
				firstLater = i
			}
		}
		if lastEarlier > firstLater {
			t.Errorf("%s: %s sent before %s", a, p.Items[firstLater].Path, p.Items[lastEarlier].Path)
		}
	}
	if len(r.After) == 0 && !slices.IsSortedFunc(p.Items, compareItems) {
		t.Errorf("items not sorted by class, size and path")
	}
	if !slices.IsSortedFunc(p.Dirs, func(a, b scan.Entry) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("dirs not sorted")
	}
}

func TestOrderErrors(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		rules string
		want  []string // substrings of the error
	}{
		{
			name:  "cycle of two",
			rules: "after db/*.dat db/*.idx\nafter db/*.idx db/*.dat\n",
			want: []string{
				"after rules form a cycle",
				`(after db/*.dat db/*.idx, rules.txt:1)`,
				`(after db/*.idx db/*.dat, rules.txt:2)`,
			},
		},
		{
			name:  "cycle of three",
			rules: "after README notes.txt\nafter notes.txt db/b.dat\nafter db/b.dat README\nafter config/* db/b.dat\n",
			want: []string{
				"after rules form a cycle",
				`"README" waits for "notes.txt" (after README notes.txt, rules.txt:1)`,
				`"notes.txt" waits for "db/b.dat" (after notes.txt db/b.dat, rules.txt:2)`,
				`"db/b.dat" waits for "README" (after db/b.dat README, rules.txt:3)`,
			},
		},
		{
			name:  "critical after normal",
			flags: []string{"--critical", "*.idx"},
			rules: "after db/*.idx db/*.dat\n",
			want:  []string{`after db/*.idx db/*.dat (rules.txt:1) contradicts the classes: critical "db/b.idx" would wait for normal "db/a.dat"`},
		},
		{
			name:  "normal after bulk",
			rules: "bulk db/a.dat\nafter db/* README\nafter db/*.idx db/*.dat\n",
			want:  []string{`after db/*.idx db/*.dat (rules.txt:3) contradicts the classes: normal "db/b.idx" would wait for bulk "db/a.dat"`},
		},
		{
			name:  "both sides",
			rules: "after db/* db/*.dat\n",
			want:  []string{`after db/* db/*.dat (rules.txt:1): "db/b.dat" matches both patterns`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := flagRules(t, tt.flags...)
			r.Add(parse(t, tt.rules))
			plan, err := Order(fixture(), r)
			if err == nil {
				t.Fatalf("Order succeeded:\n%s", render(plan))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestOrderUnknownKind(t *testing.T) {
	_, err := Order([]scan.Entry{{Path: "x", Kind: 0}}, Rules{})
	if err == nil || !strings.Contains(err.Error(), "order x: unknown kind kind(0)") {
		t.Errorf("Order = %v, want unknown kind error", err)
	}
}

func TestOrderEmptySides(t *testing.T) {
	r := parse(t, "after nothing-matches db/*.dat\nafter db/*.idx nothing-matches\n")
	plan, err := Order(fixture(), r)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(plan); got != render(mustOrder(t, fixture(), Rules{})) {
		t.Errorf("rules that match nothing on one side changed the plan:\n%s", got)
	}
}

// TestOrderExcludeDirs checks Order alone drops excluded directories and
// everything under them, as the scan would.
func TestOrderExcludeDirs(t *testing.T) {
	plan := mustOrder(t, fixture(), flagRules(t, "--exclude", "media/", "--exclude", "logs"))
	var paths []string
	for _, it := range plan.Items {
		paths = append(paths, it.Path)
	}
	for _, d := range plan.Dirs {
		paths = append(paths, d.Path+"/")
	}
	for _, p := range paths {
		if strings.HasPrefix(p, "media/") || strings.HasPrefix(p, "logs/") {
			t.Errorf("%s kept", p)
		}
	}
	if !slices.Contains(paths, "current") {
		t.Errorf("symlink current dropped; a link is not its target")
	}
}

func mustOrder(t testing.TB, es []scan.Entry, r Rules) Plan {
	t.Helper()
	p, err := Order(es, r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
