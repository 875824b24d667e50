package host

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cortexhq/cortex/internal/wasmbuild"
	"github.com/cortexhq/cortex/providers/local"
)

var benchWasm = sync.OnceValues(func() (string, error) {
	sdk, _ := filepath.Abs("../sdk")
	return wasmbuild.Build(context.Background(), "testdata/plugins/faulty", wasmbuild.Options{ExtraSources: []string{sdk}})
})

// benchHost loads the faulty test plugin (whose well-behaved exports these benchmarks
// use) into a host whose compile cache is cacheDir.
func benchHost(b *testing.B, cacheDir string, poolSize int) *Host {
	b.Helper()
	return benchHostWith(b, cacheDir, poolSize, false)
}

func benchHostWith(b *testing.B, cacheDir string, poolSize int, uninterruptible bool) *Host {
	b.Helper()
	wasm, err := benchWasm()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	data, _ := os.ReadFile(wasm)
	os.WriteFile(filepath.Join(dir, "faulty.wasm"), data, 0o644)
	manifest := "[[plugin]]\nname = \"faulty\"\nkind = \"workflow\"\nwasm = \"faulty.wasm\"\ncapabilities = [\"kv\"]\n" +
		"[plugin.config]\ngreeting = \"hi\"\n[plugin.limits]\nmemory_mb = 256\npool_size = " + itoa(poolSize) + "\nmax_calls_per_instance = 1000000\n" +
		"uninterruptible = " + strconv.FormatBool(uninterruptible) + "\n"
	os.WriteFile(filepath.Join(dir, "plugins.toml"), []byte(manifest), 0o644)
	h, err := New(context.Background(), Options{
		PluginsDir: dir, CacheDir: cacheDir,
		Services: Services{Models: NewModelsWith(local.New(), local.New())},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := h.WaitReady(context.Background()); err != nil {
		b.Fatal(err)
	}
	if info, _ := h.Plugin("faulty"); info.State != StateReady {
		b.Fatalf("not ready: %s", info.LastError)
	}
	return h
}

func itoa(n int) string { return strconv.Itoa(n) }

// benchCall measures a call both ways a plugin can be compiled: with the deadline checks
// (the default) and uninterruptible (the built-ins).
func benchCall(b *testing.B, export string, input []byte) {
	for _, uninterruptible := range []bool{false, true} {
		name := "interruptible"
		if uninterruptible {
			name = "uninterruptible"
		}
		b.Run(name, func(b *testing.B) {
			h := benchHostWith(b, filepath.Join(os.TempDir(), "cortex-bench-cache"), 2, uninterruptible)
			defer h.Close(context.Background())
			ctx := context.Background()
			b.SetBytes(int64(len(input)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := h.Call(ctx, "faulty", export, input); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCallNoop(b *testing.B) { benchCall(b, "noop", []byte(`{}`)) }

// BenchmarkCallHostRoundTrip makes one host function call (cortex_config) per call; the
// difference from BenchmarkCallNoop is the cost of a round trip.
func BenchmarkCallHostRoundTrip(b *testing.B) { benchCall(b, "hostcall", []byte(`{}`)) }

func BenchmarkCallEcho1MiB(b *testing.B) {
	benchCall(b, "echo", []byte(`"`+strings.Repeat("x", 1<<20-2)+`"`))
}

func BenchmarkPoolAcquireWarm(b *testing.B) {
	h := benchHost(b, filepath.Join(os.TempDir(), "cortex-bench-cache"), 2)
	defer h.Close(context.Background())
	sl, _ := h.slot("faulty")
	v, release, _ := sl.acquire(context.Background())
	defer release()
	ctx := context.Background()
	for b.Loop() {
		in, err := v.pool.acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		v.pool.release(in, true)
	}
}

// BenchmarkLoadCold measures a first start: compile without a cache, instantiate, describe.
func BenchmarkLoadCold(b *testing.B) {
	for b.Loop() {
		h := benchHost(b, b.TempDir(), 1)
		h.Close(context.Background())
	}
}

// BenchmarkLoadCached measures a second start, with compiled code from the on-disk cache.
func BenchmarkLoadCached(b *testing.B) {
	cache := b.TempDir()
	benchHost(b, cache, 1).Close(context.Background())
	for b.Loop() {
		h := benchHost(b, cache, 1)
		h.Close(context.Background())
	}
}

// BenchmarkReload measures a forced reload of an unchanged module: compile (cached),
// probe, describe, swap.
func BenchmarkReload(b *testing.B) {
	h := benchHost(b, filepath.Join(os.TempDir(), "cortex-bench-cache"), 1)
	defer h.Close(context.Background())
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Reload(ctx, "faulty"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIdleInstanceMemory reports the Go heap and RSS one idle, warm instance holds.
func BenchmarkIdleInstanceMemory(b *testing.B) {
	const n = 8
	h := benchHost(b, filepath.Join(os.TempDir(), "cortex-bench-cache"), n)
	defer h.Close(context.Background())
	sl, _ := h.slot("faulty")
	v, release, _ := sl.acquire(context.Background())
	defer release()
	// The probe instance is already live; start from a pool with one instance.
	var heap0, heap1 uint64
	rss0 := rssBytes()
	heap0 = heapInUse()
	for b.Loop() {
		held := make([]*instance, 0, n-1)
		for range n - 1 {
			in, err := v.pool.acquire(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := in.plugin.CallWithContext(withCallInfo(context.Background(), v), "noop", []byte(`{}`)); err != nil {
				b.Fatal(err)
			}
			held = append(held, in)
		}
		heap1 = heapInUse()
		b.ReportMetric(float64(heap1-heap0)/float64(n-1)/1024, "heap-KiB/instance")
		b.ReportMetric(float64(int64(rssBytes())-int64(rss0))/float64(n-1)/1024, "rss-KiB/instance")
		for _, in := range held {
			v.pool.release(in, false)
		}
		heap0 = heapInUse()
		rss0 = rssBytes()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func rssBytes() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0
	}
	rss, _ := strconv.ParseUint(fields[1], 10, 64)
	return rss * uint64(os.Getpagesize())
}
