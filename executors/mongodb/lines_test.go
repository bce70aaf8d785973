package mongodb

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"backupd/executors/testsupport/peers"
)

func fixtureLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(peers.Fixture(t, "mongodump/"+name))
	require.NoError(t, err)
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// The real mongodump's stderr, as the fixtures captured it.
func TestParseToolLinesOfTheRealMongodump(t *testing.T) {
	t.Parallel()
	var done []toolLine
	for _, s := range fixtureLines(t, "fixture_shop.stderr.txt") {
		l := parseToolLine(s)
		require.False(t, l.At.IsZero(), s)
		require.NotContains(t, l.Text, "\t")
		if l.Kind == lineDoneDumping {
			done = append(done, l)
		} else {
			require.Equal(t, lineOther, l.Kind, s)
			require.True(t, strings.HasPrefix(l.Text, "writing `fixture_shop."), l.Text)
		}
	}
	require.Len(t, done, 3)
	require.Equal(t, "fixture_shop.empty_collection", done[0].Namespace)
	require.Equal(t, int64(0), done[0].Done)
	require.Equal(t, "fixture_shop.customers", done[1].Namespace)
	require.Equal(t, int64(50), done[1].Done)
	require.Equal(t, int64(2000), done[2].Done)

	var progress []toolLine
	for _, s := range fixtureLines(t, "progress.stderr.txt") {
		if l := parseToolLine(s); l.Kind == lineProgress {
			progress = append(progress, l)
		}
	}
	require.Len(t, progress, 5)
	require.Equal(t, toolLine{Kind: lineProgress, Namespace: "progress_demo.events", Done: 34601, Total: 200000,
		Text: "[####....................]  progress_demo.events  34601/200000  (17.3%)", At: progress[0].At}, progress[0])
	require.Equal(t, int64(200000), progress[4].Done)
	require.Equal(t, "2026-11-27T02:51:00.861Z", progress[0].At.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}

func TestParseToolLines(t *testing.T) {
	t.Parallel()
	ts := "2026-11-27T02:50:11.781+0100\t"
	tests := []struct {
		line string
		want toolLine
	}{
		{ts + "Failed: can't create session: could not connect to server: auth error", toolLine{Kind: lineFailed, Reason: "can't create session: could not connect to server: auth error"}},
		{ts + "error connecting to host: could not connect to server: x", toolLine{Kind: lineFailed, Reason: "could not connect to server: x"}},
		{ts + "2050 document(s) restored successfully. 3 document(s) failed to restore.", toolLine{Kind: lineRestoreSummary, Done: 2050, Failed: 3}},
		{ts + "finished restoring `t.orders` (2000 documents, 1 failure)", toolLine{Kind: lineFinishedRestoring, Namespace: "t.orders", Done: 2000, Failed: 1}},
		{ts + "finished restoring t.c (1 document, 0 failures)", toolLine{Kind: lineFinishedRestoring, Namespace: "t.c", Done: 1}},
		{ts + "done dumping 'db.coll with space' (1 document)", toolLine{Kind: lineDoneDumping, Namespace: "db.coll with space", Done: 1}},
		// Several bars at once are right-aligned in a grid.
		{ts + "  [#####...................]   db.a  12/50  ( 24.0%)", toolLine{Kind: lineProgress, Namespace: "db.a", Done: 12, Total: 50}},
		{ts + "[########################]  db.coll with space  7/7  (100.0%)", toolLine{Kind: lineProgress, Namespace: "db.coll with space", Done: 7, Total: 7}},
		{ts + "namespace with DB shop and collection gone does not exist", toolLine{Kind: lineNamespaceMissing, Namespace: "shop.gone"}},
		{ts + "continuing through error: E11000 duplicate key error", toolLine{Kind: lineWarning}},
		{"no timestamp here", toolLine{Kind: lineOther}},
	}
	for _, tc := range tests {
		got := parseToolLine(tc.line)
		got.Text, got.At = "", got.At.UTC()
		if strings.HasPrefix(tc.line, "2026") {
			require.Equal(t, "2026-11-27T01:50:11Z", got.At.Format("2006-01-02T15:04:05Z07:00"), tc.line)
		}
		got.At = tc.want.At
		require.Equal(t, tc.want, got, tc.line)
	}
}
