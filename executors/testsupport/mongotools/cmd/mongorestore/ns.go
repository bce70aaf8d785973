package main

import (
	"fmt"
	"regexp"
	"strings"
)

// Namespace patterns as mongorestore reads them: "*" matches anything in
// --nsInclude/--nsExclude, "$name$" is a variable in --nsFrom/--nsTo, and
// a backslash escapes the next character ("\*", "\$", "\\").

type matcher struct{ res []*regexp.Regexp }

func newMatcher(patterns []string) (*matcher, error) {
	m := &matcher{}
	for _, p := range patterns {
		var b strings.Builder
		b.WriteString("^")
		escaped := false
		for _, r := range p {
			switch {
			case escaped:
				b.WriteString(regexp.QuoteMeta(string(r)))
				escaped = false
			case r == '\\':
				escaped = true
			case r == '*':
				b.WriteString(".*")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		if escaped {
			return nil, fmt.Errorf("%q ends with an escape character", p)
		}
		b.WriteString("$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, err
		}
		m.res = append(m.res, re)
	}
	return m, nil
}

func (m *matcher) has(ns string) bool {
	for _, re := range m.res {
		if re.MatchString(ns) {
			return true
		}
	}
	return false
}

type rename struct {
	from *regexp.Regexp
	to   []toPart
}

type toPart struct {
	literal string
	varName string
}

type renamer struct{ rules []rename }

func newRenamer(from, to []string) (*renamer, error) {
	if len(from) != len(to) {
		return nil, fmt.Errorf("--nsFrom and --nsTo arguments must be specified an equal number of times")
	}
	r := &renamer{}
	for i := range from {
		fromParts, err := splitPattern(from[i])
		if err != nil {
			return nil, err
		}
		toParts, err := splitPattern(to[i])
		if err != nil {
			return nil, err
		}
		vars := map[string]bool{}
		var b strings.Builder
		b.WriteString("^")
		for _, part := range fromParts {
			if part.varName != "" {
				if vars[part.varName] {
					return nil, fmt.Errorf("variable $%s$ appears twice in %q", part.varName, from[i])
				}
				vars[part.varName] = true
				b.WriteString("(?P<" + part.varName + ">.*?)")
				continue
			}
			b.WriteString(regexp.QuoteMeta(part.literal))
		}
		b.WriteString("$")
		for _, part := range toParts {
			if part.varName != "" && !vars[part.varName] {
				return nil, fmt.Errorf("variable $%s$ of %q is not in %q", part.varName, to[i], from[i])
			}
		}
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, err
		}
		r.rules = append(r.rules, rename{from: re, to: toParts})
	}
	return r, nil
}

func splitPattern(p string) ([]toPart, error) {
	var parts []toPart
	var lit strings.Builder
	inVar, escaped := false, false
	var name strings.Builder
	for _, c := range p {
		switch {
		case escaped:
			lit.WriteRune(c)
			escaped = false
		case c == '\\' && !inVar:
			escaped = true
		case c == '$' && !inVar:
			if lit.Len() > 0 {
				parts = append(parts, toPart{literal: lit.String()})
				lit.Reset()
			}
			inVar = true
		case c == '$':
			if name.Len() == 0 {
				return nil, fmt.Errorf("empty variable name in %q", p)
			}
			parts = append(parts, toPart{varName: name.String()})
			name.Reset()
			inVar = false
		case inVar:
			name.WriteRune(c)
		default:
			lit.WriteRune(c)
		}
	}
	if inVar || escaped {
		return nil, fmt.Errorf("unterminated variable or escape in %q", p)
	}
	if lit.Len() > 0 {
		parts = append(parts, toPart{literal: lit.String()})
	}
	return parts, nil
}

// get maps a namespace through the first rule that matches it.
func (r *renamer) get(ns string) string {
	for _, rule := range r.rules {
		m := rule.from.FindStringSubmatch(ns)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, part := range rule.to {
			if part.varName == "" {
				b.WriteString(part.literal)
				continue
			}
			b.WriteString(m[rule.from.SubexpIndex(part.varName)])
		}
		return b.String()
	}
	return ns
}
