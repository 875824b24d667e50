//go:build !wasip1

package main

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/abi"
)

// These tests run the extractor's logic natively, where it is fast to probe edge cases and
// to fuzz; main_test.go runs the built plugin in a real host.

func markdown(s string) string {
	return Extract(abi.ExtractInput{Content: s, ContentType: "text/markdown"}).Text
}

func plain(s string) string {
	return Extract(abi.ExtractInput{Content: s, ContentType: "text/plain"}).Text
}

func TestMarkdownText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"blank", " \n\t\n  ", ""},
		{"crlf and cr", "# A\r\n\r\nb\rc\r\n", "# A\n\nb c"},
		{"bom", "\uFEFF# Title\n\nText", "# Title\n\nText"},
		{"unwrap", "one\ntwo\n  three  \n\nfour", "one two three\n\nfour"},
		{"blank runs", "a\n\n\n\n\nb", "a\n\nb"},
		{"hard breaks", "12 Quay St  \nPort Ellis\\\nUK", "12 Quay St\nPort Ellis\nUK"},
		{"escaped backslash is no hard break", "a\\\\\nb", `a\ b`},
		{"backslash ending a paragraph stays", "a\nb\\", `a b\`},
		{"atx closing hashes", "## Sub ##\ntext", "## Sub\n\ntext"},
		{"hashtag is text", "#hashtag here", "#hashtag here"},
		{"setext", "Title\n===\n\nSub\n---\nbody", "# Title\n\n## Sub\n\nbody"},
		{"multi-line setext", "A long\ntitle\n===", "# A long title"},
		{"rule after blank", "a\n\n---\n\nb", "a\n\n---\n\nb"},
		{"link", "see [the docs](https://x.io/d \"Docs\") now", "see the docs now"},
		{"link across lines", "see [the\ndocs](https://x.io/d) now", "see the docs now"},
		{"link with parens", "[wiki](https://en.wikipedia.org/wiki/Go_(language)) ok", "wiki ok"},
		{"angle destination", "[a](<my file.md>)", "a"},
		{"image", "![A cat](cat.png)", "A cat"},
		{"linked image", "[![Logo](logo.png)](https://x.io)", "Logo"},
		{"badge", "[![CI](https://img.shields.io/b.svg)](https://ci) Tool", "Tool"},
		{"reference", "[text][r] and [R][] and [r]\n\n[r]: https://x.io \"t\"", "text and R and r"},
		{"undefined reference", "[text][nope] [x]", "[text][nope] [x]"},
		{"task list", "- [ ] todo\n- [x] done", "- [ ] todo\n- [x] done"},
		{"footnote", "Claim.[^1]\n\n[^1]: Source.", "Claim.[^1]\n\n[^1]: Source."},
		{"autolink", "<https://x.io/a?b=c> <me@x.io>", "https://x.io/a?b=c me@x.io"},
		{"generic type", "a Vec<T> and 1 < 2 > 0", "a Vec<T> and 1 < 2 > 0"},
		{"placeholder", "run `login` with <your-token>", "run `login` with <your-token>"},
		{"html tags", "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.<br>Done<img src=\"x.png\" alt=\"a chart\">", "Press Ctrl+C. Done a chart"},
		{"html block", "<div align=\"center\">\n  <img src=\"logo.png\" alt=\"\">\n</div>\n\n# T", "# T"},
		{"entities", "a &amp; b &copy; &#233; &#x1F600; &bogus; &#0;", "a & b © é 😀 &bogus; \uFFFD"},
		{"escapes", `\*not emphasis\* \[x\] \a`, `*not emphasis* [x] \a`},
		{"code span kept", "use `[a](b)` and `` a ` b `` and `<b>`", "use `[a](b)` and `` a ` b `` and `<b>`"},
		{"unclosed code span", "a ` b [c](d)", "a ` b c"},
		{"comment", "a <!-- x --> b\n\n<!-- gone -->\n\nc", "a b\n\nc"},
		{"multi-line comment", "a\n<!--\nhidden\n-->\nb", "a\n\nb"},
		{"unclosed comment is text", "a <!-- b\n\nc", "a <!-- b\n\nc"},
		{"comment in code span", "`<!--` and `-->`", "`<!--` and `-->`"},
		{"comment closed only in code", "a <!-- b\n\n```html\n-->\n```\n\nc", "a <!-- b\n\n```html\n-->\n```\n\nc"},
		{"fence verbatim", "```go\nx  :=  [a](b)  \n\n\n\n// <!-- c -->\n```", "```go\nx  :=  [a](b)  \n\n\n\n// <!-- c -->\n```"},
		{"tilde fence", "~~~\n# not a heading\n~~~", "~~~\n# not a heading\n~~~"},
		{"indented fence dedented", "  ```\n  a\n    b\n  ```", "```\na\n  b\n```"},
		{"unclosed fence", "```sh\nmake\n\n", "```sh\nmake\n```"},
		{"backticks with info backtick are inline", "``` a ` b ```", "``` a ` b ```"},
		{"indented code", "para\n\n    code  [a](b)\n\n    more\n\nafter", "para\n\n    code  [a](b)\n\n    more\n\nafter"},
		{"lazy indented line is paragraph", "para\n    more", "para more"},
		{"list not unwrapped", "- one\n  two\n- [three](x)\n\n  para\n\nafter", "- one\n  two\n- three\n\n  para\n\nafter"},
		{"list fence", "1. a\n\n   ```\n   [x](y)\n   ```\n2. b", "1. a\n\n   ```\n   [x](y)\n   ```\n2. b"},
		{"list interrupts paragraph", "intro\n- a\n- b", "intro\n\n- a\n- b"},
		{"year does not start a list", "in\n2019. We", "in 2019. We"},
		{"quote kept", "> a\n> b [c](d)\nlazy\n\nafter", "> a\n> b c\nlazy\n\nafter"},
		{"table", "| a | b |\n|---|:-:|\n| [x](y) | `1 \\| 2` |\n| c \\| d | e |", "| a | b |\n|---|:-:|\n| x | `1 \\| 2` |\n| c \\| d | e |"},
		{"table interrupts paragraph", "intro\n| a | b |\n| - | - |\n| 1 | 2 |", "intro\n\n| a | b |\n| - | - |\n| 1 | 2 |"},
		{"not a table", "a | b\n---", "## a | b"},
		{"nul and controls", "a\x00b\x01c\x7f\fd", "a\uFFFDbc d"},
		{"invalid utf-8", "caf\xe9 \xff\xfe ok", "caf\uFFFD \uFFFD ok"},
		{"trailing spaces", "a   \n\n- b   \n\n> c  ", "a\n\n- b\n\n> c"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := markdown(c.in); got != c.want {
				t.Errorf("markdown(%q)\n got: %q\nwant: %q", c.in, got, c.want)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	wrapped := "The quarterly numbers are in and they look better than we expected at\n" +
		"the start of the year, mostly thanks to the new pricing tiers that went\n" +
		"live in March.\n"
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"no markdown processing", "# Not a heading\n\n[a](b) &amp; <b>x</b>", "# Not a heading\n\n[a](b) &amp; <b>x</b>"},
		{"unwrap hard-wrapped", wrapped, strings.ReplaceAll(strings.TrimSpace(wrapped), "\n", " ")},
		{"keep short lines", "Milk\nEggs\nBread\n\n\n\nDone", "Milk\nEggs\nBread\n\nDone"},
		{"keep verse", "The fog comes\non little cat feet.\n\nIt sits looking\nover harbor and city", "The fog comes\non little cat feet.\n\nIt sits looking\nover harbor and city"},
		{"keep long unwrapped lines", strings.Repeat("word ", 30) + "\n" + strings.Repeat("more ", 30), strings.TrimSpace(strings.Repeat("word ", 30)) + "\n" + strings.TrimSpace(strings.Repeat("more ", 30))},
		{"crlf, bom, trailing", "\uFEFFa  \r\nb\t\r\n\r\n\r\nc", "a\nb\n\nc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := plain(c.in); got != c.want {
				t.Errorf("plain(%q)\n got: %q\nwant: %q", c.in, got, c.want)
			}
		})
	}
}

func TestIsMarkdown(t *testing.T) {
	cases := []struct {
		ct, url string
		want    bool
	}{
		{"text/markdown", "", true},
		{"text/x-markdown; charset=utf-8", "", true},
		{"TEXT/MARKDOWN", "", true},
		{"text/plain", "", false},
		{"", "", false},
		{"text/plain; charset=utf-8", "https://raw.githubusercontent.com/a/b/main/README.md", true},
		{"", "https://x.io/notes.markdown?raw=1#top", true},
		{"", "https://x.io/notes.txt", false},
	}
	for _, c := range cases {
		if got := isMarkdown(c.ct, c.url); got != c.want {
			t.Errorf("isMarkdown(%q, %q) = %v, want %v", c.ct, c.url, got, c.want)
		}
	}
}

func TestTitle(t *testing.T) {
	long := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 40)
	cases := []struct{ name, title, ct, in, want string }{
		{"given title wins", "  Given\n title ", "text/markdown", "# Heading", "Given title"},
		{"atx", "", "text/markdown", "intro\n\n## Sub\n\n# Main", "Main"},
		{"first heading of any level", "", "text/markdown", "intro\n\n## Sub\n\n### Deeper", "Sub"},
		{"setext", "", "text/markdown", "Main\n====\n\ntext", "Main"},
		{"heading links resolved", "", "text/markdown", "# [Cortex](https://x.io) `v2`", "Cortex `v2`"},
		{"front matter beats h2", "", "text/markdown", "---\ntitle: 'From: front matter'\n---\n## Intro\n", "From: front matter"},
		{"h1 beats front matter", "", "text/markdown", "---\ntitle: FM\n---\n# H1\n", "H1"},
		{"first line", "", "text/markdown", "Just a note.\nWith two lines.", "Just a note. With two lines."},
		{"plain first line", "", "text/plain", "\n\nShopping list\nmilk", "Shopping list"},
		{"plain heading syntax is kept", "", "text/plain", "# Notes\n\ntext", "# Notes"},
		{"long paragraph is clipped", "", "text/plain", long, "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit…"},
		{"long heading is clipped", "", "text/markdown", "# " + long, "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Lorem ipsum dolor sit…"},
		{"no prose", "", "text/markdown", "```\ncode\n```", ""},
		{"empty", "", "text/plain", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Extract(abi.ExtractInput{Title: c.title, Content: c.in, ContentType: c.ct}).Title
			if got != c.want {
				t.Errorf("title %q, want %q", got, c.want)
			}
			if n := utf8.RuneCountInString(got); n > maxTitleRunes {
				t.Errorf("title has %d runes", n)
			}
		})
	}
}

func TestFrontMatter(t *testing.T) {
	in := "---\n" +
		"title: \"Hello, \\\"world\\\"\"\n" +
		"author: Ada Lovelace   # the first programmer\n" +
		"date: 2024-03-05\n" +
		"lang: de\n" +
		"tags: [go, 'wasm', ]\n" +
		"aliases:\n  - /old\n  - /older\n" +
		"params: {a: 1}\n" +
		"nested:\n  key: value\n" +
		"summary: |\n  line one\n  line two\n" +
		"empty:\n" +
		"# a comment\n" +
		"...\n" +
		"Body text.\n"
	out := Extract(abi.ExtractInput{Content: in, ContentType: "text/markdown"})
	if out.Text != "Body text." {
		t.Errorf("text %q", out.Text)
	}
	want := map[string]any{
		"title": `Hello, "world"`, "author": "Ada Lovelace", "date": "2024-03-05", "lang": "de",
		"tags": []string{"go", "wasm"}, "aliases": []string{"/old", "/older"}, "summary": "line one\nline two",
		"word_count": 2,
	}
	if len(out.Metadata) != len(want) {
		t.Errorf("metadata %v, want %v", out.Metadata, want)
	}
	for k, v := range want {
		if got, ok := out.Metadata[k]; !ok || !equalValue(got, v) {
			t.Errorf("metadata[%q] = %#v, want %#v", k, got, v)
		}
	}
	if out.Title != `Hello, "world"` || out.Byline != "Ada Lovelace" || out.PublishedAt != "2024-03-05" || out.Language != "de" {
		t.Errorf("title %q byline %q published %q language %q", out.Title, out.Byline, out.PublishedAt, out.Language)
	}
}

func equalValue(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return strings.Join(as, "\x00") == strings.Join(bs, "\x00")
	}
	return a == b
}

func TestNotFrontMatter(t *testing.T) {
	cases := []string{
		"---\n\nA thematic break, then prose.\n\n---\n\nMore.",
		"---\nOnly an opening fence: key: value",
		"---\n---\nEmpty fences.",
		"---\ntitle: never closed\n\nBody.",
		"Text first\n---\ntitle: x\n---",
	}
	for _, in := range cases {
		out := Extract(abi.ExtractInput{Content: in, ContentType: "text/markdown"})
		if len(out.Metadata) != 1 {
			t.Errorf("%q: metadata %v, want only word_count", in, out.Metadata)
		}
		if out.Text == "" {
			t.Errorf("%q: text lost", in)
		}
	}
	// Plain text has no front matter.
	out := Extract(abi.ExtractInput{Content: "---\ntitle: x\n---\nbody", ContentType: "text/plain"})
	if out.Text != "---\ntitle: x\n---\nbody" || len(out.Metadata) != 1 {
		t.Errorf("plain: text %q metadata %v", out.Text, out.Metadata)
	}
}

func TestGuessLanguage(t *testing.T) {
	cases := []struct{ text, want string }{
		{"The committee has decided that the proposal will be reviewed again at the end of the year, and that its authors are to be consulted.", "en"},
		{"Der Ausschuss hat entschieden, dass der Vorschlag am Ende des Jahres noch einmal geprüft wird und die Autoren dazu gehört werden sollen.", "de"},
		{"Le comité a décidé que la proposition sera examinée de nouveau à la fin de l'année, et que ses auteurs seront consultés pour cette étape.", "fr"},
		{"El comité ha decidido que la propuesta se revisará de nuevo al final del año y que sus autores serán consultados sobre este asunto.", "es"},
		{"Hello world", ""},
		{"func main() { fmt.Println(x) } // x := y + z", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := guessLanguage(c.text); got != c.want {
			t.Errorf("guessLanguage(%.40q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestWordCount(t *testing.T) {
	if n := wordCount("# Title\n\n- one two\n\n| a | b |\n|---|---|\n```\nx := 1\n```\n— 3,5"); n != 8 {
		t.Errorf("word count %d, want 8", n)
	}
}

// TestLinearTime feeds inputs built to make naive scanners quadratic; each must finish
// quickly.
func TestLinearTime(t *testing.T) {
	const n = 1 << 20
	var ticks strings.Builder
	for i := 1; ticks.Len() < n; i++ {
		ticks.WriteString(strings.Repeat("`", i%40+1) + "a")
	}
	inputs := map[string]string{
		"open brackets":   strings.Repeat("[", n),
		"nested brackets": strings.Repeat("[", n/2) + strings.Repeat("]", n/2),
		"bracket pairs":   strings.Repeat("[a]", n/3),
		"link openers":    strings.Repeat("[a](", n/4),
		"image openers":   strings.Repeat("![a](<", n/6),
		"tag openers":     strings.Repeat("<img alt='", n/10),
		"angles":          strings.Repeat("<a", n/2),
		"entities":        strings.Repeat("&amp", n/4),
		"backtick runs":   ticks.String(),
		"comment openers": strings.Repeat("<!--", n/4) + "\n-->",
		"one long line":   strings.Repeat("word ", n/5),
		"many lines":      strings.Repeat("- a\n  b\n\n", n/8),
		"fences":          strings.Repeat("```\n", n/4),
		"quotes":          strings.Repeat("> ```\n", n/6),
		"tables":          "|a|b|\n|-|-|\n" + strings.Repeat("|[x](y)|z|\n", n/11),
		"refs":            strings.Repeat("[a]: b\n", n/7) + strings.Repeat("[a] [b][a] ", n/11),
	}
	for name, in := range inputs {
		for _, ct := range []string{"text/markdown", "text/plain"} {
			start := time.Now()
			out := Extract(abi.ExtractInput{Content: in, ContentType: ct})
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s (%s): %v", name, ct, d)
			}
			checkOutput(t, name, out)
		}
	}
}

// checkOutput asserts what must hold for any input.
func checkOutput(t *testing.T, name string, out abi.ExtractOutput) {
	t.Helper()
	for field, s := range map[string]string{"text": out.Text, "title": out.Title} {
		if !utf8.ValidString(s) {
			t.Errorf("%s: %s is not valid UTF-8", name, field)
		}
		if strings.ContainsAny(s, "\r\x00") {
			t.Errorf("%s: %s holds \\r or NUL", name, field)
		}
	}
	if strings.ContainsAny(out.Title, "\n\t") || utf8.RuneCountInString(out.Title) > maxTitleRunes {
		t.Errorf("%s: bad title %q", name, out.Title)
	}
	if strings.HasPrefix(out.Text, "\n") || strings.HasSuffix(out.Text, "\n") {
		t.Errorf("%s: text starts or ends with a newline", name)
	}
	if _, ok := out.Metadata["word_count"].(int); !ok {
		t.Errorf("%s: no word_count", name)
	}
}

func FuzzExtract(f *testing.F) {
	seeds := []string{
		"", "# T\n\ntext", "---\ntitle: x\n---\nbody", "```\ncode", "<!-- a", "[a](b", "![a](<b>)",
		"| a |\n| - |\n| b |", "- a\n\n  ```\n  b\n  ```", "> a\n> ```\n> b", "a\\\nb  \nc", "&#x110000; &#xD800;",
		"\xff\xfe\r\n\r\n\x00", "<img alt=\"&amp;\" src='x'>", "`` ` `` ```", "[a][b]\n\n[b]: c", "Title\n---\n***",
	}
	for _, s := range seeds {
		f.Add(s, "text/markdown")
		f.Add(s, "text/plain")
	}
	f.Fuzz(func(t *testing.T, content, ct string) {
		out := Extract(abi.ExtractInput{Content: content, ContentType: ct})
		checkOutput(t, "fuzz", out)
		if isMarkdown(ct, "") {
			return
		}
		// Plain text has no verbatim blocks, so its whitespace rules hold everywhere.
		if strings.Contains(out.Text, "\n\n\n") {
			t.Errorf("three newlines in %q", out.Text)
		}
		for _, line := range strings.Split(out.Text, "\n") {
			if strings.TrimRight(line, " \t") != line {
				t.Errorf("trailing space in %q", line)
			}
		}
	})
}
