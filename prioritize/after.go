package prioritize

import (
	"errors"
	"fmt"
	"strings"
)

// applyAfter reorders items, sorted by compareItems, to satisfy the after
// rules. It is Kahn's algorithm over a graph with one barrier node per
// rule: each Earlier match has an edge to the barrier, the barrier has an
// edge to each Later match. That makes the graph O(matches) instead of
// O(earlier × later). Among the items whose predecessors are all sent, the
// smallest by (class, size, path) goes next; since items are sorted, that is
// the smallest index.
//
// Classes stay in order: a rule whose Later matches include a class before
// one of its Earlier matches is rejected, so an item only ever waits for
// items of its own class or an earlier one.
func applyAfter(items []Item, rules []After) ([]Item, error) {
	g, err := newAfterGraph(items, rules)
	if err != nil || g.edges == 0 {
		return items, err
	}
	order := g.sort()
	if len(order) < len(items) {
		return nil, g.cycle(order)
	}
	g.explain()
	out := make([]Item, len(items))
	for k, i := range order {
		out[k] = items[i]
	}
	return out, nil
}

// afterGraph is the dependency graph of the after rules over items.
type afterGraph struct {
	items []Item
	rules []After
	// earlier[j] and later[j] are the indexes of rule j's matches,
	// ascending; both empty if either side matched nothing.
	earlier, later [][]int32
	edges          int
	// For Kahn: pending[j] counts rule j's Earlier matches not yet sent;
	// indeg[i] counts the rules item i waits for.
	pending, indeg []int32
}

func newAfterGraph(items []Item, rules []After) (*afterGraph, error) {
	g := &afterGraph{
		items:   items,
		rules:   rules,
		earlier: make([][]int32, len(rules)),
		later:   make([][]int32, len(rules)),
		pending: make([]int32, len(rules)),
		indeg:   make([]int32, len(items)),
	}
	for j, a := range rules {
		var earlier, later []int32
		for i := range items {
			p := items[i].Path
			e, l := a.Earlier.Match(p, false), a.Later.Match(p, false)
			if e && l {
				return nil, fmt.Errorf("%s (%s): %q matches both patterns", a, a.Source, p)
			}
			if e {
				earlier = append(earlier, int32(i))
			} else if l {
				later = append(later, int32(i))
			}
		}
		if len(earlier) == 0 || len(later) == 0 {
			continue
		}
		// Sorted by class first: the first Later match has the earliest
		// class, the last Earlier match the latest.
		if lo, hi := items[later[0]], items[earlier[len(earlier)-1]]; lo.Class < hi.Class {
			return nil, fmt.Errorf("%s (%s) contradicts the classes: %s %q would wait for %s %q",
				a, a.Source, lo.Class, lo.Path, hi.Class, hi.Path)
		}
		g.earlier[j], g.later[j] = earlier, later
		g.pending[j] = int32(len(earlier))
		for _, i := range later {
			g.indeg[i]++
		}
		g.edges += len(earlier) + len(later)
	}
	return g, nil
}

// sort returns the item indexes in send order; fewer than all of them if
// there is a cycle.
func (g *afterGraph) sort() []int32 {
	// next[i] lists the rules item i is an Earlier match of (CSR form).
	start := make([]int32, len(g.items)+1)
	for _, es := range g.earlier {
		for _, i := range es {
			start[i+1]++
		}
	}
	for i := range g.items {
		start[i+1] += start[i]
	}
	next := make([]int32, start[len(g.items)])
	fill := append([]int32(nil), start[:len(g.items)]...)
	for j, es := range g.earlier {
		for _, i := range es {
			next[fill[i]] = int32(j)
			fill[i]++
		}
	}

	var ready minHeap // ascending indexes already form a heap
	for i, d := range g.indeg {
		if d == 0 {
			ready = append(ready, int32(i))
		}
	}
	order := make([]int32, 0, len(g.items))
	for len(ready) > 0 {
		i := ready.pop()
		order = append(order, i)
		for _, j := range next[start[i]:start[i+1]] {
			if g.pending[j]--; g.pending[j] > 0 {
				continue
			}
			for _, l := range g.later[j] {
				if g.indeg[l]--; g.indeg[l] == 0 {
					ready.push(l)
				}
			}
		}
	}
	return order
}

// cycle describes a cycle among the items sort could not place. Each of
// them waits for a rule whose barrier is still closed, which waits for an
// unsent Earlier match: following those links backwards must come round.
func (g *afterGraph) cycle(order []int32) error {
	sent := make([]bool, len(g.items))
	for _, i := range order {
		sent[i] = true
	}
	waitsOn := make(map[int32][]int, len(g.items)-len(order)) // item -> rules it is a Later match of
	for j, ls := range g.later {
		for _, l := range ls {
			if !sent[l] {
				waitsOn[l] = append(waitsOn[l], j)
			}
		}
	}
	type step struct {
		later, earlier int32
		rule           int
	}
	var steps []step
	seen := make(map[int32]int)
	cur := int32(-1)
	for i := range g.items {
		if !sent[i] {
			cur = int32(i)
			break
		}
	}
	for {
		if k, ok := seen[cur]; ok {
			steps = steps[k:]
			break
		}
		seen[cur] = len(steps)
		s := step{later: cur, earlier: -1, rule: -1}
		for _, j := range waitsOn[cur] {
			if g.pending[j] > 0 {
				s.rule = j
				break
			}
		}
		for _, e := range g.earlier[s.rule] {
			if !sent[e] {
				s.earlier = e
				break
			}
		}
		steps = append(steps, s)
		cur = s.earlier
	}
	var b strings.Builder
	b.WriteString("after rules form a cycle: ")
	for k, s := range steps {
		if k > 0 {
			b.WriteString(", ")
		}
		a := g.rules[s.rule]
		fmt.Fprintf(&b, "%q waits for %q (%s, %s)", g.items[s.later].Path, g.items[s.earlier].Path, a, a.Source)
	}
	return errors.New(b.String())
}

// explain appends to the Reason of each Later match the rules that moved it
// behind an Earlier match it would otherwise have preceded.
func (g *afterGraph) explain() {
	for j, ls := range g.later {
		if len(ls) == 0 {
			continue
		}
		last := g.earlier[j][len(g.earlier[j])-1]
		a := g.rules[j]
		suffix := "; after " + a.Earlier.String() + " (" + a.Source + ")"
		for _, l := range ls {
			if l > last {
				break
			}
			g.items[l].Reason += suffix
		}
	}
}
