package prioritize

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/scan"
)

// Item is one file or symlink of a plan.
type Item struct {
	scan.Entry
	Class Class
	// Reason says which rule placed the item, for people: for example
	// "critical state/** (--critical)", "bulk *.mp4 (rules.txt:2)" or
	// "normal (no rule)", followed by "; after db/*.dat (rules.txt:5)" for
	// each after rule that moved it behind a file it would otherwise have
	// preceded.
	Reason string
}

// Plan is an ordered transfer plan.
type Plan struct {
	// Items are the files and symlinks, in send order.
	Items []Item
	// Dirs are the directories, by path. They are sent after Items; their
	// modes and times are applied at commit.
	Dirs []scan.Entry
}

// noRule is the Reason of an item no class rule matched.
const noRule = "normal (no rule)"

// Order makes the plan for entries under r; see the package documentation
// for the order. Entries matching an exclude rule are dropped, whether or
// not the scan already dropped them. It fails if the after rules form a
// cycle or contradict the classes, naming the rules and two paths.
func Order(entries []scan.Entry, r Rules) (Plan, error) {
	var plan Plan
	cl := newClassifier(r)
	items := make([]Item, 0, len(entries))
	for _, e := range entries {
		if matchAny(r.Exclude, e) {
			continue
		}
		switch e.Kind {
		case scan.Dir:
			plan.Dirs = append(plan.Dirs, e)
		case scan.File, scan.Symlink:
			items = append(items, cl.item(e))
		default:
			return Plan{}, fmt.Errorf("order %s: unknown kind %v", e.Path, e.Kind)
		}
	}
	slices.SortFunc(plan.Dirs, func(a, b scan.Entry) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(items, compareItems)
	items, err := applyAfter(items, r.After)
	if err != nil {
		return Plan{}, err
	}
	plan.Items = items
	return plan, nil
}

// compareItems orders items by class, size and path: the order when no
// after rule intervenes.
func compareItems(a, b Item) int {
	switch {
	case a.Class != b.Class:
		return int(a.Class) - int(b.Class)
	case a.Size < b.Size:
		return -1
	case a.Size > b.Size:
		return 1
	}
	return strings.Compare(a.Path, b.Path)
}

func matchAny(rules []Rule, e scan.Entry) bool {
	for _, x := range rules {
		if x.Pattern.Match(e.Path, e.Kind == scan.Dir) {
			return true
		}
	}
	return false
}

// classifier assigns classes, with each rule's Reason built once.
type classifier struct {
	critical, bulk   []Rule
	critWhy, bulkWhy []string
}

func newClassifier(r Rules) *classifier {
	c := &classifier{critical: r.Critical, bulk: r.Bulk}
	for _, x := range r.Critical {
		c.critWhy = append(c.critWhy, reason(Critical, x))
	}
	for _, x := range r.Bulk {
		c.bulkWhy = append(c.bulkWhy, reason(Bulk, x))
	}
	return c
}

func reason(c Class, x Rule) string {
	return fmt.Sprintf("%s %s (%s)", c, x.Pattern, x.Source)
}

// item classifies e: critical wins over bulk, the first matching rule of
// a class gives the reason.
func (c *classifier) item(e scan.Entry) Item {
	for i, x := range c.critical {
		if x.Pattern.Match(e.Path, false) {
			return Item{Entry: e, Class: Critical, Reason: c.critWhy[i]}
		}
	}
	for i, x := range c.bulk {
		if x.Pattern.Match(e.Path, false) {
			return Item{Entry: e, Class: Bulk, Reason: c.bulkWhy[i]}
		}
	}
	return Item{Entry: e, Class: Normal, Reason: noRule}
}
