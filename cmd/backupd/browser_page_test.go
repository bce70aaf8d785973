package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"
)

// The page helpers of the browser tests: find by test id, act as a user
// does (mouse clicks on what is on top, typed keys), and wait for
// conditions in the page.

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
// the way a user does (select all, Backspace).
func (b *browser) typeText(sel, text string) {
	b.t.Helper()
	b.waitVisible(sel)
	if b.value(sel) != "" {
		b.eval(`(() => { const el = document.querySelector(`+jsString(sel)+`); el.focus(); el.select(); return true })()`, new(bool))
		b.run("empty "+sel, chromedp.SendKeys(chromedp.CSS(sel), kb.Backspace, chromedp.NodeVisible))
	}
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
