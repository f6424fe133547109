package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pixelk6/pixelk6/internal/testtool"
)

// artefactDir is where the browser tests leave their screenshots: $PIXELK6_ARTEFACTS when
// set (CI keeps it), else the test's temporary directory.
func artefactDir(t *testing.T) string {
	if d := os.Getenv("PIXELK6_ARTEFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// browser is a headless Debian chromium driven over the DevTools protocol, with every
// console message of its tab collected.
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := testtool.Require(t, "chromium", "chromium")
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // start the browser and open the tab
		cancel()
		cancelA()
		t.Fatalf("starting chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	collected := make(chan struct{})
	go func() { // ends when the browser's context is cancelled
		defer close(collected)
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.msgs = append(b.msgs, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelA()
		<-collected
	})
	return b
}

// errors are the console errors and uncaught exceptions so far.
func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m.String()+" at "+m.URL+":"+strconv.FormatInt(m.Line, 10))
		}
	}
	return out
}

// poll waits up to limit for a JavaScript expression to be truthy.
func (b *browser) poll(t *testing.T, what, expr string, limit time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(limit), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("%s: %v (console errors: %q)", what, err, b.errors())
	}
}

func (b *browser) eval(t *testing.T, expr string) int {
	t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return n
}

// screenshot saves the whole page as a PNG artefact.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(artefactDir(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
}

// checkPage asserts what every dashboard page must show: no errors (console or the page's
// own collector), line charts drawn with data, and the thresholds table.
func (b *browser) checkPage(t *testing.T, minCharts int) {
	t.Helper()
	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	if n := b.eval(t, `Number(document.documentElement.getAttribute('data-errors') || 0)`); n != 0 {
		t.Errorf("the page collected %d errors", n)
	}
	if n := b.eval(t, `document.querySelectorAll('svg.chart path.series').length`); n < minCharts {
		t.Errorf("%d series drawn, want at least %d", n, minCharts)
	}
	for _, chart := range []string{"vus", "rate", "latency", "checks", "inference", "detections", "recall"} {
		if n := b.eval(t, fmt.Sprintf(`Number((document.querySelector('svg.chart[data-chart=%s]') || {getAttribute: () => 0}).getAttribute('data-points'))`, chart)); n < 2 {
			t.Errorf("chart %s drew %d points, want at least 2", chart, n)
		}
	}
	if n := b.eval(t, `document.querySelectorAll('#thresholds-table tr.threshold').length`); n != 7 {
		t.Errorf("%d thresholds shown, want the script's 7", n)
	}
}

// TestDashboardInChromium renders the live web dashboard of a real run against pixelsim
// in headless Chromium while the run goes on, then its exported report, then k6verdict's
// report of the same run's JSON with a baseline.
func TestDashboardInChromium(t *testing.T) {
	b := newBrowser(t)
	s := startSim(t, "--error-rate", "0.05", "--latency", "lognormal:10ms,40ms")
	dir := t.TempDir()
	port := testtool.FreePort(t)
	export, out := filepath.Join(dir, "report.html"), filepath.Join(dir, "run.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin("pixelk6"), "run", "-q", "--linger", "-e", "DURATION_SCALE=0.02", "-e", "THINK_TIME=0.1",
		"--out", "json="+out, filepath.Join(repoRoot, "scripts", "k6-rest-inference-load.js"))
	cmd.Env = append(os.Environ(), "API_URL="+s.URL, "K6_WEB_DASHBOARD=true", "K6_WEB_DASHBOARD_PORT="+strconv.Itoa(port),
		"K6_WEB_DASHBOARD_PERIOD=1s", "K6_WEB_DASHBOARD_EXPORT="+export, "K6_NO_COLOR=true")
	var outb, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &outb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // ends with the process (bounded by ctx)

	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for up := false; !up; {
		select {
		case err := <-exited:
			t.Fatalf("pixelk6 exited before its dashboard was up: %v\n%s\n%s", err, outb.String(), errb.String())
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			up = resp.StatusCode == http.StatusOK
		}
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// Live: points arrive, and the failing threshold (5 % errors against rate<0.01) turns red.
	b.poll(t, "live latency chart", `Number((document.querySelector('svg.chart[data-chart=latency]') || {getAttribute: () => 0}).getAttribute('data-points')) >= 3`, 60*time.Second)
	b.poll(t, "a red threshold", `document.querySelectorAll('#thresholds-table tr.threshold.fail').length > 0 && document.documentElement.getAttribute('data-phase') === 'running'`, 30*time.Second)
	b.checkPage(t, 5)
	if n := b.eval(t, `document.querySelectorAll('#thresholds-table tr.fail td.st').length`); n == 0 {
		t.Errorf("no failed threshold shown while the run goes on")
	}
	b.screenshot(t, "dashboard-live.png")

	// The page gets "done": the final state, without a console error about the stream's end.
	b.poll(t, "the live page's end", `document.documentElement.getAttribute('data-phase') === 'done'`, 60*time.Second)
	if n := b.eval(t, `document.querySelectorAll('#verdict.FAIL').length`); n != 1 {
		t.Errorf("the finished live page shows no FAIL verdict")
	}
	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("console errors at the end of the run: %q", errs)
	}
	// --linger keeps the final page served until Ctrl+C; the exit code is the test's.
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("the page is gone during --linger: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `"phase":"done"`) {
		t.Errorf("the page served during --linger is not the final one")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-ctx.Done():
		t.Fatal("pixelk6 did not finish")
	}
	if code := cmd.ProcessState.ExitCode(); code != 99 {
		t.Fatalf("exit code %d, want 99 (http_req_failed crossed)\n%s", code, errb.String())
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("the dashboard still answers after pixelk6 exited")
	}

	// The export: the same page, opened from the file, with no network.
	if err := chromedp.Do(b.ctx, chromedp.Navigate("file://"+export)); err != nil {
		t.Fatal(err)
	}
	b.poll(t, "the exported report", `document.documentElement.getAttribute('data-renders') >= 1`, 10*time.Second)
	b.checkPage(t, 5)
	if n := b.eval(t, `document.querySelectorAll('#thresholds-table tr.threshold.fail').length`); n < 1 {
		t.Errorf("the export shows no failed threshold")
	}
	b.screenshot(t, "dashboard-export.png")

	// k6verdict's report of the run's JSON, with the run itself as the baseline.
	report := filepath.Join(dir, "k6verdict.html")
	r := run(t, "", time.Minute, nil, "k6verdict", "report", out, "--baseline", out, "-o", report)
	if r.Code != 99 {
		t.Fatalf("k6verdict report: exit %d, want 99\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate("file://"+report)); err != nil {
		t.Fatal(err)
	}
	b.poll(t, "k6verdict's report", `document.documentElement.getAttribute('data-renders') >= 1`, 10*time.Second)
	b.checkPage(t, 5)
	for what, expr := range map[string]string{
		"windows":               `document.querySelectorAll('#windows-table tr.window').length`,
		"breaking point row":    `document.querySelectorAll('#windows-table tr.breaking').length`,
		"breaking point line":   `document.querySelectorAll('svg.chart line.breaking').length`,
		"latency against load":  `Number(document.querySelector('svg.chart[data-chart=load]').getAttribute('data-points'))`,
		"baseline drawn":        `document.querySelectorAll('svg.chart path.baseline').length`,
		"threshold limit lines": `document.querySelectorAll('svg.chart line.limit').length`,
	} {
		if n := b.eval(t, expr); n < 1 {
			t.Errorf("%s: %s = %d", what, expr, n)
		}
	}
	b.screenshot(t, "k6verdict-report.png")
}
