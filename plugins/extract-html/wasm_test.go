//go:build !wasip1

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
)

// sandboxLimits mirror the extract-html entry in plugins.toml.
var sandboxLimits = host.Limits{MemoryMB: 256, TimeoutMS: 60_000, Uninterruptible: true}

// loadWasm builds the real plugin and loads it into a real host. Naming it spares the
// harness a describe call (one more compile); TestWasm calls describe itself.
// CORTEX_EXTRACT_MEMORY_MB overrides the memory limit, to find what a page needs.
func loadWasm(tb testing.TB) *harness.Plugin {
	tb.Helper()
	limits := sandboxLimits
	if v, err := strconv.Atoi(os.Getenv("CORTEX_EXTRACT_MEMORY_MB")); err == nil {
		limits.MemoryMB = v
	}
	return harness.Load(tb, harness.Build(tb, "."), harness.Options{Name: "extract-html", Kind: abi.KindExtractor, Limits: limits})
}

// TestWasm proves the plugin works inside the sandbox: it describes itself as the HTML
// extractor and extracts a page, an empty input, plain text and bytes that are not UTF-8.
func TestWasm(t *testing.T) {
	p := loadWasm(t)
	var d abi.Description
	if err := p.Call(abi.ExportDescribe, nil, &d); err != nil {
		t.Fatalf("describe: %v", err)
	}
	if d.Name != "extract-html" || d.Kind != abi.KindExtractor || d.Version != "1.0.0" || d.ABIVersion != abi.Version {
		t.Errorf("describe: name %q kind %q version %q abi %d", d.Name, d.Kind, d.Version, d.ABIVersion)
	}
	if m := d.Match; m == nil || strings.Join(m.ContentTypes, ",") != "text/html,application/xhtml+xml" || len(m.URLGlobs) != 0 || m.Priority != 0 {
		t.Errorf("match rules: %+v", d.Match)
	}

	src, err := os.ReadFile(filepath.Join("testdata", "fixtures", "article.html"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "fixtures", "article.txt"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := p.Extract(abi.ExtractInput{URL: fixtureURL, Content: string(src), ContentType: "text/html"})
	if err != nil {
		t.Fatalf("extract in the sandbox: %v", err)
	}
	t.Logf("first call in a fresh sandbox: %v", time.Since(start))
	if out.Text+"\n" != string(want) {
		t.Errorf("sandbox text differs from the native one:\n%s", firstDiff(string(want), out.Text+"\n"))
	}
	if out.Title != "Why tides turn" || out.PublishedAt != "2024-03-05T08:30:00+01:00" || out.Metadata["site_name"] != "The Sea Gazette" {
		t.Errorf("sandbox metadata: title %q published %q metadata %v", out.Title, out.PublishedAt, out.Metadata)
	}

	for _, in := range []abi.ExtractInput{
		{Content: "", ContentType: "text/html"},
		{Content: "just   text", ContentType: "text/html"},
		{Content: "<p>caf\xe9</p>", ContentType: "text/html"},
	} {
		if _, err := p.Extract(in); err != nil {
			t.Errorf("extract %q: %v", in.Content, err)
		}
	}
}

// TestWasmHugePage extracts a 5 MB page inside the sandbox at the manifest's memory and
// time limits (about 4 s uninterruptible; 15–26 s with deadline checks compiled in).
func TestWasmHugePage(t *testing.T) {
	p := loadWasm(t)
	huge := hugePage(5 << 20)
	start := time.Now()
	out, err := p.Extract(abi.ExtractInput{Content: huge, ContentType: "text/html"})
	if err != nil {
		t.Fatalf("extract a 5 MB page in the sandbox: %v", err)
	}
	t.Logf("5 MB page in the sandbox: %v", time.Since(start))
	if !strings.Contains(out.Text, "The last paragraph of the huge page.") {
		t.Errorf("5 MB page lost its end: …%s", out.Text[max(0, len(out.Text)-200):])
	}
}

// BenchmarkWasmExtract is the per-page cost inside the sandbox, over the golden pages.
func BenchmarkWasmExtract(b *testing.B) {
	p := loadWasm(b)
	pages := benchPages(b)
	// One call first, so the numbers are of a warm instance; TestWasm logs the cold one.
	if _, err := p.Extract(pages[0]); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, in := range pages {
			if _, err := p.Extract(in); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(n), "ms/page")
}

// BenchmarkExtract is the same outside the sandbox.
func BenchmarkExtract(b *testing.B) {
	pages := benchPages(b)
	n := 0
	for b.Loop() {
		for _, in := range pages {
			if _, err := extract(in); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(n), "ms/page")
}

func benchPages(b *testing.B) []abi.ExtractInput {
	var pages []abi.ExtractInput
	for _, name := range goldenPages {
		pages = append(pages, abi.ExtractInput{URL: testPageURL, Content: readPage(b, name, "source.html"), ContentType: "text/html"})
	}
	return pages
}
