package reports

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/results/resultstest"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var update = flag.Bool("update", false, "rewrite golden files and the report screenshots under testdata/")

// chromium returns the browser to drive: $SLOTRUSH_CHROMIUM, or Debian's
// chromium, which CI installs with apt-get.
func chromium() string {
	if p := os.Getenv("SLOTRUSH_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// needChromium skips the test without a browser, except in CI, where a
// missing browser is a failure.
func needChromium(t *testing.T) {
	t.Helper()
	chromiumPath := chromium()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing (apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("%s not installed; apt-get install -y chromium to run this test", chromiumPath)
	}
}

// pageLog records what the page did: every request URL and every console
// error, exception or error log entry.
type pageLog struct {
	mu       sync.Mutex // guards requests and problems
	requests []string
	problems []string
}

func (l *pageLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			l.problems = append(l.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		l.problems = append(l.problems, "exception: "+ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			l.problems = append(l.problems, fmt.Sprintf("log %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

func (l *pageLog) snapshot() (requests, problems []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.requests...), append([]string(nil), l.problems...)
}

type imgInfo struct {
	Src      string  `json:"src"`
	Natural  float64 `json:"natural"`
	Complete bool    `json:"complete"`
}

type boxInfo struct {
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// TestReportInBrowser opens index.html from disk in headless Chromium with
// the network off, and checks that every image decodes, every inline SVG
// has a size, nothing was fetched from the network, the console stays
// clean, and the page does not overflow a phone's width. It saves
// full-page screenshots (desktop and phone; the mixed report at 1280 and
// 420 px) in a temp dir, and also under testdata/screenshots with -update,
// or at $SLOTRUSH_SCREENSHOT. $SLOTRUSH_MIXED_RESULTS picks the result
// files of the mixed report (mixedResults).
func TestReportInBrowser(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	model := resultstest.SyntheticResult(7)
	model.Engine = results.EngineModel
	model.Scenario = "synthetic-national"
	model.Designs[2].Calibration = []results.CalibratedParameter{
		{Name: "book service time", Value: 1.2, Unit: "ms", Measured: true, Source: "reference server, 2 cores"},
		{Name: "partitions per node", Value: 8, Unit: "", Measured: false, Source: "assumed"},
	}
	cases := []struct {
		name string
		dpi  int // the live report is the real thing; the other is cheaper
		rs   []*results.Result
		want []string // texts the page must show
	}{
		{"live", pngDPI, []*results.Result{resultstest.SyntheticResult(1)}, []string{"per-ppv-day+waiting-room booked 5,950 of 6,000 places (99%)", "What the people lived through", "What these figures assume", "Side by side"}},
		{"model", goldenDPI, []*results.Result{model}, []string{"SIMULATED (model) results", "Model parameters"}},
		{"mixed", goldenDPI, mixedResults(t), []string{"Live and SIMULATED (model) results", "SIMULATED (model): ", "Live run: "}},
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()

	// The checks can fail: a page that fetches from the network and logs an
	// error is caught.
	t.Run("sentinel", func(t *testing.T) {
		page := filepath.Join(dir, "sentinel.html")
		html := `<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body><img src="https://example.com/x.png"><script>console.error("boom")</script></body></html>`
		if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
		tab, pl := openOffline(t, allocCtx, page)
		imgs, err := chromedp.Run(tab, chromedp.Evaluate[[]imgInfo](imagesJS))
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != 1 || imgs[0].Natural != 0 {
			t.Errorf("external image = %+v; want it not loaded (offline)", imgs)
		}
		requests, problems := pl.snapshot()
		if !slices.ContainsFunc(requests, func(u string) bool { return strings.HasPrefix(u, "https://example.com/") }) {
			t.Errorf("requests %q; want the external image recorded", requests)
		}
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "boom") }) {
			t.Errorf("problems %q; want the console error recorded", problems)
		}
	})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			index, err := render(out, tc.dpi, tc.rs)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			tab, pl := openOffline(t, allocCtx, index)

			imgs, err := chromedp.Run(tab, chromedp.Evaluate[[]imgInfo](imagesJS))
			if err != nil {
				t.Fatalf("read images: %v", err)
			}
			if len(imgs) < 5 {
				t.Errorf("page has %d images; want the plots (at least 5)", len(imgs))
			}
			for _, im := range imgs {
				if !im.Complete || im.Natural <= 0 {
					t.Errorf("image %q: complete=%v naturalWidth=%v; want a decoded image", im.Src, im.Complete, im.Natural)
				}
				if !strings.HasPrefix(im.Src, "data:image/") {
					t.Errorf("image %q is not embedded as a data: URI", im.Src)
				}
			}
			svgs, err := chromedp.Run(tab, chromedp.Evaluate[[]boxInfo](`Array.from(document.querySelectorAll('svg')).map(s => { const r = s.getBoundingClientRect(); return {w: r.width, h: r.height}; })`))
			if err != nil {
				t.Fatalf("read svgs: %v", err)
			}
			for i, b := range svgs {
				if b.W <= 0 || b.H <= 0 {
					t.Errorf("inline svg %d has box %vx%v; want nonzero", i, b.W, b.H)
				}
			}
			body, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
			if err != nil {
				t.Fatalf("read text: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page text lacks %q", w)
				}
			}

			shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if tc.name != "mixed" {
				saveShot(t, "report-"+tc.name+".png", shot)
			} else {
				saveShot(t, "report-mixed-1280.png", shot)
				if err := chromedp.Do(tab, chromedp.EmulateViewport(420, 900)); err != nil {
					t.Fatalf("emulate 420 px: %v", err)
				}
				narrow, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("420 px screenshot: %v", err)
				}
				saveShot(t, "report-mixed-420.png", narrow)
			}

			// A phone: the page must not scroll sideways (tables scroll in
			// their own box) and images must fit.
			if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
				t.Fatalf("emulate phone: %v", err)
			}
			widths, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`[document.documentElement.scrollWidth, window.innerWidth, Math.max(...Array.from(document.images).map(i => i.getBoundingClientRect().width))]`))
			if err != nil {
				t.Fatalf("measure phone layout: %v", err)
			}
			if widths[0] > widths[1]+1 {
				t.Errorf("on a 390 px phone the page is %v px wide; want no sideways scrolling", widths[0])
			}
			if widths[2] > widths[1] {
				t.Errorf("on a 390 px phone an image is %v px wide; want at most %v", widths[2], widths[1])
			}
			if tc.name == "live" {
				phone, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("phone screenshot: %v", err)
				}
				saveShot(t, "report-phone.png", phone)
			}

			requests, problems := pl.snapshot()
			for _, u := range requests {
				if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") {
					t.Errorf("page requested %s; want no network access", u)
				}
			}
			for _, p := range problems {
				t.Errorf("browser reported: %s", p)
			}
		})
	}
}

// mixedResults returns a mixed set for the "mixed" report: the result
// files listed in $SLOTRUSH_MIXED_RESULTS (comma separated), or else a
// synthetic live run and simulations of the same crowd at scales 1 and 10.
func mixedResults(t *testing.T) []*results.Result {
	t.Helper()
	if env := os.Getenv("SLOTRUSH_MIXED_RESULTS"); env != "" {
		var rs []*results.Result
		for _, p := range strings.Split(env, ",") {
			r, err := results.LoadResult(strings.TrimSpace(p))
			if err != nil {
				t.Fatalf("SLOTRUSH_MIXED_RESULTS: %v", err)
			}
			rs = append(rs, r)
		}
		return rs
	}
	x1 := resultstest.SyntheticResult(2)
	x1.Engine = results.EngineModel
	x1.Seed = 1
	x10 := resultstest.SyntheticResult(3)
	x10.Engine, x10.Seed = results.EngineModel, 1
	x10.Parameters = append(x10.Parameters, results.Parameter{Name: "scale", Value: "10× the scenario as written"})
	x10.Parameters[1].Value = "150,000 people"
	// Fewer designs in the simulations keep the test quick under -race.
	x1.Designs, x10.Designs = x1.Designs[1:3], x10.Designs[:1]
	return []*results.Result{resultstest.SyntheticResult(1), x1, x10}
}

const imagesJS = `Array.from(document.images).map(i => ({src: (i.currentSrc || i.src).slice(0, 40), natural: i.naturalWidth, complete: i.complete}))`

// openOffline opens path in a new tab of the browser with the network off
// (offline emulation, and http, https and websocket URLs blocked) and a
// listener recording requests and console problems. The tab closes with
// the test.
func openOffline(t *testing.T, allocCtx context.Context, path string) (context.Context, *pageLog) {
	t.Helper()
	pl := &pageLog{}
	tab, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(pl.listen))
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	method, err := goOffline(tab)
	if err != nil {
		t.Fatalf("emulate offline: %v", err)
	}
	t.Logf("network off with %s", method)
	if _, err := chromedp.Call(tab, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
		{URLPattern: "http://*:*/*", Block: true}, {URLPattern: "https://*:*/*", Block: true},
		{URLPattern: "ws://*:*/*", Block: true}, {URLPattern: "wss://*:*/*", Block: true},
	}}); err != nil {
		t.Fatalf("block network: %v", err)
	}
	url := "file://" + filepath.ToSlash(path)
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	return tab, pl
}

// saveShot writes a screenshot to the test's temp dir, to testdata with
// -update, and to $SLOTRUSH_SCREENSHOT (a file for the desktop shot of the
// live report, or a directory for all).
func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	paths := []string{filepath.Join(t.TempDir(), name)}
	if *update {
		paths = append(paths, filepath.Join("testdata", "screenshots", name))
	}
	if env := os.Getenv("SLOTRUSH_SCREENSHOT"); env != "" {
		if fi, err := os.Stat(env); err == nil && fi.IsDir() {
			paths = append(paths, filepath.Join(env, name))
		} else if name == "report-live.png" {
			paths = append(paths, env)
		}
	}
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}

// goOffline turns the tab's network off. cdproto's typed command lacks the
// top-level "offline" flag that current Chromium requires, so the command
// is sent raw.
func goOffline(tab context.Context) (method string, err error) {
	err = chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var errs []string
		for _, try := range []struct {
			method string
			params any
		}{
			{"Network.emulateNetworkConditionsByRule", map[string]any{"offline": true, "matchedNetworkConditions": []map[string]any{{"urlPattern": "", "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1, "offline": true}}}},
			{"Network.emulateNetworkConditions", map[string]any{"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}},
		} {
			err := tg.Call(ctx, try.method, try.params, nil)
			if err == nil {
				method = try.method
				return nil
			}
			errs = append(errs, try.method+": "+err.Error())
		}
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}))
	return method, err
}
