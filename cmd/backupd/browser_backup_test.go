package main

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/httpapi"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// liveSample is what the operation page shows at one moment.
type liveSample struct {
	At        time.Time     `json:"-"`
	Status    string        `json:"status"`
	Progress  string        `json:"progress"` // progress-bar data-value
	Lines     int           `json:"lines"`
	Following string        `json:"following"`
	Live      string        `json:"live"`
	Scroll    scrollMetrics `json:"scroll"`
	Jump      bool          `json:"jump"`
}

const liveSampleJS = `(() => {
	const q = (id) => document.querySelector('[data-testid="' + id + '"]');
	const term = q('terminal-log'), body = q('terminal-body'), bar = q('progress-bar'), st = q('operation-status');
	return {
		status: st ? st.dataset.status : '',
		progress: bar ? (bar.dataset.value ?? '') : '',
		lines: term ? Number(term.dataset.lineCount) : 0,
		following: term ? term.dataset.following : '',
		live: term ? term.dataset.live : '',
		scroll: body ? {top: body.scrollTop, height: body.scrollHeight, client: body.clientHeight} : {top: 0, height: 0, client: 0},
		jump: !!q('terminal-jump'),
	};
})()`

// liveWatch samples the operation page while a test waits on it.
type liveWatch struct {
	b       *browser
	samples []liveSample
}

func (w *liveWatch) sample() liveSample {
	w.b.t.Helper()
	var s liveSample
	w.b.eval(liveSampleJS, &s)
	s.At = time.Now()
	w.samples = append(w.samples, s)
	return s
}

// history lists the distinct states the page went through.
func (w *liveWatch) history() string {
	var out []string
	var last liveSample
	for i, s := range w.samples {
		if i > 0 && s.Status == last.Status && s.Progress == last.Progress && s.Lines == last.Lines {
			continue
		}
		last = s
		out = append(out, fmt.Sprintf("  %s %s progress=%q lines=%d following=%s", s.At.Format("15:04:05.000"), s.Status, s.Progress, s.Lines, s.Following))
	}
	return strings.Join(out, "\n")
}

// until samples every 150 ms until cond holds.
func (w *liveWatch) until(what string, timeout time.Duration, cond func(liveSample) bool) liveSample {
	w.b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := w.sample()
		if cond(s) {
			return s
		}
		// A page that stopped polling will show nothing new.
		if s.Live == "false" || time.Now().After(deadline) {
			w.b.t.Fatalf("waited %s for %s; the page shows %+v; it showed:\n%s", time.Since(deadline.Add(-timeout)).Round(time.Millisecond), what, s, w.history())
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// Issue 3 in Chromium, as a new user: "Back up now" with a source and a
// destination, the terminal log filling (following the bottom, staying put
// while the user reads further up, following again at the bottom), the
// progress bar moving, the page polling at the configured interval; then
// the history: the operation completed with its size, filters by status and
// source kept in the URL across pages and a reload, a row opening the log
// and metadata.
func TestBrowserBackupLiveLogAndHistory(t *testing.T) {
	t.Parallel()
	const poll = 2
	s, b := browserStack(t, stackOptions{S3PartSize: 5 << 20, Config: httpapi.Config{PollIntervalSeconds: poll}})
	big, small, archives, gone := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	// Incompressible objects, so the upload (held by the proxy) paces the
	// backup and the log fills over several polls.
	seedParallel(t, s.S3, big, 240, 256<<10)
	seedBucket(t, s.S3, small, []object{{Key: "a.txt", Body: []byte("a")}, {Key: "b/c.json", Body: []byte(`{"c":1}`)}})
	slow := newSlowProxy(t, s.S3.Endpoint, 1500*time.Millisecond)

	b.openAndLogin(s)
	bigID := b.addS3Connection(s, s3Form{Kind: "s3_source", Name: "Big bucket", Bucket: big})
	smallID := b.addS3Connection(s, s3Form{Kind: "s3_source", Name: "Small bucket", Bucket: small})
	slowDest := b.addS3Connection(s, s3Form{Kind: "s3_destination", Name: "Archives (slow link)", Bucket: archives, Prefix: "live/", Endpoint: slow.URL})
	fastDest := b.addS3Connection(s, s3Form{Kind: "s3_destination", Name: "Archives", Bucket: archives, Prefix: "nightly/"})
	goneDest := b.addS3Connection(s, s3Form{Kind: "s3_destination", Name: "Deleted bucket", Bucket: gone})
	s.S3.RemoveBucket(gone) // its backups fail

	// Back up now, from the dashboard.
	b.click(tid("nav-dashboard"))
	b.waitPath("/")
	op := b.backupNow(bigID, slowDest)
	b.waitVisible(tid("terminal-log"))
	require.Contains(t, b.text(tid("operation-title")), "Big bucket")
	w := &liveWatch{b: b}

	// The log fills and, while following, the view stays at the bottom.
	first := w.until("the log to overflow its terminal while running", 3*time.Minute, func(s liveSample) bool {
		return s.Status == "running" && s.Scroll.overflows()
	})
	require.Equal(t, "true", first.Following)
	require.True(t, first.Scroll.atBottom(), "following: scrolled to the bottom: %+v", first.Scroll)
	more := w.until("more lines while following", time.Minute, func(s liveSample) bool { return s.Lines > first.Lines })
	require.Equal(t, "true", more.Following)
	require.True(t, more.Scroll.atBottom(), "new lines keep the view at the bottom: %+v", more.Scroll)
	b.shot("log-following")

	// The user scrolls up to read: following stops and the view stays put
	// when lines arrive.
	b.wheel(tid("terminal-body"), -100000)
	up := w.until("following to stop after scrolling up", 30*time.Second, func(s liveSample) bool { return s.Following == "false" && s.Scroll.Top == 0 })
	b.waitVisible(tid("terminal-follow"))
	arrived := w.until("lines arriving while scrolled up", time.Minute, func(s liveSample) bool { return s.Lines > up.Lines })
	require.Equal(t, "false", arrived.Following)
	require.Zero(t, arrived.Scroll.Top, "the view stays where the user scrolled: %+v", arrived.Scroll)
	b.waitVisible(tid("terminal-jump"))
	require.Equal(t, "running", arrived.Status, "the backup is still running; hold its uploads longer")
	b.shot("log-scrolled-up")

	// Back at the bottom, it follows again.
	b.wheel(tid("terminal-body"), 1000000)
	down := w.until("following to resume at the bottom", 30*time.Second, func(s liveSample) bool { return s.Following == "true" })
	b.waitGone(tid("terminal-jump"))
	again := w.until("lines arriving at the bottom", time.Minute, func(s liveSample) bool { return s.Lines > down.Lines })
	require.Equal(t, "true", again.Following)
	require.True(t, again.Scroll.atBottom(), "following again: %+v", again.Scroll)

	// Let it finish: the bar reaches 100 % and the page stops polling.
	slow.SetDelay(200 * time.Millisecond)
	done := w.until("the backup to complete", 5*time.Minute, func(s liveSample) bool { return s.Status == "completed" })
	require.Equal(t, "100", done.Progress)
	w.until("polling to stop", time.Minute, func(s liveSample) bool { return s.Live == "false" })
	b.shot("completed")
	requireMovingProgress(t, w.samples)
	requireGrowingLog(t, w.samples, 5)
	apiOp := s.operation(op)
	require.Equal(t, domain.OpCompleted, apiOp.Status)
	require.Equal(t, apiOp.Result.ArchiveSHA256, strings.Fields(b.text(tid("result-archive-sha256")))[0])
	pageSize := b.text(tid("result-archive-size"))
	requireShownSize(t, pageSize, apiOp.Result.ArchiveSize)
	require.Equal(t, b.lineCount(), len(s.logs(op)), "the page holds every line of the log")

	// It polled at the configured interval, asking only for new lines.
	requirePollInterval(t, b, op, poll*time.Second)

	// More operations for the history: three small backups and one that
	// fails, each started from the header's "Back up now".
	var smallOps []uuid.UUID
	for i := 0; i < 3; i++ {
		id := b.backupNow(smallID, fastDest)
		b.waitOpStatus("completed", 3*time.Minute)
		smallOps = append(smallOps, id)
	}
	failed := b.backupNow(smallID, goneDest)
	b.waitOpStatus("failed", 3*time.Minute)
	b.waitVisible(tid("operation-error-message"))
	require.NotEmpty(t, b.text(tid("operation-error-message")))

	// The history: newest first, the first backup completed with its size.
	b.click(tid("nav-history"))
	b.waitPath("/operations")
	b.waitFor("five rows", stepTimeout, `document.querySelectorAll('[data-testid="operation-row"]').length === 5`)
	require.Equal(t, []string{failed.String(), smallOps[2].String(), smallOps[1].String(), smallOps[0].String(), op.String()},
		b.attrs(tid("operation-row"), "data-operation-id"), "newest first")
	row := `[data-testid="operation-row"][data-operation-id="` + op.String() + `"]`
	require.Equal(t, "completed", b.attr(row, "data-status"))
	require.Equal(t, "Big bucket", b.text(row+" "+tid("operation-row-source")))
	rowSize := b.text(row + " " + tid("operation-row-size"))
	require.True(t, strings.HasPrefix(pageSize, rowSize+" "), "the history shows the archive size: %q, the page %q", rowSize, pageSize)
	requireShownSize(t, rowSize, apiOp.Result.ArchiveSize)
	require.Equal(t, "4", b.attr(tid("history-total-completed"), "data-count"))
	require.Equal(t, "1", b.attr(tid("history-total-failed"), "data-count"))
	b.shot("history")

	// A click on the row opens its full log and metadata.
	b.click(row)
	b.waitPath("/operations/" + op.String())
	b.waitVisible(tid("backup-result"))
	b.waitAttr(tid("terminal-log"), "data-live", "false", stepTimeout)
	require.Equal(t, len(s.logs(op)), b.lineCount())
	require.Equal(t, apiOp.Result.ArchiveLocation, b.text(tid("result-archive-location")))
	require.Equal(t, strconv.FormatInt(apiOp.Result.ObjectCount, 10), strings.ReplaceAll(b.text(tid("result-object-count")), ",", ""))
	require.Contains(t, b.text(tid("operation-source")), "Big bucket")
	require.Contains(t, b.text(tid("operation-destination")), "Archives (slow link)")

	// Filters, two to a page (a bookmarked ?per_page=2): completed backups
	// of the small bucket are three, on two pages.
	b.navigate("/operations?per_page=2")
	b.waitVisible(tid("operation-row"))
	b.setValue(tid("filter-status"), "completed")
	b.waitFor("the status in the URL", stepTimeout, `new URLSearchParams(location.search).get('status') === 'completed'`)
	b.setValue(tid("filter-source"), smallID.String())
	b.waitFor("the source in the URL", stepTimeout, `new URLSearchParams(location.search).get('source_id') === `+jsString(smallID.String()))
	b.waitFor("two filtered rows", stepTimeout, `document.querySelectorAll('[data-testid="operation-row"]').length === 2`)
	b.settle()
	page1 := b.requireFilteredRows(smallOps, "Small bucket")
	require.Equal(t, []string{smallOps[2].String(), smallOps[1].String()}, page1)
	require.Equal(t, "Page 1 of 2", b.text(tid("pagination-page")))

	b.click(tid("pagination-next"))
	b.waitFor("page 2 in the URL", stepTimeout, `new URLSearchParams(location.search).get('page') === '2'`)
	b.waitFor("the last row", stepTimeout, `document.querySelectorAll('[data-testid="operation-row"]').length === 1`)
	b.settle()
	require.Equal(t, []string{smallOps[0].String()}, b.requireFilteredRows(smallOps, "Small bucket"))
	require.Equal(t, "Page 2 of 2", b.text(tid("pagination-page")))
	_, query := b.location()
	q, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	require.NoError(t, err)
	require.Equal(t, url.Values{"status": {"completed"}, "source_id": {smallID.String()}, "page": {"2"}, "per_page": {"2"}}, q)
	b.shot("history-filtered-page-2")

	// A reload keeps the filters and the page.
	b.reload()
	b.waitVisible(tid("operation-row"))
	b.settle()
	require.Equal(t, []string{smallOps[0].String()}, b.requireFilteredRows(smallOps, "Small bucket"))
	require.Equal(t, "completed", b.value(tid("filter-status")))
	require.Equal(t, smallID.String(), b.value(tid("filter-source")))
	require.Equal(t, "Page 2 of 2", b.text(tid("pagination-page")))

	// Back to page 1, still filtered; then by status alone.
	b.click(tid("pagination-prev"))
	b.waitFor("page 1", stepTimeout, `!new URLSearchParams(location.search).has('page')`)
	b.waitFor("two rows", stepTimeout, `document.querySelectorAll('[data-testid="operation-row"]').length === 2`)
	b.settle()
	require.Equal(t, page1, b.requireFilteredRows(smallOps, "Small bucket"))
	b.setValue(tid("filter-source"), "")
	b.setValue(tid("filter-status"), "failed")
	b.waitFor("the failed one", stepTimeout, `(() => { const r = document.querySelectorAll('[data-testid="operation-row"]'); return r.length === 1 && r[0].dataset.operationId === `+jsString(failed.String())+` })()`)
}

// requireFilteredRows checks that every row is a completed backup of the
// source and returns the rows' operation ids.
func (b *browser) requireFilteredRows(want []uuid.UUID, source string) []string {
	b.t.Helper()
	ids := b.attrs(tid("operation-row"), "data-operation-id")
	for _, id := range ids {
		require.True(b.t, slices.ContainsFunc(want, func(u uuid.UUID) bool { return u.String() == id }), "row %s is not one of the filtered operations", id)
	}
	for _, st := range b.attrs(tid("operation-row"), "data-status") {
		require.Equal(b.t, "completed", st)
	}
	for _, src := range b.texts(tid("operation-row-source")) {
		require.Equal(b.t, source, src)
	}
	return ids
}

// requireMovingProgress: the bar showed values between 0 and 100 that
// never went back, before 100.
func requireMovingProgress(t *testing.T, samples []liveSample) {
	t.Helper()
	var seen []float64
	for _, s := range samples {
		if s.Status != "running" || s.Progress == "" {
			continue
		}
		v, err := strconv.ParseFloat(s.Progress, 64)
		require.NoError(t, err)
		if len(seen) > 0 {
			require.GreaterOrEqual(t, v, seen[len(seen)-1], "the bar never goes back")
		}
		if len(seen) == 0 || v != seen[len(seen)-1] {
			seen = append(seen, v)
		}
	}
	var between int
	for _, v := range seen {
		if v > 0 && v < 100 {
			between++
		}
	}
	t.Logf("progress bar values while running: %v", seen)
	require.GreaterOrEqual(t, between, 3, "the bar moved through several values: %v", seen)
}

// requireGrowingLog: the line count grew over several polls.
func requireGrowingLog(t *testing.T, samples []liveSample, polls int) {
	t.Helper()
	var counts []int
	for _, s := range samples {
		if len(counts) == 0 || s.Lines != counts[len(counts)-1] {
			require.True(t, len(counts) == 0 || s.Lines > counts[len(counts)-1], "the log never shrinks")
			counts = append(counts, s.Lines)
		}
	}
	t.Logf("terminal line counts as they grew: %v", counts)
	require.GreaterOrEqual(t, len(counts), polls, "the log filled over several polls")
}

// requirePollInterval checks the requests the operation page sent by
// itself: one poll per interval, each asking for the lines after the last
// one it had.
func requirePollInterval(t *testing.T, b *browser, op uuid.UUID, interval time.Duration) {
	t.Helper()
	var gaps []time.Duration
	var last time.Duration
	for _, r := range b.requestsTo("/api/operations/" + op.String()) {
		if !r.Poll {
			last = 0
			continue
		}
		if last != 0 {
			gaps = append(gaps, r.Sent-last)
		}
		last = r.Sent
	}
	// The last ones come sooner once the operation has ended (a final check).
	require.Greater(t, len(gaps), 4, "the page polled the operation")
	running := gaps[:len(gaps)-2]
	sorted := slices.Clone(running)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	median := sorted[len(sorted)/2]
	t.Logf("poll gaps (interval %s): median %s, min %s, max %s", interval, median.Round(time.Millisecond), sorted[0].Round(time.Millisecond), sorted[len(sorted)-1].Round(time.Millisecond))
	require.GreaterOrEqual(t, sorted[0], interval-250*time.Millisecond, "never sooner than the interval")
	require.LessOrEqual(t, median, interval+time.Second, "once per interval")

	var afters []int64
	for _, r := range b.requestsTo("/api/operations/" + op.String() + "/logs") {
		u, err := url.Parse(r.URL)
		require.NoError(t, err)
		after, err := strconv.ParseInt(u.Query().Get("after"), 10, 64)
		require.NoError(t, err, r.URL)
		afters = append(afters, after)
	}
	require.True(t, slices.IsSorted(afters), "each log request asks after the last line held: %v", afters)
	require.Greater(t, afters[len(afters)-1], int64(0))
}

// requireShownSize checks a size as the UI shows it ("12.3 MiB") against
// bytes, to the digits shown.
func requireShownSize(t *testing.T, shown string, bytes int64) {
	t.Helper()
	var v float64
	var unit string
	_, err := fmt.Sscanf(shown, "%g %s", &v, &unit)
	require.NoError(t, err, "a size: %q", shown)
	units := map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
	mult, ok := units[unit]
	require.True(t, ok, "unit of %q", shown)
	require.InEpsilon(t, float64(bytes), v*mult, 0.01, "%q for %d bytes", shown, bytes)
	require.False(t, math.IsNaN(v))
}
