package main

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/abi"
)

const (
	// maxTitleRunes is the longest line taken as a title as it is.
	maxTitleRunes = 100
	// clipTitleRunes is where a longer first line is cut, at a word boundary, when nothing
	// better names the document.
	clipTitleRunes = 80
)

// document is what the Markdown and plain-text paths learn about their input.
type document struct {
	text string
	// headings in document order, their inline syntax already resolved.
	headings []heading
	// firstLine is the first line of prose, the title of last resort.
	firstLine string
	// prose is the text without code, for guessing the language.
	prose string
}

type heading struct {
	level int
	text  string
}

// Extract turns one document into clean text. It never fails: any input, however broken,
// gives some text (possibly empty).
func Extract(in abi.ExtractInput) abi.ExtractOutput {
	src := normalize(in.Content)
	meta := map[string]any{}
	var fm frontMatter
	var doc document
	if isMarkdown(in.ContentType, in.URL) {
		if raw, body, ok := splitFrontMatter(src); ok {
			fm = parseFrontMatter(raw)
			src = body
		}
		doc = markdownDocument(src)
	} else {
		doc = plainDocument(src)
	}
	for k, v := range fm.fields {
		meta[k] = v
	}
	meta["word_count"] = wordCount(doc.text)

	out := abi.ExtractOutput{
		Title:       pickTitle(in.Title, doc, fm.get("title")),
		Text:        doc.text,
		Byline:      fm.byline(),
		PublishedAt: fm.published(),
		Language:    fm.language(),
		Metadata:    meta,
	}
	if out.Language == "" {
		out.Language = guessLanguage(doc.prose)
	}
	return out
}

// isMarkdown decides between the Markdown and plain-text paths. A .md URL wins over a
// text/plain content type because many servers (raw.githubusercontent.com among them)
// send Markdown as text/plain.
func isMarkdown(contentType, rawURL string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "text/markdown", "text/x-markdown":
		return true
	}
	u, _, _ := strings.Cut(rawURL, "#")
	u, _, _ = strings.Cut(u, "?")
	switch strings.ToLower(path.Ext(u)) {
	case ".md", ".markdown", ".mdown", ".mkd", ".mkdn":
		return true
	}
	return false
}

// pickTitle chooses, in order: the title the item already has, the first level-1
// heading, the front matter's title, the first heading of any level, the first line of
// prose. Front matter beats a lower-level heading because blog posts keep their title in
// front matter and start the body at "## Introduction".
func pickTitle(given string, doc document, fmTitle string) string {
	if t := oneLine(strings.ToValidUTF8(given, "\uFFFD")); t != "" {
		return t
	}
	for _, h := range doc.headings {
		if h.level == 1 {
			return clipTitle(h.text)
		}
	}
	if t := clipTitle(fmTitle); t != "" {
		return t
	}
	if len(doc.headings) > 0 {
		return clipTitle(doc.headings[0].text)
	}
	return clipTitle(doc.firstLine)
}

// oneLine collapses all whitespace runs, newlines included, to single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clipTitle keeps a short line as it is and cuts a long one at a word boundary, so a
// document that opens with a long paragraph is not titled by all of it.
func clipTitle(s string) string {
	// Only the start can end up in a title; a 5 MB first line is not split into words.
	if limit := 4*maxTitleRunes + 4; len(s) > limit {
		for limit > 0 && !utf8.RuneStart(s[limit]) {
			limit--
		}
		s = s[:limit]
	}
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= maxTitleRunes {
		return s
	}
	cut, n := 0, 0
	for i := range s {
		if n == clipTitleRunes {
			cut = i
			break
		}
		n++
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > cut/2 {
		cut = sp
	}
	return strings.TrimRightFunc(s[:cut], func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// wordCount counts whitespace-separated tokens that contain a letter or digit, so
// Markdown markup ("#", "-", "|", "```") does not count.
func wordCount(s string) int {
	n, counted := 0, false
	for i := 0; i < len(s); {
		// ASCII first: this loop runs over every byte of a document.
		if c := s[i]; c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\n' || c == '\t':
				counted = false
			case !counted && (c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9'):
				n++
				counted = true
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.IsSpace(r):
			counted = false
		case !counted && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			n++
			counted = true
		}
	}
	return n
}
