package scan

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// checkTarget reports why the symlink at rel, whose link text is target,
// must not be synced, or nil if it may.
//
// A target must be relative and, resolved lexically against the link's
// directory, stay inside the tree and out of .ferry. Lexical resolution
// alone is not enough once other links exist: with "s -> ." the target
// "s/.." looks like the root but is its parent. So ".." is allowed only
// before the first name, where it climbs real directories (the walk never
// follows links, so the link's own directory is real); after that the
// target only descends, and every link it passes through obeys the same
// rule.
func checkTarget(rel, target string) error {
	if target == "" {
		return errors.New("symlink target is empty")
	}
	t := filepath.ToSlash(target)
	if filepath.IsAbs(target) || filepath.VolumeName(target) != "" || strings.HasPrefix(t, "/") {
		return fmt.Errorf("symlink target %q is absolute", target)
	}
	resolved := path.Join(path.Dir(rel), t)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("symlink target %q leaves the tree", target)
	}
	for el := range strings.SplitSeq(resolved, "/") {
		if el == stateDir {
			return fmt.Errorf("symlink target %q points into %s", target, stateDir)
		}
	}
	named := false
	for el := range strings.SplitSeq(t, "/") {
		switch el {
		case "", ".":
		case "..":
			if named {
				return fmt.Errorf("symlink target %q has .. after a name, which could leave the tree through another link", target)
			}
		default:
			named = true
		}
	}
	return nil
}
