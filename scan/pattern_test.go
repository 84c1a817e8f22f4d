package scan

import (
	"strings"
	"testing"
)

// TestPatternMatch pins the documented pattern syntax. gobwas/glob has
// changed its ** semantics between versions; these cases are the contract.
func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		path    string
		isDir   bool
		want    bool
	}{
		// Base-name patterns match at any depth, the entry or an ancestor.
		{"*.tmp", "x.tmp", false, true},
		{"*.tmp", "a/b/x.tmp", false, true},
		{"*.tmp", "a/b/x.tmpl", false, false},
		{"*.tmp", "a.tmp/y", false, true},
		{"cache", "cache", true, true},
		{"cache", "x/cache/y.bin", false, true},
		{"cache", "x/cachey/y.bin", false, false},
		{"cache", "x/mycache", false, false},
		{"x.log", "a/x.log", false, true},

		// * stays inside one element, ** crosses '/'.
		{"a/*", "a/b", false, true},
		{"a/*.go", "a/b/c.go", false, false},
		{"a/**.go", "a/b/c.go", false, true},
		{"**.go", "a/b/c.go", false, true},

		// Anchored: a '/' anywhere but the end anchors at the root.
		{"state/**", "state/a/b.json", false, true},
		{"state", "state/a/b.json", false, true},
		{"/state", "state/a/b.json", false, true},
		{"/state", "x/state/a.json", false, false},
		{"state/**", "state", true, false},
		{"state/**", "x/state/a", false, false},
		{"db/*.idx", "db/x.idx", false, true},
		{"db/*.idx", "sub/db/x.idx", false, false},
		{"db/*.idx", "db/sub/x.idx", false, false},
		{"/x.txt", "x.txt", false, true},
		{"/x.txt", "a/x.txt", false, false},
		{"a/b", "a/b/c/d", false, true},
		{"a/b", "a/bc", false, false},

		// ** matches zero or more elements (Globstar).
		{"**/x", "x", false, true},
		{"**/x", "a/b/x", false, true},
		{"**/x", "a/b/x/y", false, true},
		{"a/**/b", "a/b", false, true},
		{"a/**/b", "a/x/y/b", false, true},
		{"a/**/b", "ab", false, false},
		{"**/state/**", "zz/state/alarm.json", false, true},

		// Trailing '/': directories and what is under them, never a file.
		{"build/", "build", true, true},
		{"build/", "build", false, false},
		{"build/", "build/x.o", false, true},
		{"build/", "x/build/y/z.o", false, true},
		{"build/", "x/build", false, false},
		{"/build/", "x/build/y", false, false},
		{"/build/", "build/y", false, true},
		{"media/cam*/", "media/cam1/0001.mp4", false, true},
		{"media/cam*/", "media/cam1", false, false},

		// ?, classes, alternatives, escapes.
		{"?.txt", "a.txt", false, true},
		{"?.txt", "ab.txt", false, false},
		{"a?b", "a/b", false, false},
		{"[a-c].txt", "b.txt", false, true},
		{"[a-c].txt", "d.txt", false, false},
		{"[!x].txt", "x.txt", false, false},
		{"[!x].txt", "y.txt", false, true},
		{"*.{jpg,png}", "p/q.png", false, true},
		{"*.{jpg,png}", "p/q.gif", false, false},
		{`\*.txt`, "*.txt", false, true},
		{`\*.txt`, "a.txt", false, false},
		{`\!x`, "!x", false, true},
		{`\#notes`, "#notes", false, true},

		// Case-sensitive, no dotfile rule.
		{"*.LOG", "a.log", false, false},
		{"*", ".hidden", false, true},
		{"**", "a/b", false, true},

		// Never the root.
		{"*", "", true, false},
		{"*", ".", true, false},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.path, tt.isDir); got != tt.want {
			t.Errorf("Compile(%q).Match(%q, %v) = %v, want %v", tt.pattern, tt.path, tt.isDir, got, tt.want)
		}
	}
}

// TestMatchSelf checks that matching each element as the walk does (the
// entry alone, its ancestors known not to match) agrees with Match.
func TestMatchSelf(t *testing.T) {
	patterns := []string{"*.tmp", "cache", "state/**", "/state", "db/*.idx", "**/x", "build/", "a/**/b", "[!x]"}
	paths := []string{"x.tmp", "a/b/x.tmp", "x/cache/y", "state/a/b", "db/x.idx", "sub/db/x.idx", "q/x/r", "x", "build/o", "a/b/c", "y/z"}
	for _, ps := range patterns {
		p, err := Compile(ps)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			for _, isDir := range []bool{false, true} {
				walked := false
				elems := strings.Split(path, "/")
				for i := range elems {
					dir := i < len(elems)-1 || isDir
					if p.matchSelf(strings.Join(elems[:i+1], "/"), dir) {
						walked = true
						break
					}
				}
				if got := p.Match(path, isDir); got != walked {
					t.Errorf("%q: Match(%q, %v) = %v, walk says %v", ps, path, isDir, got, walked)
				}
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string // substring of the error
	}{
		{"empty", "", "empty pattern"},
		{"slash only", "/", `"/": no name to match`},
		{"two slashes", "//", `"//": no name to match`},
		{"unclosed brace", "{a,b", `compile pattern "{a,b": glob: syntax error`},
		{"unclosed class", "[ab", `compile pattern "[ab"`},
		{"negation", "!keep.txt", "negation"},
		{"negation anchored", "/!x", "negation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.pattern)
			if err == nil {
				t.Fatalf("Compile(%q) = %v, want error", tt.pattern, p)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile(%q) error %q, want it to contain %q", tt.pattern, err, tt.want)
			}
		})
	}
}

func TestPatternString(t *testing.T) {
	for _, s := range []string{"*.tmp", "/state/", "a/**/b"} {
		p, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.String(); got != s {
			t.Errorf("String() = %q, want %q", got, s)
		}
	}
}
