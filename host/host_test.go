package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/internal/wasmbuild"
	"github.com/cortexhq/cortex/providers/local"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
	"github.com/cortexhq/cortex/store/storetest"
)

// Test plugins, built once per test binary (and cached across runs by source hash).
var wasm struct {
	faulty, faultyV2, nettest, plain, flow, flowV2 string
}

func TestMain(m *testing.M) {
	ctx := context.Background()
	sdkDir, _ := filepath.Abs("../sdk")
	build := func(dir, ldflags string) string {
		p, err := wasmbuild.Build(ctx, dir, wasmbuild.Options{LDFlags: ldflags, ExtraSources: []string{sdkDir}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return p
	}
	wasm.faulty = build("testdata/plugins/faulty", "")
	wasm.faultyV2 = build("testdata/plugins/faulty", "-X main.answer=v2")
	wasm.nettest = build("testdata/plugins/nettest", "")
	wasm.plain = build("testdata/plugins/plain", "")
	wasm.flow = build("testdata/plugins/flow", "")
	wasm.flowV2 = build("testdata/plugins/flow", "-X main.schema=2")
	os.Exit(m.Run())
}

// newHost starts a real host over a real store with the given user plugins.toml; the
// .wasm files named in it are copied in from the test builds.
func newHost(t testing.TB, manifest string, files map[string]string) (*host.Host, string) {
	t.Helper()
	return newHostWithStore(t, storetest.MustOpen(t), manifest, files)
}

func newHostWithStore(t testing.TB, db *store.DB, manifest string, files map[string]string, tweaks ...func(*host.Options)) (*host.Host, string) {
	t.Helper()
	dir := t.TempDir()
	pluginsDir := filepath.Join(dir, "plugins")
	os.MkdirAll(pluginsDir, 0o755)
	for name, src := range files {
		copyFile(t, src, filepath.Join(pluginsDir, name))
	}
	if manifest != "" {
		os.WriteFile(filepath.Join(pluginsDir, "plugins.toml"), []byte(manifest), 0o644)
	}
	opts := host.Options{
		PluginsDir: pluginsDir,
		CacheDir:   filepath.Join(os.TempDir(), "cortex-host-test-cache"),
		Services: host.Services{
			Store:    db,
			Models:   host.NewModelsWith(local.New(), local.New()),
			Settings: func() map[string]string { return map[string]string{"chunk_size": "500"} },
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	h, err := host.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return h, pluginsDir
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

const faultyManifest = `
[[plugin]]
name = "faulty"
kind = "workflow"
wasm = "faulty.wasm"
capabilities = ["kv"]
[plugin.config]
greeting = "hello"
[plugin.limits]
memory_mb = 64
timeout_ms = 2000
max_output_bytes = 1048576

[[plugin]]
name = "healthy"
kind = "workflow"
wasm = "faulty.wasm"
capabilities = ["kv"]
`

func call(t testing.TB, h *host.Host, plugin, export, input string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := h.Call(ctx, plugin, export, []byte(input))
	return string(out), err
}

func TestFaultsFailOnlyTheirCall(t *testing.T) {
	h, _ := newHost(t, faultyManifest, map[string]string{"faulty.wasm": wasm.faulty})
	tests := []struct {
		export string
		want   error
		msg    string
	}{
		{"fail", host.ErrPluginFailed, "this plugin refuses"},
		{"panic", host.ErrPluginFailed, "panic: boom"},
		{"trap", host.ErrTrap, "panic: assignment to entry in nil map"},
		{"loop", host.ErrTimeout, "2s"},
		{"alloc", host.ErrTrap, "out of memory"},
		{"big", host.ErrTrap, "out of memory"},
		{"junk", host.ErrBadOutput, "not JSON"},
		{"empty", host.ErrBadOutput, "no output"},
		{"nosuchexport", host.ErrNoExport, "nosuchexport"},
	}
	for _, tc := range tests {
		t.Run(tc.export, func(t *testing.T) {
			_, err := call(t, h, "faulty", tc.export, `{}`)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), `"faulty"`) {
				t.Errorf("error %q should name the plugin and say %q", err, tc.msg)
			}
			// The same plugin and its neighbour keep answering.
			for _, p := range []string{"faulty", "healthy"} {
				if out, err := call(t, h, p, "answer", `{}`); err != nil || out != `{"answer":"v1"}` {
					t.Fatalf("%s after %s: %q %v", p, tc.export, out, err)
				}
			}
		})
	}
	info, _ := h.Plugin("faulty")
	if info.Stats.Errors != int64(len(tests)) || info.State != host.StateReady {
		t.Errorf("stats after faults: %+v state %s", info.Stats, info.State)
	}
}

func TestOutputOverLimit(t *testing.T) {
	// Writing 100 MiB through Extism's kernel takes seconds; give it the time, so the
	// output limit is what stops it.
	manifest := strings.Replace(faultyManifest, "memory_mb = 64\ntimeout_ms = 2000", "memory_mb = 512\ntimeout_ms = 120000", 1)
	h, _ := newHost(t, manifest, map[string]string{"faulty.wasm": wasm.faulty})
	_, err := call(t, h, "faulty", "big", `{}`)
	if !errors.Is(err, host.ErrLimit) || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("100 MiB output: err = %v; want ErrLimit", err)
	}
	big := `"` + strings.Repeat("y", 40<<20) + `"`
	if _, err := call(t, h, "healthy", "echo", big); !errors.Is(err, host.ErrLimit) {
		t.Fatalf("40 MiB input: err = %v; want ErrLimit", err)
	}
}

func TestHostFunctionsAndConfig(t *testing.T) {
	h, _ := newHost(t, faultyManifest, map[string]string{"faulty.wasm": wasm.faulty})
	out, err := call(t, h, "faulty", "hostcall", `{}`)
	if err != nil || out != `{"found":true,"greeting":"hello"}` {
		t.Fatalf("hostcall: %s %v", out, err)
	}
	out, err = call(t, h, "faulty", "kv", `{"Key":"k","Value":"stored"}`)
	if err != nil || out != `{"found":true,"value":"stored"}` {
		t.Fatalf("kv: %s %v", out, err)
	}
}

func TestUngrantedImportIsRefusedAtLoad(t *testing.T) {
	manifest := `
[[plugin]]
name = "nettest"
kind = "workflow"
wasm = "nettest.wasm"
`
	h, _ := newHost(t, manifest, map[string]string{"nettest.wasm": wasm.nettest})
	info, err := h.Plugin("nettest")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != host.StateFailed || !strings.Contains(info.LastError, "cortex_http_fetch") || !strings.Contains(info.LastError, `"http"`) {
		t.Fatalf("state %s, error %q; want failed naming cortex_http_fetch and the http capability", info.State, info.LastError)
	}
	if _, err := call(t, h, "nettest", "fetch", `{}`); !errors.Is(err, host.ErrNotReady) {
		t.Fatalf("call: %v; want ErrNotReady", err)
	}
}

func TestHTTPReachesOnlyAllowedHosts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, "http://localhost:1/elsewhere", http.StatusFound)
			return
		}
		io.WriteString(w, "hello from "+r.URL.Path)
	}))
	defer srv.Close()
	manifest := `
[[plugin]]
name = "nettest"
kind = "workflow"
wasm = "nettest.wasm"
capabilities = ["http"]
allowed_hosts = ["127.0.0.1"]
`
	h, _ := newHost(t, manifest, map[string]string{"nettest.wasm": wasm.nettest})
	out, err := call(t, h, "nettest", "fetch", fmt.Sprintf(`{"URL":%q}`, srv.URL+"/ok"))
	if err != nil || !strings.Contains(out, "hello from /ok") {
		t.Fatalf("allowed host: %s %v", out, err)
	}
	for _, target := range []string{"http://localhost:" + strings.Split(srv.URL, ":")[2] + "/x", srv.URL + "/away", "http://example.com/"} {
		_, err := call(t, h, "nettest", "fetch", fmt.Sprintf(`{"URL":%q}`, target))
		if !errors.Is(err, host.ErrPluginFailed) || !strings.Contains(err.Error(), "denied") {
			t.Errorf("fetch %s: err = %v; want a denied error", target, err)
		}
	}
}

func TestPoolAcquireHonoursContext(t *testing.T) {
	manifest := strings.Replace(faultyManifest, "timeout_ms = 2000", "timeout_ms = 3000\npool_size = 1", 1)
	h, _ := newHost(t, manifest, map[string]string{"faulty.wasm": wasm.faulty})
	go h.Call(context.Background(), "faulty", "loop", nil) // holds the only instance
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Call(ctx, "faulty", "noop", []byte(`{}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the caller's deadline", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("acquire ignored the context: waited %s", waited)
	}
}

// TestReloadUnderLoad swaps versions 20 times while 8 goroutines call without pause: no
// call may fail, and a call that ran entirely after a reload returned must see the new
// version.
func TestReloadUnderLoad(t *testing.T) {
	manifest := `
[[plugin]]
name = "faulty"
kind = "workflow"
wasm = "faulty.wasm"
capabilities = ["kv"]
`
	h, dir := newHost(t, manifest, map[string]string{"faulty.wasm": wasm.faulty})
	var (
		mu       sync.Mutex
		expected = "v1"
		epoch    int
		reloadOn bool
	)
	snapshot := func() (string, int, bool) {
		mu.Lock()
		defer mu.Unlock()
		return expected, epoch, reloadOn
	}
	stop := make(chan struct{})
	var calls, checked atomic.Int64
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				want, e1, busy1 := snapshot()
				out, err := h.Call(context.Background(), "faulty", "answer", []byte(`{}`))
				_, e2, busy2 := snapshot()
				calls.Add(1)
				if err != nil {
					errs <- err
					return
				}
				var got struct{ Answer string }
				json.Unmarshal(out, &got)
				if e1 == e2 && !busy1 && !busy2 {
					checked.Add(1)
					if got.Answer != want {
						errs <- fmt.Errorf("after reload %d got %q, want %q", e1, got.Answer, want)
						return
					}
				}
			}
		}()
	}
	for i := range 20 {
		next, src := "v2", wasm.faultyV2
		if i%2 == 1 {
			next, src = "v1", wasm.faulty
		}
		mu.Lock()
		reloadOn = true
		mu.Unlock()
		copyFile(t, src, filepath.Join(dir, "faulty.wasm"))
		if _, err := h.Reload(context.Background(), "faulty"); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		expected, epoch, reloadOn = next, epoch+1, false
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if checked.Load() < 100 {
		t.Fatalf("only %d of %d calls could be checked", checked.Load(), calls.Load())
	}
	t.Logf("%d calls, %d checked against the current version", calls.Load(), checked.Load())
}

func TestFailedReloadKeepsOldVersion(t *testing.T) {
	h, dir := newHost(t, faultyManifest, map[string]string{"faulty.wasm": wasm.faulty})
	os.WriteFile(filepath.Join(dir, "faulty.wasm"), []byte("\x00asm garbage"), 0o644)
	if _, err := h.Reload(context.Background(), "faulty"); err == nil {
		t.Fatal("reload of a broken module succeeded")
	}
	info, _ := h.Plugin("faulty")
	if info.State != host.StateReady || info.LastError == "" {
		t.Errorf("state %s last error %q; want ready with the error shown", info.State, info.LastError)
	}
	if out, err := call(t, h, "faulty", "answer", `{}`); err != nil || out != `{"answer":"v1"}` {
		t.Fatalf("old version stopped serving: %s %v", out, err)
	}
}

func TestDropInPluginAppearsAndDisappears(t *testing.T) {
	h, dir := newHost(t, "", nil)
	if len(h.Plugins()) != 0 {
		t.Fatalf("plugins at start: %+v", h.Plugins())
	}
	copyFile(t, wasm.plain, filepath.Join(dir, "mine.wasm"))
	if err := h.ReloadChanged(context.Background()); err != nil {
		t.Fatal(err)
	}
	info, err := h.Plugin("plain-upper")
	if err != nil || info.Source != host.SourceDropIn || info.State != host.StateReady || info.Kind != "extractor" {
		t.Fatalf("drop-in: %+v %v", info, err)
	}
	res, err := h.Extract(context.Background(), abi.ExtractInput{Content: "quiet words", ContentType: "text/x-shout"})
	if err != nil || res.Extractor != "plain-upper" || res.Output.Text != "QUIET WORDS" {
		t.Fatalf("extract through the drop-in: %+v %v", res, err)
	}
	os.Remove(filepath.Join(dir, "mine.wasm"))
	if err := h.ReloadChanged(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Plugin("plain-upper"); !errors.Is(err, host.ErrNotFound) {
		t.Fatalf("removed drop-in still listed: %v", err)
	}
}

// A drop-in has no manifest entry, so it gets no capability: one that imports kv is
// refused, and the refusal is visible under its file name.
func TestDropInGetsNoCapability(t *testing.T) {
	h, dir := newHost(t, "", nil)
	copyFile(t, wasm.faulty, filepath.Join(dir, "greedy.wasm"))
	if err := h.ReloadChanged(context.Background()); err != nil {
		t.Fatal(err)
	}
	info, err := h.Plugin("greedy")
	if err != nil {
		t.Fatalf("refused drop-in not listed: %v (plugins: %+v)", err, h.Plugins())
	}
	if info.State != host.StateFailed || !strings.Contains(info.LastError, "cortex_kv_set") || !strings.Contains(info.LastError, "drop-in") {
		t.Fatalf("info: %+v", info)
	}
}

func TestSoakMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	manifest := strings.Replace(faultyManifest, "timeout_ms = 2000", "timeout_ms = 2000\npool_size = 1\nmax_calls_per_instance = 100000", 1)
	h, _ := newHost(t, manifest, map[string]string{"faulty.wasm": wasm.faulty})
	var first, last struct{ Sys, NumGC uint64 }
	for i := range 10_000 {
		out, err := call(t, h, "faulty", "churn", `{"KB":64}`)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		var m map[string]uint64
		json.Unmarshal([]byte(out), &m)
		if i == 500 {
			first.Sys, first.NumGC = m["sys"], m["num_gc"]
		}
		last.Sys, last.NumGC = m["sys"], m["num_gc"]
	}
	t.Logf("guest memory after 500 calls: %d KiB (%d GCs); after 10,000: %d KiB (%d GCs)", first.Sys>>10, first.NumGC, last.Sys>>10, last.NumGC)
	// The failure this guards against is the collector stopping altogether.
	if last.NumGC <= first.NumGC+10 {
		t.Errorf("garbage collection stopped: %d cycles after 500 calls, %d after 10,000", first.NumGC, last.NumGC)
	}
	if last.Sys > first.Sys*3/2+(8<<20) {
		t.Errorf("guest memory grew from %d to %d KiB over 9,500 calls of 64 KiB garbage", first.Sys>>10, last.Sys>>10)
	}
}

// TestExtractorPrecedence: the highest priority wins; at equal priority a URL-glob match
// beats a content-type match and a user plugin beats a built-in one; a user entry of a
// built-in's name replaces it.
func TestExtractorPrecedence(t *testing.T) {
	plain, err := os.ReadFile(wasm.plain)
	if err != nil {
		t.Fatal(err)
	}
	builtin := fstest.MapFS{
		"plugins.toml": {Data: []byte(`
[[plugin]]
name = "generic"
kind = "extractor"
wasm = "plain.wasm"
[plugin.match]
content_types = ["text/x-shout"]

[[plugin]]
name = "replaced"
kind = "extractor"
wasm = "plain.wasm"
[plugin.match]
content_types = ["text/x-other"]
`)},
		"plain.wasm": {Data: plain},
	}
	dir := t.TempDir()
	copyFile(t, wasm.plain, filepath.Join(dir, "plain.wasm"))
	os.WriteFile(filepath.Join(dir, "plugins.toml"), []byte(`
[[plugin]]
name = "site-specific"
kind = "extractor"
wasm = "plain.wasm"
[plugin.match]
url_globs = ["https://example.org/*"]

[[plugin]]
name = "fallback"
kind = "extractor"
wasm = "plain.wasm"
[plugin.match]
content_types = ["text/*"]
priority = -1

[[plugin]]
name = "replaced"
kind = "extractor"
wasm = "plain.wasm"
[plugin.match]
content_types = ["text/x-other"]
priority = 3
`), 0o644)
	h, err := host.New(context.Background(), host.Options{Builtin: builtin, PluginsDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	h.WaitReady(context.Background())
	for _, tc := range []struct{ url, ctype, want string }{
		{"https://example.org/recipe/1", "text/x-shout", "site-specific"},
		{"https://other.org/a", "text/x-shout", "generic"},
		{"https://other.org/a", "text/plain", "fallback"},
		{"", "text/x-other", "replaced"},
	} {
		got, err := h.PickExtractor(tc.url, tc.ctype)
		if err != nil || got != tc.want {
			t.Errorf("PickExtractor(%q, %q) = %q, %v; want %q", tc.url, tc.ctype, got, err, tc.want)
		}
	}
	if info, _ := h.Plugin("replaced"); info.Source != host.SourceUser || info.Match.Priority != 3 {
		t.Errorf("user entry did not replace the built-in: %+v", info)
	}
	if _, err := h.PickExtractor("", "application/pdf"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("no extractor for a PDF: err = %v", err)
	}
}

// An uninterruptible plugin runs without deadline checks in its code: a call that
// overruns must still fail with ErrTimeout long before the guest finishes, other calls
// must go on meanwhile, and the plugin must be reloaded with the checks, so that no later
// call can spin on past its deadline.
func TestUninterruptibleCallTimesOutOnTime(t *testing.T) {
	manifest := strings.Replace(faultyManifest, "timeout_ms = 2000", "timeout_ms = 300\nuninterruptible = true", 1)
	h, _ := newHost(t, manifest, map[string]string{"faulty.wasm": wasm.faulty})
	if out, err := call(t, h, "faulty", "spin", `{"ms":10}`); err != nil || !strings.Contains(out, "Spun") {
		t.Fatalf("short spin: %q %v", out, err)
	}
	if info, _ := h.Plugin("faulty"); !info.Limits.Uninterruptible {
		t.Fatalf("limits %+v; want uninterruptible", info.Limits)
	}
	// A guest that returns soon after its deadline (as one waiting on a slow host call
	// does) times out but keeps the plugin as it is.
	if _, err := call(t, h, "faulty", "spin", `{"ms":600}`); !errors.Is(err, host.ErrTimeout) {
		t.Fatalf("600 ms spin against a 300 ms timeout: %v; want ErrTimeout", err)
	}
	time.Sleep(3 * time.Second)
	if info, _ := h.Plugin("faulty"); !info.Limits.Uninterruptible {
		t.Fatalf("a guest that returned within the grace period demoted the plugin: %+v", info.Limits)
	}
	start := time.Now()
	_, err := call(t, h, "faulty", "spin", `{"ms":6000}`)
	if !errors.Is(err, host.ErrTimeout) {
		t.Fatalf("err = %v; want ErrTimeout", err)
	}
	// 300 ms timeout against a 6 s guest: anything under 5 s means the call did not wait.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the timed-out call took %s: it waited for the guest", took)
	}
	if out, err := call(t, h, "faulty", "answer", `{}`); err != nil || out != `{"answer":"v1"}` {
		t.Fatalf("call while the overrunning guest spins: %q %v", out, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, _ := h.Plugin("faulty")
		if !info.Limits.Uninterruptible && info.State == host.StateReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reloaded with deadline checks after overrunning: %+v", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Interruptible again: an endless loop is stopped at its deadline.
	if _, err := call(t, h, "faulty", "loop", `{}`); !errors.Is(err, host.ErrTimeout) {
		t.Fatalf("loop after the reload: %v; want ErrTimeout", err)
	}
	if out, err := call(t, h, "faulty", "answer", `{}`); err != nil || out != `{"answer":"v1"}` {
		t.Fatalf("after the loop: %q %v", out, err)
	}
}

// Idle instances are closed after the TTL, so a burst of work does not pin its memory for
// the rest of the day; the next call starts a fresh one.
func TestIdleInstancesAreClosed(t *testing.T) {
	h, _ := newHostWithStore(t, storetest.MustOpen(t), faultyManifest, map[string]string{"faulty.wasm": wasm.faulty},
		func(o *host.Options) { o.IdleInstanceTTL = time.Second })
	live := func() int64 {
		info, _ := h.Plugin("faulty")
		return info.Stats.LiveInstances
	}
	for round := range 2 {
		if out, err := call(t, h, "faulty", "answer", `{}`); err != nil || out != `{"answer":"v1"}` {
			t.Fatalf("round %d: %q %v", round, out, err)
		}
		if n := live(); n != 1 {
			t.Fatalf("round %d: %d live instances after a call, want 1", round, n)
		}
		deadline := time.Now().Add(10 * time.Second)
		for live() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the idle instance was not closed", round)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
