package mongodb

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// What the tools print on stderr, one timestamped line at a time (see
// ../shared/fixtures/mongodump/*.stderr.txt):
//
//	2026-11-27T02:50:11.781+0000	writing `db.coll` to "archive `FILE`"
//	2026-11-27T02:51:00.861+0000	[####....................]  db.coll  34601/200000  (17.3%)
//	2026-11-27T02:50:11.838+0000	done dumping `db.coll` (50 documents)
//	2026-11-27T02:50:11.838+0000	Failed: can't create session: ...
//	... 50 document(s) restored successfully. 0 document(s) failed to restore.

type lineKind int

const (
	lineOther lineKind = iota
	lineProgress
	lineDoneDumping
	lineFailed
	lineRestoreSummary
	lineFinishedRestoring
	lineNamespaceMissing
	lineWarning
)

// toolLine is one parsed stderr line.
type toolLine struct {
	Text      string    // the message, without the timestamp
	At        time.Time // the tool's timestamp (zero if the line had none)
	Kind      lineKind
	Namespace string // db.collection, unquoted
	Done      int64  // progress: done; done dumping / finished restoring: documents
	Total     int64  // progress: total
	Failed    int64  // restore summary / finished restoring: failures
	Reason    string // Failed: the reason
}

var (
	reTimestamp  = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4})\t(.*)$`)
	reProgress   = regexp.MustCompile(`^\s*\[[#.]*\]\s+(.+?)\s+(\d+)/(\d+)\s+\(\s*\d+(?:\.\d+)?%\)$`)
	reDone       = regexp.MustCompile(`^done dumping (.+) \((\d+) documents?\)$`)
	reFailed     = regexp.MustCompile(`^(?:Failed: |error connecting to host: |error parsing command line options: )(.*)$`)
	reSummary    = regexp.MustCompile(`^(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore\.$`)
	reFinished   = regexp.MustCompile(`^finished restoring (.+) \((\d+) documents?, (\d+) failures?\)$`)
	reNSMissing  = regexp.MustCompile(`^namespace with DB (.+) and collection (.+) does not exist$`)
	reContinuing = regexp.MustCompile(`^continuing through error: `)
)

// toolTimeFormat is how the tools stamp their lines.
const toolTimeFormat = "2006-01-02T15:04:05.000-0700"

func parseToolLine(s string) toolLine {
	l := toolLine{Text: strings.TrimRight(s, "\r")}
	if m := reTimestamp.FindStringSubmatch(l.Text); m != nil {
		l.At, _ = time.Parse(toolTimeFormat, m[1])
		l.Text = m[2]
	}
	switch {
	case matchInto(reProgress, l.Text, func(m []string) {
		l.Kind, l.Namespace, l.Done, l.Total = lineProgress, unquote(m[1]), atoi(m[2]), atoi(m[3])
	}):
	case matchInto(reDone, l.Text, func(m []string) {
		l.Kind, l.Namespace, l.Done = lineDoneDumping, unquote(m[1]), atoi(m[2])
	}):
	case matchInto(reFailed, l.Text, func(m []string) { l.Kind, l.Reason = lineFailed, m[1] }):
	case matchInto(reSummary, l.Text, func(m []string) {
		l.Kind, l.Done, l.Failed = lineRestoreSummary, atoi(m[1]), atoi(m[2])
	}):
	case matchInto(reFinished, l.Text, func(m []string) {
		l.Kind, l.Namespace, l.Done, l.Failed = lineFinishedRestoring, unquote(m[1]), atoi(m[2]), atoi(m[3])
	}):
	case matchInto(reNSMissing, l.Text, func(m []string) {
		l.Kind, l.Namespace = lineNamespaceMissing, m[1]+"."+m[2]
	}):
	case reContinuing.MatchString(l.Text):
		l.Kind = lineWarning
	}
	return l
}

func matchInto(re *regexp.Regexp, s string, f func([]string)) bool {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	f(m)
	return true
}

// unquote strips the quotes the tools put around names: `db.c`, 'db.c' or
// "db.c".
func unquote(s string) string {
	if len(s) >= 2 {
		switch first, last := s[0], s[len(s)-1]; {
		case first == '`' && last == '`', first == '\'' && last == '\'', first == '"' && last == '"':
			return s[1 : len(s)-1]
		}
	}
	return s
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
