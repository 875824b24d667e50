package main

import (
	"html"
	nurl "net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pageMeta is what the page says about itself outside its content, read before the
// main-content library mutates the tree.
type pageMeta struct {
	lang      string // <html lang>, else Content-Language / og:locale
	title     string // <title>
	ogTitle   string
	siteName  string
	canonical string // <link rel=canonical>, else og:url
	published string // raw published date, as written
	// description is the page's own summary (meta description, og: or twitter:), the
	// only words some script-rendered pages have before their scripts run.
	description string
	h1s         []string
	mainH1      string // the first <h1> marked as the headline or inside <article>/<main>
}

func readPageMeta(doc *xhtml.Node) pageMeta {
	var m pageMeta
	var lang, metaLang, locale string
	walk(doc, func(n *xhtml.Node) bool {
		if n.Type != xhtml.ElementNode {
			return true
		}
		switch n.DataAtom {
		case atom.Html:
			lang = attr(n, "lang")
			if lang == "" {
				lang = attr(n, "xml:lang")
			}
		case atom.Title:
			if m.title == "" {
				m.title = collapse(textContent(n))
			}
		case atom.Link:
			if m.canonical == "" && hasToken(attr(n, "rel"), "canonical") {
				m.canonical = strings.TrimSpace(attr(n, "href"))
			}
		case atom.Meta:
			key := strings.ToLower(firstNonEmpty(attr(n, "property"), attr(n, "name"), attr(n, "itemprop")))
			// Sites often escape meta content twice ("&amp;amp;"); the parser undoes one.
			content := collapse(html.UnescapeString(attr(n, "content")))
			if content == "" {
				break
			}
			if strings.EqualFold(attr(n, "http-equiv"), "content-language") {
				metaLang = content
			}
			switch key {
			case "og:title":
				setOnce(&m.ogTitle, content)
			case "og:site_name":
				setOnce(&m.siteName, content)
			case "og:url":
				if m.canonical == "" {
					m.canonical = content
				}
			case "description", "og:description", "twitter:description":
				setOnce(&m.description, content)
			case "og:locale":
				setOnce(&locale, content)
			case "language", "dc.language", "dcterms.language":
				setOnce(&metaLang, content)
			case "article:published_time", "og:published_time", "datepublished", "date",
				"dc.date", "dc.date.issued", "dcterms.created", "dcterms.issued",
				"parsely-pub-date", "sailthru.date", "pubdate", "publish-date":
				setOnce(&m.published, content)
			}
		case atom.Time:
			if strings.EqualFold(attr(n, "itemprop"), "datePublished") || hasToken(attr(n, "class"), "published") {
				setOnce(&m.published, strings.TrimSpace(attr(n, "datetime")))
			}
		case atom.H1:
			if t := inlineText(&renderer{}, n); t != "" && !isHidden(n) {
				m.h1s = append(m.h1s, t)
				if m.mainH1 == "" && (hasAncestor(n, atom.Article, atom.Main) || isHeadline(n)) {
					m.mainH1 = t
				}
			}
			return false
		case atom.Script:
			if strings.EqualFold(strings.TrimSpace(attr(n, "type")), "application/ld+json") {
				if sm := jsonLDDateRE.FindStringSubmatch(textContent(n)); sm != nil {
					setOnce(&m.published, sm[1])
				}
			}
			return false
		case atom.Style, atom.Noscript, atom.Template, atom.Svg:
			return false
		}
		return true
	})
	m.lang = normalizeLang(firstNonEmpty(lang, metaLang, locale))
	return m
}

func isHeadline(n *xhtml.Node) bool {
	if strings.EqualFold(attr(n, "itemprop"), "headline") {
		return true
	}
	for _, c := range strings.Fields(strings.ToLower(attr(n, "class"))) {
		if strings.Contains(c, "headline") || strings.Contains(c, "title") {
			return true
		}
	}
	return false
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

func hasAncestor(n *xhtml.Node, tags ...atom.Atom) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		for _, t := range tags {
			if p.DataAtom == t {
				return true
			}
		}
	}
	return false
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}

// collapse folds runs of whitespace into single spaces and trims.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// jsonLDDateRE finds a JSON-LD datePublished without decoding the JSON, which on real
// pages is often invalid.
var jsonLDDateRE = regexp.MustCompile(`"datePublished"\s*:\s*"([^"]{4,64})"`)

var langRE = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// normalizeLang turns "en_US", "EN-us" or "en, fr" into a BCP 47 tag ("en-US"); anything
// that is not shaped like one is dropped rather than passed on.
func normalizeLang(s string) string {
	s = strings.TrimSpace(strings.SplitN(s, ",", 2)[0])
	s = strings.ReplaceAll(s, "_", "-")
	if !langRE.MatchString(s) {
		return ""
	}
	parts := strings.Split(s, "-")
	parts[0] = strings.ToLower(parts[0])
	for i := 1; i < len(parts); i++ {
		switch len(parts[i]) {
		case 2:
			parts[i] = strings.ToUpper(parts[i])
		case 4:
			parts[i] = strings.ToUpper(parts[i][:1]) + strings.ToLower(parts[i][1:])
		default:
			parts[i] = strings.ToLower(parts[i])
		}
	}
	return strings.Join(parts, "-")
}

// titleSeparators split a <title> into the page's own title and the site's name.
var titleSeparators = []string{" | ", " - ", " – ", " — ", " · ", " • ", " :: ", " » ", " / ", " : "}

// chooseTitle picks the document title. The metadata title (what the library found:
// JSON-LD, og:title, or a cleaned <title>) wins, cleaned of a " | Site Name" part, unless
// the article's own <h1> is better: the metadata title is missing, is only the site's
// name, or is a truncated, suffixed or shortened form of the h1.
func chooseTitle(libTitle string, m pageMeta, pageURL *nurl.URL) string {
	site := m.siteName
	libTitle = collapse(libTitle)
	if i := strings.Index(m.title, libTitle); libTitle != "" && i >= 0 && !atWordEdges(m.title, i, i+len(libTitle)) {
		// The library cut the <title> at a hyphen inside a word ("Spider-Man - …"
		// became "Man - …"); the whole <title> is a better start.
		libTitle = ""
	}
	title := firstNonEmpty(cleanTitle(libTitle, site, pageURL), cleanTitle(m.ogTitle, site, pageURL), cleanTitle(m.title, site, pageURL))
	// An h1 that is the site's name (a logo) is never the headline; titles name the site
	// after their last separator.
	notHeadline := []string{site}
	for _, t := range []string{libTitle, m.ogTitle, m.title} {
		notHeadline = append(notHeadline, lastPart(t))
	}
	h1 := articleH1(m, title, notHeadline)
	if h1 == "" {
		return title
	}
	if title == "" || (site != "" && strings.EqualFold(title, site)) {
		return h1
	}
	if strings.EqualFold(title, h1) {
		return title
	}
	// The h1 is one side of a separator in the title ("Headline | Site"), or contains the
	// title minus its last part: the title is the h1 truncated ("…"), with the site or
	// author appended, or with a kicker cut off.
	lh := strings.ToLower(h1)
	for _, sep := range titleSeparators {
		parts := strings.Split(title, sep)
		for _, p := range parts[:len(parts)-1] {
			if strings.EqualFold(strings.TrimSpace(p), h1) {
				return h1
			}
		}
		if len(parts) > 1 {
			head := strings.ToLower(strings.TrimSpace(strings.Join(parts[:len(parts)-1], sep)))
			if head != "" && strings.Contains(lh, head) {
				return h1
			}
		}
	}
	if t := strings.ToLower(strings.TrimRight(title, ".… ")); strings.Contains(lh, t) {
		return h1
	}
	return title
}

// atWordEdges reports whether s[i:j] starts and ends at spaces or at the ends of s.
func atWordEdges(s string, i, j int) bool {
	return (i == 0 || s[i-1] == ' ') && (j == len(s) || s[j] == ' ')
}

// lastPart is what follows a title's last separator, "" when it has none.
func lastPart(title string) string {
	title = collapse(title)
	for _, sep := range titleSeparators {
		if i := strings.LastIndex(title, sep); i > 0 {
			return strings.TrimSpace(title[i+len(sep):])
		}
	}
	return ""
}

// articleH1 is the page's headline: an <h1> marked as such or inside <article>/<main>,
// else the only <h1>, else the one sharing most words with the title.
func articleH1(m pageMeta, title string, notHeadline []string) string {
	var h1s []string
	for _, h := range m.h1s {
		if !slices.ContainsFunc(notHeadline, func(s string) bool { return s != "" && strings.EqualFold(s, h) }) {
			h1s = append(h1s, h)
		}
	}
	var h1 string
	switch {
	case m.mainH1 != "" && slices.Contains(h1s, m.mainH1):
		h1 = m.mainH1
	case len(h1s) == 1:
		h1 = h1s[0]
	default:
		best := 0.0
		for _, h := range h1s {
			if o := overlap(h, title); o > best && o >= 0.5 {
				h1, best = h, o
			}
		}
	}
	if utf8.RuneCountInString(h1) > 200 {
		return ""
	}
	return h1
}

// overlap is the share of a's words that appear in b.
func overlap(a, b string) float64 {
	words := strings.Fields(strings.ToLower(a))
	if len(words) == 0 {
		return 0
	}
	in := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(b)) {
		in[w] = true
	}
	n := 0
	for _, w := range words {
		if in[w] {
			n++
		}
	}
	return float64(n) / float64(len(words))
}

// cleanTitle drops a leading or trailing part naming the site: "Headline | Site Name",
// "Site Name — Headline". It keeps titles whose separator is part of the headline.
func cleanTitle(title, site string, pageURL *nurl.URL) string {
	title = collapse(title)
	if title == "" {
		return ""
	}
	for _, sep := range titleSeparators {
		i := strings.LastIndex(title, sep)
		if i <= 0 {
			continue
		}
		head, tail := strings.TrimSpace(title[:i]), strings.TrimSpace(title[i+len(sep):])
		if namesSite(tail, site, pageURL) && head != "" {
			return head
		}
		j := strings.Index(title, sep)
		head, tail = strings.TrimSpace(title[:j]), strings.TrimSpace(title[j+len(sep):])
		if namesSite(head, site, pageURL) && tail != "" {
			return tail
		}
	}
	return title
}

// namesSite reports whether part is the site's name: og:site_name, or the page's host
// ("example.com" also matches "Example" and "Example.com").
func namesSite(part, site string, pageURL *nurl.URL) bool {
	p := strings.ToLower(strings.TrimSpace(part))
	if p == "" {
		return false
	}
	if site != "" && (p == strings.ToLower(site) || similar(p, site)) {
		return true
	}
	if pageURL == nil || pageURL.Hostname() == "" {
		return false
	}
	host := strings.TrimPrefix(strings.ToLower(pageURL.Hostname()), "www.")
	squash := strings.NewReplacer(" ", "", "-", "", ".", "").Replace
	name := host
	if i := strings.Index(host, "."); i > 0 {
		name = host[:i]
	}
	return p == host || squash(p) == squash(host) || (len(name) > 2 && squash(p) == name)
}

// similar compares two short strings ignoring case, punctuation and spacing.
func similar(a, b string) bool {
	norm := func(s string) string {
		var out strings.Builder
		for _, c := range strings.ToLower(s) {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c > 0x7f {
				out.WriteRune(c)
			}
		}
		return out.String()
	}
	na, nb := norm(a), norm(b)
	return na != "" && na == nb
}

// dateLayouts are the shapes published dates take in page metadata, most specific first.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02",
	time.RFC1123Z,
	time.RFC1123,
	time.RFC850,
	time.ANSIC,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 January 2006",
	"January 2, 2006",
	"Jan 2, 2006",
	"20060102",
}

// formatDate returns s as RFC 3339 when it parses; dates without a zone are taken as UTC,
// which is also what the library does inside the sandbox. Anything else is returned as
// found, so no information is lost.
func formatDate(s string) string {
	s = collapse(s)
	if s == "" {
		return ""
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	return s
}

// resolve makes ref absolute against base; a ref that does not parse is dropped.
func resolve(base *nurl.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := nurl.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}
