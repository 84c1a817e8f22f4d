package prioritize

import "github.com/ferrysync/ferry/scan"

// Rule is a pattern and where it came from.
type Rule struct {
	Pattern *scan.Pattern
	// Source names the rule's origin for messages: a flag such as
	// "--critical" or a position such as "rules.txt:3".
	Source string
}

// After orders two sets of entries: every match of Later is sent after
// every match of Earlier.
type After struct {
	Later, Earlier *scan.Pattern
	Source         string
}

// String returns the rule as a rules file spells it.
func (a After) String() string {
	return "after " + a.Later.String() + " " + a.Earlier.String()
}

// Rules is the set of rules a plan is made with. The zero value has none:
// everything is normal, ordered by size.
type Rules struct {
	Critical, Bulk, Exclude []Rule
	After                   []After
}

// Add appends o's rules to r, as when flags and rules files are combined.
func (r *Rules) Add(o Rules) {
	r.Critical = append(r.Critical, o.Critical...)
	r.Bulk = append(r.Bulk, o.Bulk...)
	r.Exclude = append(r.Exclude, o.Exclude...)
	r.After = append(r.After, o.After...)
}

// Excludes returns the exclude patterns, for scan.Options.
func (r Rules) Excludes() []*scan.Pattern {
	ps := make([]*scan.Pattern, len(r.Exclude))
	for i, x := range r.Exclude {
		ps[i] = x.Pattern
	}
	return ps
}
