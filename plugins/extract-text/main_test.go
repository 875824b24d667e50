//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
)

// These tests build the plugin to Wasm and run it in a real host, under the limits the
// built-in manifest gives it.

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the plugin's output")

var (
	buildOnce sync.Once
	wasmPath  string
)

// load builds the plugin once per test binary and starts it in a fresh host.
func load(t *testing.T) *harness.Plugin {
	t.Helper()
	buildOnce.Do(func() { wasmPath = harness.Build(t, ".") })
	if wasmPath == "" {
		t.Fatal("the plugin failed to build in an earlier test")
	}
	// Naming the plugin spares the harness a describe call (a compile). memory_mb matches
	// the extract-text entry of the root plugins.toml.
	return harness.Load(t, wasmPath, harness.Options{
		Name: "extract-text", Kind: abi.KindExtractor, Limits: host.Limits{MemoryMB: 128},
	})
}

func TestDescribe(t *testing.T) {
	p := load(t)
	d, err := host.DescribeWasm(context.Background(), mustRead(t, wasmPath))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "extract-text" || d.Kind != abi.KindExtractor || d.Version != "1.0.0" || !slices.Equal(d.Exports, []string{abi.ExportExtract}) {
		t.Errorf("description %+v", d)
	}
	if m := d.Match; m == nil || m.Priority != 0 ||
		!slices.Equal(m.ContentTypes, []string{"text/plain", "text/markdown", "text/x-markdown"}) ||
		!slices.Equal(m.URLGlobs, []string{"*.md", "*.markdown", "*.txt"}) {
		t.Errorf("match %+v", d.Match)
	}
	// The host picks it from those rules.
	for _, c := range []struct{ url, ct string }{
		{"https://example.com/README.md", ""},
		{"https://example.com/notes.txt", ""},
		{"", "text/markdown"},
		{"", "text/plain"},
	} {
		if name, err := p.Host.PickExtractor(c.url, host.DetectContentType(c.ct, c.url, "x")); err != nil || name != "extract-text" {
			t.Errorf("PickExtractor(%q, %q) = %q, %v", c.url, c.ct, name, err)
		}
	}
}

// TestGolden runs every testdata/golden input (.md as text/markdown, .txt as text/plain)
// and compares with its .golden file: a header of title, language and metadata, a blank
// line, then the text. Run with -update to rewrite the files, then review the diff. Some
// inputs end lines with spaces on purpose (hard breaks in setext.md, trailing blanks in
// lines.txt): an editor that strips them changes what is tested.
func TestGolden(t *testing.T) {
	p := load(t)
	inputs, err := filepath.Glob("testdata/golden/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		ct := map[string]string{".md": "text/markdown", ".txt": "text/plain"}[filepath.Ext(in)]
		if ct == "" {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			out, err := p.Extract(abi.ExtractInput{Content: string(mustRead(t, in)), ContentType: ct})
			if err != nil {
				t.Fatal(err)
			}
			got := goldenText(t, out)
			golden := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := string(mustRead(t, golden)); got != want {
				t.Errorf("%s differs from %s (run with -update and review the diff):\n%s", in, golden, firstDiff(got, want))
			}
		})
	}
	if n == 0 {
		t.Fatal("no golden inputs")
	}
}

func goldenText(t *testing.T, out abi.ExtractOutput) string {
	meta, err := json.Marshal(out.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "title: %s\nlanguage: %s\n", out.Title, out.Language)
	if out.Byline != "" {
		fmt.Fprintf(&b, "byline: %s\n", out.Byline)
	}
	if out.PublishedAt != "" {
		fmt.Fprintf(&b, "published_at: %s\n", out.PublishedAt)
	}
	fmt.Fprintf(&b, "metadata: %s\n\n%s\n", meta, out.Text)
	return b.String()
}

// firstDiff shows the first line where got and want part.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, gl, wl)
		}
	}
	return "(same lines)"
}

func TestTitleAndMetadata(t *testing.T) {
	p := load(t)
	out, err := p.Extract(abi.ExtractInput{
		Title:       "Saved title",
		URL:         "https://raw.githubusercontent.com/acme/x/main/NOTES.md",
		ContentType: "text/plain; charset=utf-8",
		Content:     "---\ntitle: Front matter\nauthor: Ada\n---\n# Heading\n\nSee [the guide](guide.md).",
	})
	if err != nil {
		t.Fatal(err)
	}
	// A .md URL is Markdown even when served as text/plain.
	if out.Title != "Saved title" || out.Text != "# Heading\n\nSee the guide." || out.Byline != "Ada" {
		t.Errorf("got %+v", out)
	}
	if out.Metadata["title"] != "Front matter" || out.Metadata["word_count"] != float64(4) {
		t.Errorf("metadata %v", out.Metadata)
	}
}

// TestNastyInputs checks that broken or hostile content gives some output, never an
// error, through the real JSON boundary. (extract_test.go feeds far larger hostile inputs
// to the same code natively, where they are quicker to run.)
func TestNastyInputs(t *testing.T) {
	p := load(t)
	inputs := map[string]string{
		"empty":           "",
		"whitespace":      " \n\r\n\t\f ",
		"bom only":        "\uFEFF",
		"front matter":    "---\ntitle: only\n---\n",
		"dashes":          "---\n---\n---",
		"unclosed fence":  "# T\n```\n" + strings.Repeat("x\n", 1000),
		"unclosed html":   "<div\n<img alt='\n<!--",
		"nul bytes":       "a\x00b\x00\x00",
		"invalid utf-8":   "\xff\xfe\xfd text \xc3\x28",
		"deep nesting":    strings.Repeat("> - ", 5000) + "x",
		"brackets":        strings.Repeat("[", 1<<16),
		"links":           strings.Repeat("[a](b)", 1<<14),
		"backticks":       strings.Repeat("`", 1<<16),
		"tabs and spaces": strings.Repeat(" \t", 1<<15),
		"long word":       strings.Repeat("x", 1<<16),
		"many blank":      strings.Repeat("\n", 1<<16),
		"table":           "|" + strings.Repeat("a|", 1<<12) + "\n|" + strings.Repeat("-|", 1<<12),
	}
	for name, content := range inputs {
		for _, ct := range []string{"text/markdown", "text/plain", ""} {
			out, err := p.Extract(abi.ExtractInput{Content: content, ContentType: ct})
			if err != nil {
				t.Errorf("%s (%q): %v", name, ct, err)
				continue
			}
			checkOutput(t, name, normalizeNumbers(out))
		}
	}
	out, err := p.Extract(abi.ExtractInput{ContentType: "text/markdown"})
	if err != nil || out.Text != "" || out.Title != "" {
		t.Errorf("empty content: %+v, %v", out, err)
	}
}

// normalizeNumbers turns word_count back into an int after its JSON round trip.
func normalizeNumbers(out abi.ExtractOutput) abi.ExtractOutput {
	if f, ok := out.Metadata["word_count"].(float64); ok {
		out.Metadata["word_count"] = int(f)
	}
	return out
}

// TestHugeInput extracts 5 MB documents within the built-in memory limit.
func TestHugeInput(t *testing.T) {
	if testing.Short() {
		t.Skip("5 MB through Wasm takes seconds")
	}
	p := load(t)
	var md strings.Builder
	for i := 0; md.Len() < 5<<20; i++ {
		fmt.Fprintf(&md, "## Section %d\n\nThis paragraph is hard-wrapped the way editors wrap\nprose, and it links to [page %d](https://example.com/%d)\nso that every inline path is taken.\n\n- item one\n- item `two`\n\n```go\nx := %d\n```\n\n| a | b |\n|---|---|\n| %d | <b>bold</b> |\n\n", i, i, i, i, i)
	}
	var txt strings.Builder
	for txt.Len() < 5<<20 {
		txt.WriteString("The quarterly numbers are in and they look better than we expected at\nthe start of the year, mostly thanks to the new pricing tiers that went\nlive in March.\n\n")
	}
	for _, c := range []struct{ ct, content string }{{"text/markdown", md.String()}, {"text/plain", txt.String()}} {
		start := time.Now()
		out, err := p.Extract(abi.ExtractInput{Content: c.content, ContentType: c.ct})
		if err != nil {
			t.Fatalf("%s: %v", c.ct, err)
		}
		t.Logf("%s: %d MB in %v, %d bytes of text", c.ct, len(c.content)>>20, time.Since(start).Round(time.Millisecond), len(out.Text))
		if len(out.Text) < len(c.content)/2 || out.Language != "en" {
			t.Errorf("%s: text of %d bytes, language %q", c.ct, len(out.Text), out.Language)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
