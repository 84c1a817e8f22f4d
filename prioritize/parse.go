package prioritize

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferrysync/ferry/scan"
)

// maxErrors is how many bad lines ParseRules reports before giving up.
const maxErrors = 10

// ParseRules reads a rules file (see the package documentation for the
// syntax). name is used in Sources and messages: rules from line 3 of
// "rules.txt" have Source "rules.txt:3". Every bad line is reported, up to
// a limit, as "rules.txt:4: unknown rule "foo"". Lines are limited to
// 64 KiB.
func ParseRules(r io.Reader, name string) (Rules, error) {
	var (
		rules Rules
		errs  []error
	)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		src := fmt.Sprintf("%s:%d", name, line)
		if err := rules.parseLine(text, src); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src, err))
			if len(errs) == maxErrors {
				errs = append(errs, fmt.Errorf("%s: too many errors", name))
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = errors.New("line too long")
		}
		errs = append(errs, fmt.Errorf("%s:%d: %w", name, line+1, err))
	}
	if len(errs) > 0 {
		return Rules{}, errors.Join(errs...)
	}
	return rules, nil
}

// parseLine adds the rule on one line, if any.
func (r *Rules) parseLine(text, src string) error {
	f := fields(text)
	if len(f) == 0 {
		return nil
	}
	kw, args := f[0], f[1:]
	switch kw {
	case "critical", "bulk", "exclude":
		if len(args) != 1 {
			return fmt.Errorf("%s wants 1 pattern, got %d", kw, len(args))
		}
		p, err := scan.Compile(args[0])
		if err != nil {
			return err
		}
		rule := Rule{Pattern: p, Source: src}
		switch kw {
		case "critical":
			r.Critical = append(r.Critical, rule)
		case "bulk":
			r.Bulk = append(r.Bulk, rule)
		default:
			r.Exclude = append(r.Exclude, rule)
		}
	case "after":
		if len(args) != 2 {
			return fmt.Errorf("after wants 2 patterns, LATER EARLIER, got %d", len(args))
		}
		later, err := scan.Compile(args[0])
		if err != nil {
			return err
		}
		earlier, err := scan.Compile(args[1])
		if err != nil {
			return err
		}
		r.After = append(r.After, After{Later: later, Earlier: earlier, Source: src})
	default:
		return fmt.Errorf("unknown rule %q", abbrev(kw))
	}
	return nil
}

// fields splits a line at blanks. A backslash keeps the character after it
// in the field, the backslash included, so the glob sees the escape. A '#'
// that starts a field starts a comment.
func fields(line string) []string {
	var out []string
	i := 0
	for {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i == len(line) || line[i] == '#' {
			return out
		}
		start := i
		for i < len(line) && !isBlank(line[i]) {
			if line[i] == '\\' && i+1 < len(line) {
				i++
			}
			i++
		}
		out = append(out, line[start:i])
	}
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
