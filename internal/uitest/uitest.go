// Package uitest drives the monitor UI in a real headless Chromium (Debian's
// chromium package, found by testenv.Chromium) with chromedp, for the
// browser tests of cluster/internal/ui and the end-to-end tests. JavaScript
// exceptions and console errors of the page fail the test; screenshots go
// to the artefacts directory (testenv.ArtifactsDir).
package uitest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gale-stream/gale/internal/testenv"
)

// Polls is a JavaScript expression: the number of polls the UI has done.
const Polls = `Number(document.body.dataset.polls || 0)`

// Browser is one headless Chromium with one tab. Its methods fail the
// test on error; they are called from the test's goroutine.
type Browser struct {
	t   testing.TB
	ctx context.Context
	// Timeout bounds each Wait (default 20 s).
	Timeout time.Duration

	mu  sync.Mutex // guards err
	err []string
}

// New starts Chromium (skipping or failing the test when there is none,
// see testenv.Chromium); it stops at the end of the test.
func New(t testing.TB) *Browser {
	t.Helper()
	exe := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1440, 960),
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	b := &Browser{t: t, ctx: ctx, Timeout: 20 * time.Second}
	t.Cleanup(func() {
		cancelT()
		cancelC()
		cancelA()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.err {
			t.Errorf("JavaScript error in the page: %s", e)
		}
	})
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg = d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			msg += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber+1)
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			for _, a := range ev.Args {
				msg += " " + string(a.Value) + a.Description
			}
		default:
			return
		}
		b.mu.Lock()
		b.err = append(b.err, msg)
		b.mu.Unlock()
	}); err != nil {
		t.Fatalf("start chromium (%s): %v", exe, err)
	}
	return b
}

// Do runs chromedp actions.
func (b *Browser) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Open loads url.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.Do("open "+url, chromedp.Navigate(url))
}

// Wait polls a JavaScript predicate until it is truthy; on timeout it
// saves a screenshot and fails the test.
func (b *Browser) Wait(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(b.Timeout))); err != nil {
		b.Screenshot("FAILED-" + strings.NewReplacer("/", "-", " ", "_").Replace(b.t.Name()))
		b.t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

// Eval runs JavaScript in the page and decodes its value.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Click clicks (with the mouse) the first element that matches the CSS
// selector, once it is visible.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.Do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Type empties the input that matches the CSS selector and types text.
func (b *Browser) Type(sel, text string) {
	b.t.Helper()
	b.Wait(sel, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
	b.Do("type into "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ''`, sel)),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Screenshot saves a full-page PNG as ui/NAME.png in the artefacts
// directory, and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(testenv.ArtifactsDir(b.t, "ui"), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", p)
	return p
}
