//go:build !wasip1

package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cortexhq/cortex/sdk/abi"
)

// goldenPages are real pages from go-readability's test-pages, read from the module cache.
// testdata/golden/<page>.txt is the text a reader should get (each was read by eye) and
// <page>.json the metadata; `go test -update` rewrites both, and the diff is then
// reviewed like code.
var goldenPages = []string{
	"guardian-1",           // news: captions, a byline and date from metadata
	"lemonde-1",            // news in French
	"yahoo-4",              // news in Japanese: no spaces between words
	"firefox-nightly-blog", // blog: deep heading levels, nested lists
	"v8-blog",              // blog with code blocks and inline code; h1 beats <title>
	"mercurial",            // docs: table of contents, shell sessions, quoted lists
	"lwn-1",                // tables inside quotes, many sections
	"wikipedia-3",          // reference: formulas, indented proofs, footnotes
}

// goldenMeta is what the golden JSON pins besides the text.
type goldenMeta struct {
	Title       string         `json:"title"`
	Byline      string         `json:"byline,omitempty"`
	PublishedAt string         `json:"published_at,omitempty"`
	Language    string         `json:"language,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

func TestGolden(t *testing.T) {
	for _, name := range goldenPages {
		t.Run(name, func(t *testing.T) {
			src := readPage(t, name, "source.html")
			out, err := extract(abi.ExtractInput{URL: testPageURL, Content: src, ContentType: "text/html"})
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			if len(out.Text) < 500 {
				t.Errorf("text is only %d bytes", len(out.Text))
			}
			base := filepath.Join("testdata", "golden", name)
			compareFile(t, base+".txt", out.Text+"\n")
			var meta strings.Builder
			enc := json.NewEncoder(&meta)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(goldenMeta{out.Title, out.Byline, out.PublishedAt, out.Language, out.Metadata}); err != nil {
				t.Fatal(err)
			}
			compareFile(t, base+".json", meta.String())
		})
	}
}
