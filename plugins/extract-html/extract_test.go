//go:build !wasip1

package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/cortexhq/cortex/sdk/abi"
)

var update = flag.Bool("update", false, "rewrite testdata/golden and testdata/fixtures expectations from the current output")

func TestMain(m *testing.M) {
	// Inside the sandbox time.Local is UTC, and the library reads zoneless dates in
	// time.Local; pin it so native runs give the sandbox's answers on any machine.
	time.Local = time.UTC
	os.Exit(m.Run())
}

const fixtureURL = "https://news.example.com/science/2024/tides.html"

// TestFixtures renders each hand-written testdata/fixtures/<name>.html and compares the
// text with <name>.txt, which says what a reader should get.
func TestFixtures(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, page := range pages {
		name := strings.TrimSuffix(filepath.Base(page), ".html")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			out, err := extract(abi.ExtractInput{URL: fixtureURL, Content: string(src), ContentType: "text/html"})
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			compareFile(t, strings.TrimSuffix(page, ".html")+".txt", out.Text+"\n")
		})
	}
}

// TestOrphanRows covers rows the library keeps without their <table> (it sometimes
// returns a table's body as a <div>); the HTML parser would drop such rows, so the tree
// is built by hand.
func TestOrphanRows(t *testing.T) {
	rows, err := html.ParseFragment(strings.NewReader("<tr><th>Seat</th><th>Member</th></tr><tr><td>Aberconwy</td><td>Robin Millar</td></tr>"),
		&html.Node{Type: html.ElementNode, Data: "tbody", DataAtom: atom.Tbody})
	if err != nil {
		t.Fatal(err)
	}
	div := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	for _, r := range rows {
		div.AppendChild(r)
	}
	want := "| Seat | Member |\n| --- | --- |\n| Aberconwy | Robin Millar |"
	if got := renderText(div, modeArticle); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCommentSections(t *testing.T) {
	page := `<p>Post body.</p>
<div id="comments"><h3>2 comments</h3><ol><li id="comment-7443">First!</li><li id="comment-7588">Nice post.</li></ol></div>
<div id="respond"><h3>Leave a reply</h3><label>Name</label><input name="n"></div>
<section id="comments-in-code"><h2>Comments</h2><p>Say why, not what.</p></section>
<section id="comments"><h2>Comments</h2><p>A docs section about comments stays.</p></section>`
	out, err := extract(abi.ExtractInput{Content: page})
	if err != nil {
		t.Fatal(err)
	}
	want := "Post body.\n\n## Comments\n\nSay why, not what.\n\n## Comments\n\nA docs section about comments stays."
	if out.Text != want {
		t.Errorf("got %q, want %q", out.Text, want)
	}
}

func TestArticleMetadata(t *testing.T) {
	out := extractFixture(t, "article")
	want := abi.ExtractOutput{
		Title:       "Why tides turn",
		Byline:      "Ada Lovelace",
		PublishedAt: "2024-03-05T08:30:00+01:00",
		Language:    "en-GB",
	}
	if out.Title != want.Title || out.Byline != want.Byline || out.PublishedAt != want.PublishedAt || out.Language != want.Language {
		t.Errorf("got title %q byline %q published %q language %q, want %q %q %q %q",
			out.Title, out.Byline, out.PublishedAt, out.Language, want.Title, want.Byline, want.PublishedAt, want.Language)
	}
	wantMeta := map[string]string{
		"site_name":     "The Sea Gazette",
		"excerpt":       "The moon, the sun and the shape of the coast.",
		"image":         "https://news.example.com/img/tides.jpg",
		"canonical_url": "https://news.example.com/science/why-tides-turn",
	}
	for k, v := range wantMeta {
		if out.Metadata[k] != v {
			t.Errorf("metadata %s = %v, want %q", k, out.Metadata[k], v)
		}
	}
	for _, junk := range []string{"Advertisement", "Most read", "subscribe", "All rights reserved", "Home", "pageview", "font-family", "buy now"} {
		if strings.Contains(out.Text, junk) {
			t.Errorf("text keeps page chrome %q:\n%s", junk, out.Text)
		}
	}
}

func TestCharset(t *testing.T) {
	out := extractFixture(t, "charset-windows1252")
	if out.Title != "Café crème" {
		t.Errorf("title %q, want %q", out.Title, "Café crème")
	}
	// A page that reaches the plugin as UTF-8 has already been converted, whatever its
	// <meta charset> says; decoding it again would turn "é" into "Ã©".
	page := `<html><head><meta charset="iso-8859-1"><title>Déjà vu</title></head><body><p>Crème brûlée</p></body></html>`
	out, err := extract(abi.ExtractInput{Content: page, ContentType: "text/html"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Title != "Déjà vu" || out.Text != "Crème brûlée" {
		t.Errorf("UTF-8 page with a latin-1 meta: got title %q text %q", out.Title, out.Text)
	}
}

func TestRobustness(t *testing.T) {
	huge := hugePage(5 << 20)
	deep := strings.Repeat("<div>", 100_000) + "deep text" + strings.Repeat("</div>", 100_000)
	cases := []struct {
		name    string
		content string
		ctype   string
		want    string // the whole text, or with a leading "~" a substring of it
	}{
		{"empty", "", "text/html", ""},
		{"whitespace", " \n\t \n", "text/html", ""},
		{"plain text", "Hello   world\r\n\n\n\n  Second\tparagraph  \nsame paragraph", "text/html", "Hello world\n\nSecond paragraph\nsame paragraph"},
		{"plain text with entities", "Tom &amp; Jerry", "text/plain", "Tom & Jerry"},
		{"json", `{"a": [1, 2]}`, "text/html", `{"a": [1, 2]}`},
		{"fragment", "<p>Hello</p>", "text/html", "Hello"},
		{"unclosed tags", "<div><p>unclosed <b>bold <i>italic</div></p><li>stray item", "text/html", "~unclosed bold italic"},
		{"only a script", "<script>alert(1)</script>", "text/html", ""},
		{"invalid utf-8", "<p>caf\xe9 ok \xff\xfe</p>", "text/html", "~caf"},
		{"nul bytes", "<p>a\x00b</p>", "text/html", "~a"},
		{"too deep for the parser", deep, "text/html", "deep text"},
		{"5 MB page", huge, "text/html", "~The last paragraph of the huge page."},
		{"xhtml", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>Hi<br/>there</p></body></html>`, "application/xhtml+xml", "Hi\nthere"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := extract(abi.ExtractInput{Content: c.content, ContentType: c.ctype})
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			if !utf8.ValidString(out.Text) || !utf8.ValidString(out.Title) {
				t.Errorf("output is not valid UTF-8: %q", out.Text)
			}
			if strings.Contains(out.Text, "\n\n\n") {
				t.Errorf("text has a run of blank lines: %q", clip(out.Text, 200))
			}
			if sub, ok := strings.CutPrefix(c.want, "~"); ok {
				if !strings.Contains(out.Text, sub) {
					t.Errorf("text %q does not contain %q", clip(out.Text, 300), sub)
				}
			} else if out.Text != c.want {
				t.Errorf("text %q, want %q", clip(out.Text, 300), c.want)
			}
		})
	}
}

// hugePage builds a page of about size bytes: a real article buried in navigation,
// sidebars and comments, so the library has to work for its answer.
func hugePage(size int) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><title>Huge | Example</title></head><body><nav><ul>`)
	for i := range 200 {
		fmt.Fprintf(&b, `<li><a href="/s/%d">Section %d</a></li>`, i, i)
	}
	b.WriteString(`</ul></nav><article><h1>Huge</h1>`)
	for i := 0; b.Len() < size-(1<<16); i++ {
		if i%20 == 0 {
			fmt.Fprintf(&b, "<h2>Part %d</h2>", i/20)
		}
		fmt.Fprintf(&b, "<p>Paragraph %d of the huge page, long enough to count as prose, with a comma, another comma, and a <a href=\"/p/%d\">link</a> in the middle of it.</p>\n", i, i)
	}
	b.WriteString(`<p>The last paragraph of the huge page.</p></article><aside class="comments">`)
	for i := range 100 {
		fmt.Fprintf(&b, `<div class="comment">Comment %d</div>`, i)
	}
	b.WriteString(`</aside></body></html>`)
	return b.String()
}

func TestTitle(t *testing.T) {
	cases := []struct {
		name, page, inTitle, want string
	}{
		{"site suffix from og:site_name",
			`<html><head><title>Bread at home | Flour Power</title><meta property="og:site_name" content="Flour Power"></head><body><p>x</p></body></html>`,
			"", "Bread at home"},
		{"site prefix from the host",
			`<html><head><title>Example — Bread at home</title></head><body><p>x</p></body></html>`,
			"", "Bread at home"},
		{"a dash in the headline stays",
			`<html><head><title>Spider-Man - a review in three parts</title></head><body><p>x</p></body></html>`,
			"", "Spider-Man - a review in three parts"},
		{"the h1 beats a truncated og:title",
			`<html><head><meta property="og:title" content="The long and winding road to…"></head><body><article><h1>The long and winding road to Liverpool</h1><p>x</p></article></body></html>`,
			"", "The long and winding road to Liverpool"},
		{"the h1 beats a title that is only the site name",
			`<html><head><title>Flour Power</title><meta property="og:site_name" content="Flour Power"></head><body><h1>Sourdough basics</h1><p>x</p></body></html>`,
			"", "Sourdough basics"},
		{"a logo h1 is not the headline",
			`<html><head><title>Sourdough basics · Flour Power</title></head><body><h1><a href="/">Flour Power</a></h1><h1>Sourdough basics, step by step</h1><p>x</p></body></html>`,
			"", "Sourdough basics, step by step"},
		{"the caller's title when the page has none",
			`<p>just a paragraph</p>`, "Saved note", "Saved note"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := extract(abi.ExtractInput{URL: "https://www.example.com/a", Title: c.inTitle, Content: c.page})
			if err != nil {
				t.Fatal(err)
			}
			if out.Title != c.want {
				t.Errorf("title %q, want %q", out.Title, c.want)
			}
		})
	}
}

func TestPublishedAt(t *testing.T) {
	cases := []struct{ meta, want string }{
		{`<meta property="article:published_time" content="2024-03-05T08:30:00Z">`, "2024-03-05T08:30:00Z"},
		{`<meta property="article:published_time" content="2017-11-16T14:15+0000">`, "2017-11-16T14:15:00Z"},
		{`<meta name="date" content="2024-03-05">`, "2024-03-05T00:00:00Z"},
		{`<meta property="article:published_time" content="the fifth of March">`, "the fifth of March"},
		{`<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","datePublished":"2021-11-01T10:52:50+01:00"}</script>`, "2021-11-01T10:52:50+01:00"},
		{``, ""},
	}
	for _, c := range cases {
		page := "<html><head>" + c.meta + "</head><body><p>Some text.</p></body></html>"
		out, err := extract(abi.ExtractInput{Content: page})
		if err != nil {
			t.Fatal(err)
		}
		if out.PublishedAt != c.want {
			t.Errorf("%s: published_at %q, want %q", c.meta, out.PublishedAt, c.want)
		}
	}
}

func TestLanguage(t *testing.T) {
	cases := map[string]string{
		`<html lang="EN-us">`:      "en-US",
		`<html lang="zh-hant-tw">`: "zh-Hant-TW",
		`<html><head><meta http-equiv="content-language" content="de, en">`: "de",
		`<html><head><meta property="og:locale" content="fr_FR">`:           "fr-FR",
		`<html lang="not a language!">`:                                     "",
	}
	for head, want := range cases {
		out, err := extract(abi.ExtractInput{Content: head + "<body><p>Text.</p></body></html>"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Language != want {
			t.Errorf("%s: language %q, want %q", head, out.Language, want)
		}
	}
}

func extractFixture(t *testing.T, name string) abi.ExtractOutput {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "fixtures", name+".html"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := extract(abi.ExtractInput{URL: fixtureURL, Content: string(src), ContentType: "text/html"})
	if err != nil {
		t.Fatalf("extract %s: %v", name, err)
	}
	return out
}

// compareFile checks got against the file at path, or rewrites the file with -update.
func compareFile(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept, then review the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line with a little context.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	for j := max(0, i-2); j < i; j++ {
		fmt.Fprintf(&b, "  %4d   %s\n", j+1, clip(w[j], 160))
	}
	if i < len(w) {
		fmt.Fprintf(&b, "  %4d - %s\n", i+1, clip(w[i], 160))
	}
	if i < len(g) {
		fmt.Fprintf(&b, "  %4d + %s\n", i+1, clip(g[i], 160))
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// A page its scripts fill in has no text to extract; what it says about itself stands in,
// so the save is still findable, and the metadata says so.
func TestScriptRenderedPage(t *testing.T) {
	shell := `<!doctype html><html><head><title>Health and Safety Manager - Gousto</title>%s
<script>window.__APP__ = {"jobs": []}</script></head><body><div id="root"></div><noscript>Enable JavaScript</noscript></body></html>`
	for _, tc := range []struct {
		name, head, wantText, wantSource string
	}{
		{"description", `<meta name="description" content="Lead health and safety across our London kitchens.">`,
			"Lead health and safety across our London kitchens.", "description"},
		{"og description", `<meta property="og:description" content="Join &amp;amp; lead.">`, "Join & lead.", "description"},
		{"title only", "", "Health and Safety Manager - Gousto", "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := extract(abi.ExtractInput{Content: fmt.Sprintf(shell, tc.head), ContentType: "text/html"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Text != tc.wantText || out.Metadata["text_source"] != tc.wantSource {
				t.Errorf("text %q (source %v), want %q (%s)", out.Text, out.Metadata["text_source"], tc.wantText, tc.wantSource)
			}
		})
	}
	// A page with real text keeps it, and says nothing about a stand-in.
	page := `<html><head><meta name="description" content="Short."></head><body><p>Real words on the page.</p></body></html>`
	out, _ := extract(abi.ExtractInput{Content: page, ContentType: "text/html"})
	if out.Text != "Real words on the page." || out.Metadata["text_source"] != nil {
		t.Errorf("page with text: %q, metadata %v", out.Text, out.Metadata)
	}
}

func TestNormalizeTextKeepsWordsWhole(t *testing.T) {
	got := normalizeText("Thou\u00adsands of\u200bpeo\u00adple\tleft \u00a0 early\r\n\n\n\nNext\u00ad para")
	if want := "Thousands ofpeople left early\n\nNext para"; got != want {
		t.Errorf("normalizeText = %q, want %q", got, want)
	}
}
