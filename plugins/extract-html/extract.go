package main

import (
	nurl "net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/cortexhq/cortex/sdk/abi"
)

// extract turns an HTML page into clean structured text and what the page says about
// itself. It never fails on bad input: what cannot be read as HTML comes back as
// whitespace-normalised text.
func extract(in abi.ExtractInput) (abi.ExtractOutput, error) {
	content := decode(in.Content, in.ContentType)
	pageURL := parseURL(in.URL)

	doc, err := html.Parse(strings.NewReader(content))
	if err != nil || !hasMarkup(doc) {
		// html.Parse fails only on nesting deeper than it allows; such a page still has
		// words worth keeping.
		return abi.ExtractOutput{Title: collapse(in.Title), Text: plainText(content, err == nil, doc)}, nil
	}

	meta := readPageMeta(doc)
	out := abi.ExtractOutput{Language: meta.lang}
	md := map[string]any{}

	var article readability.Article
	if !isFragment(content) {
		article = findArticle(doc, pageURL)
	}
	if article.Node != nil {
		out.Text = renderText(article.Node, modeArticle)
	}
	if strings.TrimSpace(out.Text) == "" {
		// No article: a fragment, or a page too short or too odd for the library. The
		// whole body, minus the usual chrome, is the best guess at what the user saved.
		out.Text = renderText(body(doc), modePage)
	}

	out.Title = chooseTitle(article.Title(), meta, pageURL)
	if out.Title == "" {
		out.Title = collapse(in.Title)
	}
	if strings.TrimSpace(out.Text) == "" {
		// A page whose scripts write its content (or that a bot wall replaced) has no
		// text until they run. What it says about itself still makes the save findable;
		// the metadata says the text is a stand-in.
		switch {
		case meta.description != "":
			out.Text = normalizeText(meta.description)
			put(md, "text_source", "description")
		case out.Title != "":
			out.Text = out.Title
			put(md, "text_source", "title")
		}
	}
	out.Byline = cleanByline(article.Byline())
	out.Text = dropBylineLine(out.Text, out.Byline)
	out.PublishedAt = publishedAt(article, meta)
	if out.Language == "" {
		out.Language = normalizeLang(article.Language())
	}

	site := collapse(article.SiteName())
	if site == "" {
		site = meta.siteName
	}
	put(md, "site_name", site)
	// The library falls back to the first paragraph for an excerpt; a heading-like line
	// ("Contents") says nothing.
	if excerpt := collapse(article.Excerpt()); utf8.RuneCountInString(excerpt) >= 20 {
		put(md, "excerpt", excerpt)
	}
	put(md, "image", resolve(pageURL, article.ImageURL()))
	put(md, "canonical_url", resolve(pageURL, meta.canonical))
	if len(md) > 0 {
		out.Metadata = md
	}
	return out, nil
}

// findArticle runs the library. A failure, or a panic on some page nobody foresaw, only
// means there is no article: the caller then renders the whole body, which beats failing
// the item.
func findArticle(doc *html.Node, pageURL *nurl.URL) (article readability.Article) {
	defer func() {
		if recover() != nil {
			article = readability.Article{}
		}
	}()
	// The parser keeps state per call, so each extraction gets its own.
	parser := readability.NewParser()
	article, err := parser.ParseAndMutate(doc, pageURL)
	if err != nil {
		return readability.Article{}
	}
	return article
}

func put(md map[string]any, key, val string) {
	if val != "" {
		md[key] = val
	}
}

// decode makes content valid UTF-8. Content that is already valid UTF-8 is taken as it is,
// whatever its <meta charset> says: the host hands pages over in JSON, so by the time a
// page reaches us it has been converted, and decoding it again as windows-1252 would
// garble it. Bytes that are not UTF-8 can only come from a caller that kept the page's own
// bytes; for those the page's declared charset (or windows-1252, the web's default)
// applies.
func decode(content, contentType string) string {
	if utf8.ValidString(content) {
		return strings.TrimPrefix(content, "\ufeff")
	}
	enc, name, _ := charset.DetermineEncoding([]byte(content), contentType)
	if enc == nil || name == "utf-8" {
		return strings.ToValidUTF8(content, "\ufffd")
	}
	out, err := enc.NewDecoder().String(content)
	if err != nil {
		return strings.ToValidUTF8(content, "\ufffd")
	}
	return strings.TrimPrefix(strings.ToValidUTF8(out, "\ufffd"), "\ufeff")
}

// parseURL gives the library an absolute page URL to resolve links against, or nil.
func parseURL(raw string) *nurl.URL {
	u, err := nurl.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return u
}

// hasMarkup reports whether the parser found any element of the page's own; plain text
// parses into nothing but the implied html, head and body.
func hasMarkup(doc *html.Node) bool {
	found := false
	walk(doc, func(n *html.Node) bool {
		if found {
			return false
		}
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Html, atom.Head, atom.Body:
			default:
				found = true
			}
		}
		return !found
	})
	return found
}

// isFragment reports content that is a piece of a page (a clipped selection, a snippet)
// rather than a page: no <html>, <head>, <body>, <title> or <meta> tag anywhere. Someone
// already chose what to keep, so the whole fragment is the content; the library, built to
// discard a page's chrome, would only discard some of it.
func isFragment(content string) bool { return !pageTagRE.MatchString(content) }

var pageTagRE = regexp.MustCompile(`(?i)<(html|head|body|title|meta)[\s/>]`)

func body(doc *html.Node) *html.Node {
	var b *html.Node
	walk(doc, func(n *html.Node) bool {
		if b != nil {
			return false
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Body {
			b = n
			return false
		}
		return true
	})
	if b == nil {
		return doc
	}
	return b
}

// plainText is the text of content that is not HTML: runs of spaces folded, lines
// trimmed, paragraphs kept, at most one blank line in a row. When the content parsed,
// entities are decoded; when it did not, tags are dropped by the tokenizer.
func plainText(content string, parsed bool, doc *html.Node) string {
	var text string
	if parsed {
		text = textContent(doc)
	} else {
		var b strings.Builder
		z := html.NewTokenizer(strings.NewReader(content))
		skip := 0
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			switch tt {
			case html.StartTagToken, html.EndTagToken:
				name, _ := z.TagName()
				if a := atom.Lookup(name); a == atom.Script || a == atom.Style {
					if tt == html.StartTagToken {
						skip++
					} else if skip > 0 {
						skip--
					}
				}
				if !inlineAtoms[atom.Lookup(name)] {
					b.WriteString("\n\n")
				}
			case html.TextToken:
				if skip == 0 {
					b.Write(z.Text())
				}
			}
		}
		text = b.String()
	}
	return normalizeText(text)
}

// normalizeText folds spaces within lines and blank lines between them, and drops
// invisible characters (a soft hyphen inside a word must not split it).
func normalizeText(s string) string {
	var paras []string
	var cur []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.Join(strings.FieldsFunc(dropInvisible(l), isSpace), " ")
		if l == "" {
			if len(cur) > 0 {
				paras = append(paras, strings.Join(cur, "\n"))
				cur = nil
			}
			continue
		}
		cur = append(cur, l)
	}
	if len(cur) > 0 {
		paras = append(paras, strings.Join(cur, "\n"))
	}
	return strings.Join(paras, "\n\n")
}

func isSpace(c rune) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\u00a0'
}

// dropInvisible removes invisible characters, keeping the white space around them.
func dropInvisible(s string) string {
	return strings.Map(func(c rune) rune {
		if invisible(c) && !isSpace(c) {
			return -1
		}
		return c
	}, s)
}

// cleanByline drops the "By " pages put before names and bylines that are really URLs.
func cleanByline(s string) string {
	s = collapse(s)
	for _, p := range []string{"by ", "written by ", "posted by "} {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			s = s[len(p):]
			break
		}
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || utf8.RuneCountInString(s) > 200 {
		return ""
	}
	return s
}

// dropBylineLine removes a "By Jane Doe" paragraph near the top of the text when it only
// repeats the byline the output already carries.
func dropBylineLine(text, byline string) string {
	if byline == "" {
		return text
	}
	blocks := strings.SplitN(text, "\n\n", 4)
	for i, b := range blocks[:min(3, len(blocks))] {
		if strings.EqualFold(cleanByline(b), byline) {
			return strings.Join(append(blocks[:i:i], blocks[i+1:]...), "\n\n")
		}
	}
	return text
}

// publishedAt prefers the library's date, then the page's own date tags; a date that does
// not parse is returned as written.
func publishedAt(a readability.Article, m pageMeta) string {
	if t, err := a.PublishedTime(); err == nil && !t.IsZero() {
		return t.Format(time.RFC3339)
	}
	return formatDate(m.published)
}
