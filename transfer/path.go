package transfer

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// StateDir is the receiver's state directory inside a namespace. No entry
// on the wire may name it.
const StateDir = ".ferry"

// maxNameLen is the longest path element accepted, the common file system
// limit.
const maxNameLen = 255

// ValidPath checks a path received from a peer: relative, slash-separated,
// clean, at most MaxPathLen bytes, no element longer than 255 bytes, no
// control characters or backslashes, and nothing under the state directory.
// It is the first line of defence; the receiver also opens every path
// through os.Root.
func ValidPath(p string) error {
	refuse := func(why string) error {
		return fmt.Errorf("path %q: %s: %w", p, why, ErrRefused)
	}
	switch {
	case p == "":
		return refuse("empty")
	case len(p) > MaxPathLen:
		return refuse(fmt.Sprintf("longer than %d bytes", MaxPathLen))
	case p[0] == '/':
		return refuse("absolute")
	}
	if !utf8.ValidString(p) {
		return refuse("not UTF-8")
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return refuse("control character")
		} else if c == '\\' {
			return refuse("backslash")
		}
	}
	for _, elem := range strings.Split(p, "/") {
		switch {
		case elem == "":
			return refuse("empty element")
		case elem == "." || elem == "..":
			return refuse(fmt.Sprintf("%q element", elem))
		case len(elem) > maxNameLen:
			return refuse(fmt.Sprintf("element longer than %d bytes", maxNameLen))
		case elem == StateDir:
			return refuse("names the receiver's state directory")
		}
	}
	return nil
}

// ValidLinkTarget checks a symlink target received from a peer: relative,
// with ".." only as leading elements, and resolving (lexically, from the
// link's directory) to a path inside the tree that is not the state
// directory. Because ".." may only lead, a chain of links cannot climb out
// through another link's directory.
func ValidLinkTarget(link, target string) error {
	refuse := func(why string) error {
		return fmt.Errorf("symlink %q -> %q: %s: %w", link, target, why, ErrRefused)
	}
	switch {
	case target == "":
		return refuse("empty target")
	case len(target) > MaxPathLen:
		return refuse(fmt.Sprintf("target longer than %d bytes", MaxPathLen))
	case target[0] == '/':
		return refuse("absolute target")
	case strings.ContainsAny(target, "\x00\\"):
		return refuse("NUL or backslash in target")
	}
	up := 0
	for i, elem := range strings.Split(target, "/") {
		switch {
		case elem == "..":
			if up != i {
				return refuse(`".." after a name`)
			}
			up++
		case elem == "" || elem == ".":
			return refuse("target is not clean")
		}
	}
	resolved := path.Join(path.Dir(link), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return refuse("target leaves the tree")
	}
	if resolved == StateDir || strings.HasPrefix(resolved, StateDir+"/") {
		return refuse("target is the receiver's state directory")
	}
	return nil
}
