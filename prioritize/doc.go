// Package prioritize turns a scan into an ordered transfer plan: which file
// goes first, and why.
//
// # Overview
//
// [Order] is a pure function of a scan and a set of [Rules]. Every file and
// symlink gets a [Class] from the first rule that matches it: critical if a
// critical rule matches (critical wins over bulk), else bulk if a bulk rule
// matches, else normal. Entries matching an exclude rule are dropped. The
// plan's Items are then sent in this order:
//
//  1. class: critical, then normal, then bulk;
//  2. explicit `after` dependencies: every match of an after rule's Later
//     pattern goes after every match of its Earlier pattern;
//  3. size, smallest first;
//  4. path, as a tie-break, so a plan is deterministic.
//
// Dependencies never override classes: an after rule that would make a
// critical file wait for a bulk one is an error, as is a cycle of rules; a
// rule already satisfied by the classes is fine. Each Item carries a Reason
// naming the rule that placed it. Directories are not items: they are
// listed in Plan.Dirs by path and sent after the items; their modes and
// times are applied at commit.
//
// # Rules files
//
// [ParseRules] reads one rule per line:
//
//	critical GLOB         send matches first
//	bulk GLOB             send matches last
//	exclude GLOB          do not send matches
//	after LATER EARLIER   send LATER's matches after EARLIER's
//
// Fields are separated by blanks; a backslash keeps the next character
// (`my\ file.txt`, `\#tag`). A '#' at the start of a field starts a
// comment, blank lines are ignored. GLOB is a [scan.Pattern].
package prioritize
