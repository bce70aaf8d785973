package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"backupd/web"

	"github.com/chromedp/cdproto/input"
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

// consoleErrors returns what the console reported so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
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

// run performs actions within one step's timeout and fails the test with
// what was being done.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// tid is the selector of a test id.
func tid(id string) string { return `[data-testid="` + id + `"]` }

// jsString quotes s for JavaScript.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// eval evaluates a JavaScript expression into out (JSON-decoded).
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	if err := b.tryEval(expr, out); err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
}

// tryEval evaluates without failing the test (a page in the middle of a
// navigation has no document for a moment).
func (b *browser) tryEval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return fmt.Errorf("%s is undefined", expr)
	}
	return json.Unmarshal(raw, out)
}

func (b *browser) navigate(path string) {
	b.t.Helper()
	b.run("navigate to "+path, chromedp.Navigate(b.base+path))
}

func (b *browser) reload() {
	b.t.Helper()
	b.run("reload", chromedp.Reload())
}

// settle waits until the page has no API request in flight and sent none
// for a moment: what it loads for the page shown has arrived.
func (b *browser) settle() {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		b.mu.Lock()
		idle := len(b.inflight) == 0 && time.Since(b.lastAPI) > 300*time.Millisecond
		n := len(b.inflight)
		b.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page still has %d API requests in flight after %s", n, stepTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitVisible waits until the selector matches a rendered element.
func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// waitGone waits until no element matches the selector.
func (b *browser) waitGone(sel string) {
	b.t.Helper()
	b.waitFor("no "+sel, stepTimeout, `document.querySelector(`+jsString(sel)+`) === null`)
}

// click clicks the element with the mouse once it is visible.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	// A user clicks what is on top: wait until nothing covers the element
	// (a closing dialog, a toast) and it is enabled.
	deadline := time.Now().Add(stepTimeout)
	for {
		var blocker string
		err := b.tryEval(`(() => {
			const el = document.querySelector(`+jsString(sel)+`);
			if (!el) return 'absent';
			if (el.disabled) return 'disabled';
			el.scrollIntoView({block: 'nearest', inline: 'nearest'});
			const r = el.getBoundingClientRect();
			const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			// A styled switch or checkbox is drawn over by its own label.
			const label = el.closest('label');
			if (top && (top === el || el.contains(top) || (label && label.contains(top)))) return '';
			return 'covered by ' + (top ? top.outerHTML.slice(0, 200) : 'nothing (outside the window)');
		})()`, &blocker)
		if err == nil && blocker == "" {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s is not clickable after %s: %s %v", sel, stepTimeout, blocker, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// typeText types into an input with real key events, after emptying it
// the way a user does (select all, delete).
func (b *browser) typeText(sel, text string) {
	b.t.Helper()
	b.setValue(sel, "")
	if text != "" {
		b.run("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
	}
	require.Equal(b.t, text, b.value(sel), "the input %s holds what was typed", sel)
}

// setValue sets a React-controlled input or select as TESTIDS.md says:
// the native value setter, then the event React listens to.
func (b *browser) setValue(sel, value string) {
	b.t.Helper()
	b.waitVisible(sel)
	var ok bool
	b.eval(`(() => {
		const el = document.querySelector(`+jsString(sel)+`);
		if (!el) return false;
		const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
		Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, `+jsString(value)+`);
		el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
		return el.value === `+jsString(value)+`;
	})()`, &ok)
	require.True(b.t, ok, "set %s to %q (is it an option of the select?)", sel, value)
}

// value is an input's current value.
func (b *browser) value(sel string) string {
	b.t.Helper()
	var v string
	b.eval(`document.querySelector(`+jsString(sel)+`).value`, &v)
	return v
}

// text is an element's visible text.
func (b *browser) text(sel string) string {
	b.t.Helper()
	var v string
	b.eval(`(() => { const el = document.querySelector(`+jsString(sel)+`); return el ? el.innerText : "" })()`, &v)
	return strings.TrimSpace(v)
}

// attr is an attribute of the first element matching sel ("" if absent).
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	var v string
	b.eval(`(() => { const el = document.querySelector(`+jsString(sel)+`); return el ? (el.getAttribute(`+jsString(name)+`) ?? "") : "" })()`, &v)
	return v
}

// count is how many elements match sel.
func (b *browser) count(sel string) int {
	b.t.Helper()
	var n int
	b.eval(`document.querySelectorAll(`+jsString(sel)+`).length`, &n)
	return n
}

// exists says whether an element matches sel now.
func (b *browser) exists(sel string) bool { return b.count(sel) > 0 }

// texts is the visible text of every element matching sel, in order.
func (b *browser) texts(sel string) []string {
	b.t.Helper()
	var v []string
	b.eval(`Array.from(document.querySelectorAll(`+jsString(sel)+`)).map(e => e.innerText.trim())`, &v)
	return v
}

// attrs is an attribute of every element matching sel, in order.
func (b *browser) attrs(sel, name string) []string {
	b.t.Helper()
	var v []string
	b.eval(`Array.from(document.querySelectorAll(`+jsString(sel)+`)).map(e => e.getAttribute(`+jsString(name)+`) ?? "")`, &v)
	return v
}

// waitFor polls a JavaScript condition until it is true.
func (b *browser) waitFor(what string, timeout time.Duration, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		var ok bool
		if last = b.tryEval(`!!(`+cond+`)`, &ok); last == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited %s for %s (%s); last error: %v", timeout, what, cond, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitAttr waits until the element's attribute equals want, and reports
// how long that took.
func (b *browser) waitAttr(sel, name, want string, timeout time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	var got string
	for {
		err := b.tryEval(`(() => { const el = document.querySelector(`+jsString(sel)+`); return el ? (el.getAttribute(`+jsString(name)+`) ?? "") : "<absent>" })()`, &got)
		if err == nil && got == want {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited %s for %s[%s] = %q; it is %q (err %v)", timeout, sel, name, want, got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pathname is the page's path and query.
func (b *browser) location() (path, query string) {
	b.t.Helper()
	var loc struct {
		Path  string `json:"path"`
		Query string `json:"query"`
	}
	b.eval(`({path: location.pathname, query: location.search})`, &loc)
	return loc.Path, loc.Query
}

// waitPath waits until the page is at path (the query is not compared).
func (b *browser) waitPath(path string) {
	b.t.Helper()
	b.waitFor("the page at "+path, stepTimeout, `location.pathname === `+jsString(path))
}

// wheel scrolls the mouse wheel over the middle of an element, as a user
// reading a log does (deltaY < 0 scrolls up).
func (b *browser) wheel(sel string, deltaY float64) {
	b.t.Helper()
	var box struct{ X, Y float64 }
	b.eval(`(() => { const r = document.querySelector(`+jsString(sel)+`).getBoundingClientRect(); return {X: r.left + r.width / 2, Y: r.top + r.height / 2} })()`, &box)
	b.run("scroll "+sel, chromedp.MouseEvent(chromedp.MouseWheel, box.X, box.Y, func(p *input.DispatchMouseEventParams) {
		p.DeltaY = deltaY
		p.DeltaX = 1e-6 // sent only when not zero, and Chromium wants both
	}))
}

// scrollMetrics of a scrolling element.
type scrollMetrics struct {
	Top    float64 `json:"top"`
	Height float64 `json:"height"`
	Client float64 `json:"client"`
}

func (m scrollMetrics) atBottom() bool { return m.Height-m.Top-m.Client <= 32 }
func (m scrollMetrics) overflows() bool {
	return m.Height > m.Client+40
}

func (b *browser) scroll(sel string) scrollMetrics {
	b.t.Helper()
	var m scrollMetrics
	b.eval(`(() => { const el = document.querySelector(`+jsString(sel)+`); return {top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight} })()`, &m)
	return m
}

// luminance of a CSS rgb() colour, 0 (black) to 1 (white).
func luminance(css string) float64 {
	var r, g, bl float64
	if _, err := fmt.Sscanf(strings.ReplaceAll(css, " ", ""), "rgb(%f,%f,%f)", &r, &g, &bl); err != nil {
		if _, err := fmt.Sscanf(strings.ReplaceAll(css, " ", ""), "rgba(%f,%f,%f", &r, &g, &bl); err != nil {
			return math.NaN()
		}
	}
	return (0.2126*r + 0.7152*g + 0.0722*bl) / 255
}
