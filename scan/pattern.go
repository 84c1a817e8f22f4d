package scan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gobwas/glob"
)

// Pattern is a compiled include/exclude pattern. It is compiled once and is
// safe for concurrent use.
//
// The syntax is gitignore-like and case-sensitive:
//
//	syntax   matches
//	*        any run of characters except '/'
//	**       any run of characters, '/' included; "**/x" also matches "x"
//	?        one character except '/'
//	[a-z]    one character in the class; [!x] negates it
//	{a,b}    either alternative (no spaces)
//	\c       the character c itself
//
// A pattern without '/' matches the base name of the entry or of any of its
// ancestor directories: "*.tmp" matches "a/b/x.tmp", "cache" matches
// "x/cache/y.bin". A pattern with a '/' is anchored at the root (a leading
// '/' is allowed and stripped) and matches the entry's path or the path of
// any of its ancestors: "state/**", "state" and "/state" all match
// "state/a/b.json", while "db/*.idx" matches "db/x.idx" but not
// "sub/db/x.idx". A trailing '/' restricts the pattern to directories: it
// matches a directory and everything under it, never a plain file of that
// name; it does not by itself anchor the pattern ("build/" matches
// "x/build/y"). A leading '!' is rejected, since it reads as gitignore's
// negation, which ferry does not have: write "\!" for a literal '!'.
type Pattern struct {
	text     string // as given to Compile
	glob     *glob.Pattern
	anchored bool // matched against whole paths from the root
	dirOnly  bool // matches only directories (and what is under them)
}

// Compile parses a pattern; see [Pattern] for the syntax.
func Compile(p string) (*Pattern, error) {
	if p == "" {
		return nil, errors.New("compile pattern: empty pattern")
	}
	body, dirOnly := strings.CutSuffix(p, "/")
	anchored := strings.Contains(body, "/")
	body = strings.TrimPrefix(body, "/")
	switch {
	case body == "":
		return nil, fmt.Errorf("compile pattern %q: no name to match", p)
	case body[0] == '!':
		return nil, fmt.Errorf("compile pattern %q: negation with a leading ! is not supported (write \\! for a literal !)", p)
	}
	g, err := glob.Compiler{Separators: []rune{'/'}, Globstar: true}.Compile(body)
	if err != nil {
		return nil, fmt.Errorf("compile pattern %q: %w", p, err)
	}
	return &Pattern{text: p, glob: g, anchored: anchored, dirOnly: dirOnly}, nil
}

// String returns the text the pattern was compiled from.
func (p *Pattern) String() string { return p.text }

// Match reports whether the entry at path (slash-separated, relative to the
// root) or one of its ancestor directories matches. isDir tells whether the
// entry itself is a directory.
func (p *Pattern) Match(path string, isDir bool) bool {
	if path == "" || path == "." {
		return false
	}
	// Every proper prefix ending before a '/' is an ancestor directory.
	for i := 0; i < len(path); i++ {
		if path[i] == '/' && p.matchSelf(path[:i], true) {
			return true
		}
	}
	return p.matchSelf(path, isDir)
}

// matchSelf reports whether the entry at path matches, ignoring its
// ancestors. The walk uses it: it never descends into a matching directory,
// so the ancestors of whatever it visits are known not to match.
func (p *Pattern) matchSelf(path string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	if !p.anchored {
		path = path[strings.LastIndexByte(path, '/')+1:]
	}
	return p.glob.Match(path)
}
