//go:build !wasip1

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/cortexhq/cortex/sdk/abi"
)

// FuzzExtract feeds arbitrary bytes through the whole extractor and through the renderer
// alone: neither may panic, and what comes out must be valid UTF-8 without runs of blank
// lines outside code blocks.
//
//	go test -run '^$' -fuzz FuzzExtract -fuzztime 1m ./plugins/extract-html/
func FuzzExtract(f *testing.F) {
	pages, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.html"))
	for _, p := range pages {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "<", "<pre>", "<table><tr><td colspan=999999999>x", "<ol start=-5><li>a",
		"<math><annotation encoding=\"application/x-tex\">x</annotation></math>",
		"<ul><li><blockquote><pre>a\n\n\nb</pre></blockquote></li></ul>",
		"\xff\xfe<\x00p>\x80", "<meta charset=shift_jis><p>\x82\xa0</p>",
		"<p>a<br><br><br><br>b</p>", "<code>```</code>", "<h1>" + strings.Repeat("<b>", 600) + "x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, page string) {
		out, err := extract(abi.ExtractInput{URL: "https://example.com/a/b", Content: page, ContentType: "text/html"})
		if err != nil {
			t.Fatalf("extract: %v", err)
		}
		checkText(t, out.Text)
		for _, s := range []string{out.Title, out.Byline, out.PublishedAt, out.Language} {
			if !utf8.ValidString(s) {
				t.Errorf("metadata is not valid UTF-8: %q", s)
			}
		}
		if doc, err := html.Parse(strings.NewReader(page)); err == nil {
			checkText(t, renderText(doc, modePage))
		}
	})
}

func checkText(t *testing.T, text string) {
	t.Helper()
	if !utf8.ValidString(text) {
		t.Fatalf("text is not valid UTF-8: %q", text)
	}
	if !strings.Contains(text, "```") && strings.Contains(text, "\n\n\n") {
		t.Fatalf("text has a run of blank lines: %q", text)
	}
}
