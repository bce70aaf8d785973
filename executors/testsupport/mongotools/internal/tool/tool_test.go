package tool

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseLikeGoFlags(t *testing.T) {
	t.Parallel()
	specs := append(append([]Option{}, ConnectionOptions...),
		Option{Long: "nsInclude", Kind: List}, Option{Long: "numParallelCollections", Short: 'j', Kind: Int, Default: "4"})
	p, pos, err := parse(specs, []string{"--db=shop", "-c", "orders", "--gzip", "--archive", "-vvv", "--nsInclude=a.*", "--nsInclude", "b.c", "-j2", "rest"})
	require.NoError(t, err)
	require.Equal(t, []string{"rest"}, pos)
	require.Equal(t, "shop", p.String("db"))
	require.Equal(t, "orders", p.String("collection"))
	require.True(t, p.Bool("gzip"))
	require.Equal(t, "-", p.String("archive"), "an optional value without = means stdout/stdin")
	require.Equal(t, 3, p.Count("verbose"))
	require.Equal(t, []string{"a.*", "b.c"}, p.Strings("nsInclude"))
	require.Equal(t, 2, p.Int("numParallelCollections"))
	require.Equal(t, 3, verbosityOf(p))

	p, _, err = parse(specs, []string{"--archive=f.gz", "--verbose=2", "--quiet"})
	require.NoError(t, err)
	require.Equal(t, "f.gz", p.String("archive"))
	require.Equal(t, 4, p.Int("numParallelCollections"))
	require.Equal(t, -1, verbosityOf(p))

	for args, msg := range map[string]string{
		"--nope":                     "unknown flag `nope'",
		"-x":                         "unknown flag `x'",
		"--db":                       "expected argument for flag `--db'",
		"--gzip=yes":                 "bool flag `--gzip' cannot have an argument",
		"--numParallelCollections=x": "invalid argument for flag `--numParallelCollections' (expected int)",
	} {
		_, _, err := parse(specs, strings.Fields(args))
		require.ErrorContains(t, err, msg, args)
	}
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0B", 512: "512B", 1023: "1023B", 1024: "1.00KB", 1536: "1.50KB", 12_900_000: "12.3MB", 104 << 30: "104GB"} {
		require.Equal(t, want, FormatBytes(n), n)
	}
}

// Several bars form a right-aligned grid, each row its own log line, and a
// detached bar is drawn a last time.
func TestBarsGrid(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log := newLogger(&out, 0)
	bars := NewBars(log, time.Hour, 24, false)
	a, b := NewCounter(200000), NewCounter(50)
	a.Add(34601)
	b.Add(50)
	bars.Attach("db.events", a)
	bars.Attach("db.c", b)
	bars.renderAll()
	bars.Detach("db.c")
	stamp := `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}\t`
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	require.Len(t, lines, 4, out.String())
	require.Regexp(t, regexp.MustCompile("^"+stamp+regexp.QuoteMeta("[####....................]  db.events  34601/200000   (17.3%)")+"$"), lines[0])
	require.Regexp(t, regexp.MustCompile("^"+stamp+regexp.QuoteMeta("[########################]       db.c         50/50  (100.0%)")+"$"), lines[1])
	require.Regexp(t, "^"+stamp+"$", lines[2])
	require.Regexp(t, regexp.MustCompile("^"+stamp+regexp.QuoteMeta("[########################]  db.c  50/50  (100.0%)")+"$"), lines[3])
}
