package mongotools_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson"

	"backupd/executors/mongodb/mongoarchive"
	"backupd/executors/testsupport/peers"
)

type result struct {
	stdout, stderr string
	code           int
}

func (r result) lines() []string {
	s := strings.TrimRight(r.stderr, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func runTool(t *testing.T, stdin io.Reader, tool string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// archiveDocs reads a (gzipped) archive: documents per collection and the
// prelude.
func archiveDocs(t *testing.T, data []byte, gz bool) (mongoarchive.Prelude, map[string][]bson.Raw) {
	t.Helper()
	var in io.Reader = bytes.NewReader(data)
	if gz {
		zr, err := gzip.NewReader(in)
		require.NoError(t, err)
		in = zr
	}
	r, err := mongoarchive.NewReader(in)
	require.NoError(t, err)
	docs := map[string][]bson.Raw{}
	for {
		it, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if !it.End {
			docs[it.Namespace.Collection] = append(docs[it.Namespace.Collection], append(bson.Raw(nil), it.Document...))
		}
	}
	return r.Prelude(), docs
}

// fixtureTemplates turns the real mongodump's stderr (the fixtures) into
// patterns: the timestamp, numbers, names and paths vary, the rest of each
// line must be the same.
func fixtureTemplates(t *testing.T) []*regexp.Regexp {
	t.Helper()
	var out []*regexp.Regexp
	seen := map[string]bool{}
	for _, f := range []string{"fixture_shop.stderr.txt", "progress.stderr.txt"} {
		b, err := os.ReadFile(peers.Fixture(t, "mongodump/"+f))
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			p := templateOf(line)
			if !seen[p] {
				seen[p] = true
				out = append(out, regexp.MustCompile(p))
			}
		}
	}
	return out
}

var (
	reStamp    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}\t`)
	reQuoted   = regexp.MustCompile("`[^`]+`")
	reBar      = regexp.MustCompile(`^\[[#.]{24}\]`)
	reBarName  = regexp.MustCompile(`^(\S+)  (\S+)  `)
	reDigits   = regexp.MustCompile(`[0-9]+`)
	placeholer = "\x00"
)

func templateOf(line string) string {
	require := func(ok bool) {
		if !ok {
			panic("fixture line without a timestamp: " + line)
		}
	}
	require(reStamp.MatchString(line))
	msg := reStamp.ReplaceAllString(line, "")
	var parts []string // regexp pieces, in order, for placeholders
	msg = reQuoted.ReplaceAllStringFunc(msg, func(string) string { parts = append(parts, "`[^`]+`"); return placeholer })
	if reBar.MatchString(msg) {
		msg = reBar.ReplaceAllString(msg, placeholer)
		parts = append([]string{`\[[#.]{24}\]`}, parts...)
		msg = reBarName.ReplaceAllStringFunc(msg, func(s string) string {
			m := reBarName.FindStringSubmatch(s)
			parts = append(parts, `\S+`)
			return m[1] + "  " + placeholer + "  "
		})
	}
	msg = regexp.QuoteMeta(msg)
	msg = reDigits.ReplaceAllString(msg, `[0-9]+`)
	for _, p := range parts {
		msg = strings.Replace(msg, placeholer, p, 1)
	}
	return `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}\t` + msg + `$`
}

func matchesTemplate(templates []*regexp.Regexp, line string) *regexp.Regexp {
	for _, re := range templates {
		if re.MatchString(line) {
			return re
		}
	}
	return nil
}
