// Package tool is what the stand-in mongodump and mongorestore share: the
// command line as the MongoDB Database Tools parse it (go-flags style), their
// timestamped stderr log, their progress bars, the --config file and the
// connection with its error messages.
package tool

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is how an option takes its value.
type Kind int

const (
	Bool     Kind = iota // --gzip
	String               // --db=NAME, --db NAME, -d NAME, -dNAME
	Optional             // --archive (takes a value only with =, else Default)
	Int                  // --numParallelCollections=4
	Repeat               // -v, -vvv, --verbose, --verbose=3
	List                 // --nsInclude=A --nsInclude=B
)

// Option is one command-line option.
type Option struct {
	Long    string
	Short   byte
	Kind    Kind
	Default string // value of an Optional given without =, or of an absent Int
	Help    string
}

// Parsed holds what the command line set.
type Parsed struct {
	specs  []Option
	values map[string][]string
	counts map[string]int
}

// parse reads args. Errors read like the real tools' (go-flags) errors.
func parse(specs []Option, args []string) (*Parsed, []string, error) {
	p := &Parsed{specs: specs, values: map[string][]string{}, counts: map[string]int{}}
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			positional = append(positional, args[i+1:]...)
			return p, positional, nil
		case strings.HasPrefix(arg, "--"):
			name, value, hasValue := strings.Cut(arg[2:], "=")
			spec, ok := p.long(name)
			if !ok {
				return nil, nil, fmt.Errorf("unknown flag `%s'", name)
			}
			next := func() (string, bool) {
				if i+1 < len(args) {
					i++
					return args[i], true
				}
				return "", false
			}
			if err := p.set(spec, "--"+name, value, hasValue, next); err != nil {
				return nil, nil, err
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			for j := 1; j < len(arg); j++ {
				spec, ok := p.short(arg[j])
				if !ok {
					return nil, nil, fmt.Errorf("unknown flag `%c'", arg[j])
				}
				if spec.Kind == Bool || spec.Kind == Repeat {
					p.counts[spec.Long]++
					continue
				}
				rest := strings.TrimPrefix(arg[j+1:], "=")
				next := func() (string, bool) {
					if i+1 < len(args) {
						i++
						return args[i], true
					}
					return "", false
				}
				if err := p.set(spec, "-"+string(arg[j]), rest, rest != "", next); err != nil {
					return nil, nil, err
				}
				break
			}
		default:
			positional = append(positional, arg)
		}
	}
	return p, positional, nil
}

func (p *Parsed) set(spec Option, flag, value string, hasValue bool, next func() (string, bool)) error {
	switch spec.Kind {
	case Bool:
		if hasValue {
			return fmt.Errorf("bool flag `%s' cannot have an argument", flag)
		}
		p.counts[spec.Long]++
	case Repeat:
		if hasValue {
			n, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("invalid argument for flag `%s' (expected int): %v", flag, err)
			}
			p.counts[spec.Long] = n
			return nil
		}
		p.counts[spec.Long]++
	case Optional:
		if !hasValue {
			value = spec.Default
		}
		p.values[spec.Long] = []string{value}
	default:
		if !hasValue {
			v, ok := next()
			if !ok {
				return fmt.Errorf("expected argument for flag `%s'", flag)
			}
			value = v
		}
		if spec.Kind == Int {
			if _, err := strconv.Atoi(value); err != nil {
				return fmt.Errorf("invalid argument for flag `%s' (expected int): %v", flag, err)
			}
		}
		if spec.Kind == List {
			p.values[spec.Long] = append(p.values[spec.Long], value)
		} else {
			p.values[spec.Long] = []string{value}
		}
	}
	return nil
}

func (p *Parsed) long(name string) (Option, bool) {
	for _, s := range p.specs {
		if s.Long == name {
			return s, true
		}
	}
	return Option{}, false
}

func (p *Parsed) short(c byte) (Option, bool) {
	for _, s := range p.specs {
		if s.Short != 0 && s.Short == c {
			return s, true
		}
	}
	return Option{}, false
}

// String is an option's value ("" when absent).
func (p *Parsed) String(name string) string {
	if v := p.values[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// Strings is a List option's values.
func (p *Parsed) Strings(name string) []string { return p.values[name] }

// Bool reports whether a Bool option was given.
func (p *Parsed) Bool(name string) bool { return p.counts[name] > 0 }

// Count is how many times a Repeat was given (or its numeric value).
func (p *Parsed) Count(name string) int { return p.counts[name] }

// Int is an Int option's value, or its default.
func (p *Parsed) Int(name string) int {
	v := p.String(name)
	if v == "" {
		spec, _ := p.long(name)
		v = spec.Default
	}
	n, _ := strconv.Atoi(v)
	return n
}

// usage lists the options (for --help).
func usage(tool, synopsis string, specs []Option) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage:\n  %s %s\n\n", tool, synopsis)
	for _, s := range specs {
		flag := "    --" + s.Long
		if s.Short != 0 {
			flag = fmt.Sprintf("-%c, --%s", s.Short, s.Long)
		}
		switch s.Kind {
		case String, Int, List:
			flag += "=<value>"
		case Optional:
			flag += "=[<value>]"
		}
		fmt.Fprintf(&b, "  %-44s %s\n", flag, s.Help)
	}
	return b.String()
}

// shortUsage is the hint the tools print after a command-line error.
func shortUsage(tool string) string { return fmt.Sprintf("try '%s --help' for more information", tool) }
