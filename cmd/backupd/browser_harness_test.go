package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"backupd/web"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The browser tests drive the real UI (web.Dist) in headless Debian
// Chromium against the whole stack, as a new user would: by test ids
// (web/TESTIDS.md), never by CSS classes or texts. Every wait is on a
// condition in the page; timings are generous because the machine has two
// cores shared with other tests.

const (
	chromiumPath = "/usr/bin/chromium"
	// stepTimeout bounds one wait or action in the page.
	stepTimeout = 90 * time.Second
	// artifactsEnv keeps screenshots and page texts after the test (by
	// default they go into t.TempDir(), removed when the test ends).
	artifactsEnv = "BACKUPD_BROWSER_ARTIFACTS"
)

// webUI is the built app as the binary embeds it.
func webUI(t *testing.T) fs.FS {
	t.Helper()
	ui, err := fs.Sub(web.Dist, "dist")
	require.NoError(t, err)
	_, err = fs.Stat(ui, "index.html")
	require.NoError(t, err, "web/dist holds no built UI; run make web")
	return ui
}

// browser is one Chromium for one test, pointed at one server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // screenshots and page texts

	mu         sync.Mutex
	console    []string // console errors, exceptions and failed loads
	exceptions []string // uncaught JavaScript exceptions only
	requests   []pageRequest
	responses  []string // API and page answers, for the log of a failure
	inflight   map[network.RequestID]bool
	lastAPI    time.Time
	shots      int
}

// pageRequest is one request the page sent, as Chromium reports it.
type pageRequest struct {
	At   time.Time     // when the test heard of it
	Sent time.Duration // the browser's own monotonic clock: exact gaps
	URL  string
	Poll bool // sent by a timer (X-Backupd-Poll), not by a user action
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing (apt-get install -y chromium): %v", chromiumPath, err)
	}
	dir := os.Getenv(artifactsEnv)
	if dir != "" {
		dir = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
		require.NoError(t, os.MkdirAll(dir, 0o755))
	} else {
		dir = t.TempDir()
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx, base: base, dir: dir, inflight: map[network.RequestID]bool{}}
	// The first action starts the browser; it gets no timeout, which would
	// stop the browser with it.
	require.NoError(t, chromedp.Listen(ctx, b.onEvent), "start Chromium")
	start, cancelStart := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelStart()
	// A desktop window: below 900 px the navigation folds into a menu.
	require.NoError(t, chromedp.Do(start, chromedp.EmulateViewport(1366, 900)), "set the window size")
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Registered after the browser's own cleanup, so it runs first, while
	// the page is still there.
	t.Cleanup(func() {
		if t.Failed() {
			b.capture("failure")
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if t.Failed() && len(b.responses) > 0 {
			t.Logf("the page's last answers:\n  %s", strings.Join(b.responses[max(0, len(b.responses)-40):], "\n  "))
		}
		if t.Failed() && len(b.console) > 0 {
			t.Logf("browser console errors:\n  %s", strings.Join(b.console, "\n  "))
		}
		if len(b.exceptions) > 0 {
			t.Errorf("the page threw uncaught exceptions:\n  %s", strings.Join(b.exceptions, "\n  "))
		}
	})
	return b
}

func (b *browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
			var args []string
			for _, a := range e.Args {
				args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			b.console = append(b.console, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		b.exceptions = append(b.exceptions, msg)
		b.console = append(b.console, "exception: "+msg)
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			b.console = append(b.console, fmt.Sprintf("%s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventResponseReceived:
		if strings.HasPrefix(e.Response.URL, b.base+"/api/") || e.Type == network.ResourceTypeDocument {
			b.responses = append(b.responses, fmt.Sprintf("%s %d %s", time.Now().Format("15:04:05.000"), e.Response.Status, strings.TrimPrefix(e.Response.URL, b.base)))
		}
	case *network.EventRequestWillBeSent:
		_, poll := e.Request.Headers["X-Backupd-Poll"]
		b.requests = append(b.requests, pageRequest{At: time.Now(), Sent: time.Duration(float64(e.Timestamp) * float64(time.Second)), URL: e.Request.URL, Poll: poll})
		if strings.HasPrefix(e.Request.URL, b.base+"/api/") {
			b.inflight[e.RequestID] = true
			b.lastAPI = time.Now()
		}
	case *network.EventLoadingFinished:
		delete(b.inflight, e.RequestID)
	case *network.EventLoadingFailed:
		delete(b.inflight, e.RequestID)
	}
}

// requestsTo returns the requests whose path (without the query) is path.
func (b *browser) requestsTo(path string) []pageRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []pageRequest
	for _, r := range b.requests {
		u := strings.TrimPrefix(r.URL, b.base)
		u, _, _ = strings.Cut(u, "?")
		if u == path {
			out = append(out, r)
		}
	}
	return out
}

// capture saves a screenshot and the page's text, and logs where.
func (b *browser) capture(name string) {
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Logf("capture %s: %v", name, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		b.t.Logf("capture %s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("capture %s: %v", name, err)
	}
	base := filepath.Join(b.dir, fmt.Sprintf("%02d-%s", n, name))
	if len(png) > 0 {
		if werr := os.WriteFile(base+".png", png, 0o644); werr == nil {
			b.t.Logf("screenshot: %s", base+".png")
		}
	}
	if werr := os.WriteFile(base+".txt", []byte(url+"\n\n"+text), 0o644); werr == nil {
		b.t.Logf("page text (%s): %s", url, base+".txt")
	}
}

// shot keeps a screenshot of a step when artifacts are kept (for people
// reviewing the UI); otherwise it costs nothing.
func (b *browser) shot(name string) {
	if os.Getenv(artifactsEnv) != "" {
		b.capture(name)
	}
}
