package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/ferrysync/ferry/prioritize"
	"github.com/ferrysync/ferry/scan"
)

// ruleFlags are the ordering flags shared by plan and send. Globs are
// StringArray so a pattern such as *.{jpg,png} keeps its comma.
type ruleFlags struct {
	critical, bulk, exclude, files []string
}

func addRuleFlags(fs *pflag.FlagSet) *ruleFlags {
	r := &ruleFlags{}
	fs.StringArrayVar(&r.critical, "critical", nil, "send entries matching `GLOB` first (repeatable)")
	fs.StringArrayVar(&r.bulk, "bulk", nil, "send entries matching `GLOB` last (repeatable)")
	fs.StringArrayVar(&r.exclude, "exclude", nil, "skip entries matching `GLOB` (repeatable)")
	fs.StringArrayVar(&r.files, "rules", nil, "read rules from `FILE` (repeatable; see README)")
	return r
}

func (r *ruleFlags) rules() (prioritize.Rules, error) {
	var rules prioritize.Rules
	for _, name := range r.files {
		f, err := os.Open(name)
		if err != nil {
			return rules, usagef("rules: %v", err)
		}
		fr, err := prioritize.ParseRules(f, name)
		f.Close()
		if err != nil {
			return rules, usageError{err}
		}
		rules.Add(fr)
	}
	add := func(dst *[]prioritize.Rule, globs []string, flag string) error {
		for _, g := range globs {
			p, err := scan.Compile(g)
			if err != nil {
				return usagef("%s %q: %v", flag, g, err)
			}
			*dst = append(*dst, prioritize.Rule{Pattern: p, Source: flag})
		}
		return nil
	}
	if err := add(&rules.Critical, r.critical, "--critical"); err != nil {
		return rules, err
	}
	if err := add(&rules.Bulk, r.bulk, "--bulk"); err != nil {
		return rules, err
	}
	if err := add(&rules.Exclude, r.exclude, "--exclude"); err != nil {
		return rules, err
	}
	return rules, nil
}

// checkSource reports a missing or non-directory source as a usage error.
func checkSource(src string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return usagef("source: %v", err)
	}
	if !fi.IsDir() {
		return usagef("source %s is not a directory", src)
	}
	return nil
}

func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
