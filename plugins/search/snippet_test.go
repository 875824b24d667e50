//go:build !wasip1

package main

import (
	"html"
	"strings"
	"testing"
	"unicode/utf8"
)

// filler is ordinary text that matches none of the test terms.
func filler(sentences int) string {
	return strings.Repeat("Filler words about nothing in particular keep going here. ", sentences)
}

// plain is a snippet as a reader sees it: no markup, entities decoded.
func plain(s string) string {
	s = strings.ReplaceAll(s, markOpen, "")
	s = strings.ReplaceAll(s, markClose, "")
	return html.UnescapeString(s)
}

func TestSnippetGolden(t *testing.T) {
	lanternd := filler(10) + "The lanternd daemon keeps a search index of your notes, and the index is rebuilt nightly. " +
		strings.Repeat("More filler text that talks about gardening and weather. ", 10)
	for _, tc := range []struct {
		name           string
		text           string
		terms, phrases []string
		want           string
	}{
		{"short text whole, marks and escaping", "Cortex keeps your notes & <links> safe.",
			[]string{"notes", "links"}, nil,
			"Cortex keeps your <mark>notes</mark> &amp; &lt;<mark>links</mark>&gt; safe."},
		{"quotes escaped", `He said "notes" & it's fine`, []string{"notes"}, nil,
			"He said &#34;<mark>notes</mark>&#34; &amp; it&#39;s fine"},
		{"markup in the text is text", "a <mark>fake</mark> tag and a real notes", []string{"notes"}, nil,
			"a &lt;mark&gt;fake&lt;/mark&gt; tag and a real <mark>notes</mark>"},
		{"white space collapsed", "  one\n\n two\t\tnotes  \r\n three ", []string{"notes"}, nil,
			"one two <mark>notes</mark> three"},
		{"case-insensitive, whole words only", "NOTES, Notes and notebooks; keynotes.", []string{"notes"}, nil,
			"<mark>NOTES</mark>, <mark>Notes</mark> and notebooks; keynotes."},
		{"word forms", "The runner runs; running is what runners do. Ran.", []string{"running"}, nil,
			"The <mark>runner</mark> <mark>runs</mark>; <mark>running</mark> is what <mark>runners</mark> do. Ran."},
		{"identifier in one mark", "Chrome shows ERR_CONN_RESET when the proxy drops it; err conn.",
			[]string{"err", "conn", "reset"}, nil,
			"Chrome shows <mark>ERR_CONN_RESET</mark> when the proxy drops it; <mark>err</mark> <mark>conn</mark>."},
		{"phrase in one mark, its words alone too", "hybrid vector search beats vector or search alone", nil,
			[]string{"vector search"},
			"hybrid <mark>vector search</mark> beats <mark>vector</mark> or <mark>search</mark> alone"},
		{"stop words only in their phrase", "the who played; who knows the band", nil, []string{"the who"},
			"<mark>the who</mark> played; who knows the band"},
		{"window around the densest cluster, starting at a sentence", lanternd,
			[]string{"lanternd", "index", "notes"}, nil,
			"…Filler words about nothing in particular keep going here. The <mark>lanternd</mark> daemon keeps a search " +
				"<mark>index</mark> of your <mark>notes</mark>, and the <mark>index</mark> is rebuilt nightly. More filler " +
				"text that talks about gardening and weather.…"},
		{"no match: the start, cut between words", lanternd, []string{"zebra"}, nil,
			"Filler words about nothing in particular keep going here. Filler words about nothing in particular keep " +
				"going here. Filler words about nothing in particular keep going here. Filler words about nothing…"},
		{"no words to match", "Just text.", nil, nil, "Just text."},
		{"markdown headings read as titles", "## Gravity waves\n\nGravitational waves are ripples.\n### Detected?\nYes #1 in 2015",
			[]string{"ripples"}, nil, "Gravity waves. Gravitational waves are <mark>ripples</mark>. Detected? Yes #1 in 2015"},
		{"multi-byte words", strings.Repeat("Ünïcödé façade ", 20) + "café " + strings.Repeat("Ünïcödé façade ", 20),
			[]string{"CAFÉ"}, nil,
			"…façade Ünïcödé façade Ünïcödé façade Ünïcödé façade Ünïcödé façade Ünïcödé façade Ünïcödé façade <mark>café</mark> " +
				"Ünïcödé façade Ünïcödé façade Ünïcödé façade Ünïcödé façade Ünïcödé façade Ünïcödé façade Ünïcödé…"},
		{"empty text", "", []string{"notes"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := snippet(tc.text, newMatcher(tc.terms, tc.phrases)); got != tc.want {
				t.Errorf("snippet =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestSnippetWindow checks the window's properties on texts too long for goldens.
func TestSnippetWindow(t *testing.T) {
	collapsed := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	// checkCut: the snippet is a stretch of the text of sane length, cut between words
	// wherever the text has spaces to cut at, with "…" exactly at the cut ends.
	checkCut := func(t *testing.T, text, got string, wantMarks int, wordCuts bool) {
		t.Helper()
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if n := strings.Count(got, markOpen); n != wantMarks {
			t.Errorf("%d marks, want %d: %q", n, wantMarks, got)
		}
		p := plain(got)
		core := strings.TrimSuffix(strings.TrimPrefix(p, ellipsis), ellipsis)
		if n := utf8.RuneCountInString(core); n < snippetMin || n > snippetMax {
			t.Errorf("%d characters, want %d..%d: %q", n, snippetMin, snippetMax, p)
		}
		full := collapsed(text)
		at := strings.Index(full, core)
		if at < 0 {
			t.Fatalf("snippet %q is not a stretch of the text", core)
		}
		end := at + len(core)
		if (at > 0) != strings.HasPrefix(p, ellipsis) || (end < len(full)) != strings.HasSuffix(p, ellipsis) {
			t.Errorf("ellipses do not match the cuts (text %d..%d of %d): %q", at, end, len(full), p)
		}
		if wordCuts && ((at > 0 && full[at-1] != ' ') || (end < len(full) && full[end] != ' ')) {
			t.Errorf("cut inside a word: %q", p)
		}
	}

	t.Run("very long chunk, match at the end", func(t *testing.T) {
		text := filler(2000) + "At last the needle appears."
		got := snippet(text, newMatcher([]string{"needle"}, nil))
		checkCut(t, text, got, 1, true)
		if !strings.HasSuffix(got, "the <mark>needle</mark> appears.") {
			t.Errorf("window does not reach the match at the end: %q", got)
		}
	})
	t.Run("match in the middle", func(t *testing.T) {
		text := filler(20) + "Here is the needle. " + filler(20)
		got := snippet(text, newMatcher([]string{"needle"}, nil))
		checkCut(t, text, got, 1, true)
	})
	t.Run("densest cluster wins over the first match", func(t *testing.T) {
		text := "A lone alpha here. " + filler(10) + "Now alpha, beta and gamma together. " + filler(10)
		got := snippet(text, newMatcher([]string{"alpha", "beta", "gamma"}, nil))
		checkCut(t, text, got, 3, true)
		if strings.Contains(got, "lone") {
			t.Errorf("window at the lone match: %q", got)
		}
	})
	t.Run("text without spaces is cut between runes", func(t *testing.T) {
		text := strings.Repeat("日本語のテキスト", 100) // CJK has no spaces
		got := snippet(text, newMatcher([]string{"zz"}, nil))
		checkCut(t, text, got, 0, false)
		if utf8.RuneCountInString(plain(got)) != snippetTarget+1 {
			t.Errorf("%d characters, want %d and an ellipsis", utf8.RuneCountInString(plain(got)), snippetTarget)
		}
	})
	t.Run("a word longer than the window", func(t *testing.T) {
		text := "start " + strings.Repeat("x", 5000) + " the match here"
		got := snippet(text, newMatcher([]string{"match"}, nil))
		checkCut(t, text, got, 1, false)
	})
	t.Run("chunk a little longer than the window", func(t *testing.T) {
		text := filler(4) // 232 characters: shown whole
		if got := snippet(text, newMatcher([]string{"zebra"}, nil)); got != strings.TrimSpace(text) {
			t.Errorf("snippet %q, want the whole text", got)
		}
	})
}

func TestStem(t *testing.T) {
	for _, group := range [][]string{
		{"run", "runs", "running", "runner", "runners"},
		{"index", "indexes", "indexed", "indexing", "indexer"},
		{"embedding", "embeddings", "embedded"},
		{"water", "waters"},
		{"study", "studies"},
		{"horse", "horses"},
		{"stop", "stopped", "stopping"},
		{"fall", "falls", "falling"},
		{"quick", "quickly"},
	} {
		for _, w := range group[1:] {
			if stem(w) != stem(group[0]) {
				t.Errorf("stem(%q) = %q, stem(%q) = %q: want the same", w, stem(w), group[0], stem(group[0]))
			}
		}
	}
	for _, w := range []string{"class", "status", "analysis", "bus", "need", "only", "ember", "embed"} {
		if got := stem(w); got != w {
			t.Errorf("stem(%q) = %q, want it unchanged", w, got)
		}
	}
	// Each side's stem is also compared with the other side's word, so a base whose own
	// stem is too eager still matches its forms.
	m := newMatcher([]string{"embed"}, nil)
	if !m.word("embedding") || !m.word("embedded") || m.word("ember") {
		t.Error(`"embed" does not match its forms, or matches "ember"`)
	}
}

func FuzzSnippet(f *testing.F) {
	for _, s := range []string{"", "notes", "a <b> & \"c\" 'd'", filler(30) + "notes here " + filler(30),
		strings.Repeat("日本語", 200), "\xff\xfe notes \xc3", strings.Repeat("notes_", 100), "<mark>notes</mark>"} {
		f.Add(s, "notes", "vector search")
	}
	f.Fuzz(func(t *testing.T, text, term, phrase string) {
		got := snippet(text, newMatcher([]string{term}, []string{phrase}))
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		// Balanced, never nested: the text's own "<" is always escaped.
		depth := 0
		for rest := got; ; {
			i := strings.IndexByte(rest, '<')
			if i < 0 {
				break
			}
			switch {
			case strings.HasPrefix(rest[i:], markOpen) && depth == 0:
				depth, rest = 1, rest[i+len(markOpen):]
			case strings.HasPrefix(rest[i:], markClose) && depth == 1:
				depth, rest = 0, rest[i+len(markClose):]
			default:
				t.Fatalf("unbalanced or stray tag at %d: %q", i, got)
			}
		}
		if depth != 0 {
			t.Fatalf("unclosed mark: %q", got)
		}
		p := plain(got)
		if n := utf8.RuneCountInString(p); n > snippetMax+2 {
			t.Fatalf("%d characters: %q", n, p)
		}
		core := strings.TrimSuffix(strings.TrimPrefix(p, ellipsis), ellipsis)
		if full := string([]rune(strings.Join(strings.Fields(text), " "))); !strings.Contains(full, core) {
			t.Fatalf("snippet %q is not a stretch of the text %q", core, full)
		}
	})
}
