package prioritize

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ruleText renders rules as "kind pattern @source" lines, to compare.
func ruleText(r Rules) []string {
	var out []string
	for _, x := range r.Critical {
		out = append(out, "critical "+x.Pattern.String()+" @"+x.Source)
	}
	for _, x := range r.Bulk {
		out = append(out, "bulk "+x.Pattern.String()+" @"+x.Source)
	}
	for _, x := range r.Exclude {
		out = append(out, "exclude "+x.Pattern.String()+" @"+x.Source)
	}
	for _, a := range r.After {
		out = append(out, a.String()+" @"+a.Source)
	}
	return out
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"comments and blanks", "# header\n\n   \n\t# indented comment\n", nil},
		{"each kind", "critical state/**\nbulk *.mp4\nexclude *.tmp\nafter db/*.idx db/*.dat\n", []string{
			"critical state/** @r:1", "bulk *.mp4 @r:2", "exclude *.tmp @r:3", "after db/*.idx db/*.dat @r:4",
		}},
		{"trailing comment", "bulk *.mp4   # videos\nbulk\t*.mkv\t#x\n", []string{"bulk *.mp4 @r:1", "bulk *.mkv @r:2"}},
		{"hash inside a pattern", "critical a#b\n", []string{"critical a#b @r:1"}},
		{"escaped hash", `critical \#tag` + "\n", []string{`critical \#tag @r:1`}},
		{"escaped blank", `bulk my\ video.mp4` + "\n", []string{`bulk my\ video.mp4 @r:1`}},
		{"crlf and blanks", "  critical   *.json  \r\nbulk *.bin\r\n", []string{"critical *.json @r:1", "bulk *.bin @r:2"}},
		{"bom", "\uFEFFcritical x\n", []string{"critical x @r:1"}},
		{"no final newline", "exclude cache/", []string{"exclude cache/ @r:1"}},
		{"line numbers count blanks", "\n# c\ncritical a\n\nbulk b\n", []string{"critical a @r:3", "bulk b @r:5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRules(strings.NewReader(tt.in), "r")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ruleText(r)); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"unknown rule", "critical a\n\n\nfoo bar\n", `rules.txt:4: unknown rule "foo"`},
		{"case matters", "Critical a\n", `rules.txt:1: unknown rule "Critical"`},
		{"long keyword", strings.Repeat("x", 100) + " a\n", `unknown rule "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."`},
		{"no pattern", "critical\n", "rules.txt:1: critical wants 1 pattern, got 0"},
		{"comment eats pattern", "bulk #x\n", "rules.txt:1: bulk wants 1 pattern, got 0"},
		{"two patterns", "exclude a b\n", "rules.txt:1: exclude wants 1 pattern, got 2"},
		{"after one", "after a\n", "rules.txt:1: after wants 2 patterns, LATER EARLIER, got 1"},
		{"after three", "after a b c\n", "got 3"},
		{"bad glob", "critical {a,b\n", `rules.txt:1: compile pattern "{a,b": glob: syntax error`},
		{"bad later", "after [a b\n", `rules.txt:1: compile pattern "[a"`},
		{"bad earlier", "after a {b\n", `rules.txt:1: compile pattern "{b"`},
		{"negation", "exclude !keep\n", "rules.txt:1: compile pattern \"!keep\": negation"},
		{"every bad line", "foo\nbar\n", "rules.txt:1: unknown rule \"foo\"\nrules.txt:2: unknown rule \"bar\""},
		{"too many", strings.Repeat("x\n", 50), "rules.txt: too many errors"},
		{"line too long", "critical a\n" + strings.Repeat("a", 70000), "rules.txt:2: line too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRules(strings.NewReader(tt.in), "rules.txt")
			if err == nil {
				t.Fatalf("ParseRules succeeded: %v", ruleText(r))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRulesAdd(t *testing.T) {
	flags, err := ParseRules(strings.NewReader("critical a\nexclude x\n"), "--flags")
	if err != nil {
		t.Fatal(err)
	}
	file, err := ParseRules(strings.NewReader("critical b\nbulk c\nexclude y\nafter d e\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	flags.Add(file)
	want := []string{"critical a @--flags:1", "critical b @f:1", "bulk c @f:2", "exclude x @--flags:2", "exclude y @f:3", "after d e @f:4"}
	if diff := cmp.Diff(want, ruleText(flags)); diff != "" {
		t.Errorf("after Add (-want +got):\n%s", diff)
	}
	var ex []string
	for _, p := range flags.Excludes() {
		ex = append(ex, p.String())
	}
	if diff := cmp.Diff([]string{"x", "y"}, ex); diff != "" {
		t.Errorf("Excludes (-want +got):\n%s", diff)
	}
}

func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		"",
		"critical state/**\nbulk *.mp4\nexclude *.tmp\nafter db/*.idx db/*.dat\n",
		"# comment\n  bulk media/  # videos\r\n",
		`critical \#x my\ file {a,b}` + "\n",
		"after a b\nafter b a\n",
		"critical [!x]?*\nbulk **/\nexclude /\n",
		"\uFEFFafter ** *\n",
		"foo\n\\",
	} {
		f.Add(s)
	}
	entries := fixture()
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseRules(strings.NewReader(in), "fuzz")
		if err != nil {
			if r.Critical != nil || r.Bulk != nil || r.Exclude != nil || r.After != nil {
				t.Fatalf("error %v with rules %v", err, ruleText(r))
			}
			return
		}
		if n := len(ruleText(r)); n > strings.Count(in, "\n")+1 {
			t.Fatalf("%d rules from %d lines", n, strings.Count(in, "\n")+1)
		}
		// Whatever parses must plan or fail cleanly.
		plan, err := Order(entries, r)
		if err != nil {
			return
		}
		checkPlan(t, plan, r)
	})
}
