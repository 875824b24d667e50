package main

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// inlineMode says how whitespace is treated.
type inlineMode int

const (
	// modeFlow is for paragraphs and headings: runs of spaces collapse and lines are trimmed.
	modeFlow inlineMode = iota
	// modeLines is for lists and quotes, whose indentation is structure.
	modeLines
	// modeTable keeps "\|" escaped so that cells stay apart.
	modeTable
)

// inliner resolves a block's inline Markdown: links and images become their text,
// autolinks their URL, HTML tags go, entities and backslash escapes are decoded. Code
// spans are copied as they are. Time and memory stay linear on any input: code spans are
// found with a one-pass cursor, brackets are matched once with a bounded stack, and every
// look-ahead draws on a budget proportional to the input. One inliner serves a whole
// document, reusing its buffers.
type inliner struct {
	refs map[string]bool

	s      string
	mode   inlineMode
	budget int

	// pairs are the matched brackets that may form a link, sorted by opening position.
	pairs   []bracketPair
	stack   []int32
	pending []skip

	out []byte
}

// render resolves s; the result is valid until the next call.
func (r *inliner) render(s string, mode inlineMode) []byte {
	r.s, r.mode, r.budget = s, mode, 8*len(s)+4096
	r.pairs, r.stack, r.pending, r.out = r.pairs[:0], r.stack[:0], r.pending[:0], r.out[:0]
	r.matchBrackets()
	r.run()
	if mode == modeFlow {
		return bytes.TrimSpace(r.out)
	}
	return r.out
}

const (
	// maxBracketDepth bounds the bracket stack; deeper "[" are text.
	maxBracketDepth = 1000
	// maxBracketPairs bounds the bracket pairs kept; later ones are text.
	maxBracketPairs = 1 << 20
	// maxLabel is CommonMark's limit on a link label; it also keeps shortcut look-ups of
	// long bracketed runs cheap.
	maxLabel = 999
)

type bracketPair struct{ open, close int32 }

// skip is a pending jump: when the scan reaches at, it continues from to (past a link's
// destination, say).
type skip struct{ at, to int }

// matchBrackets pairs "[" with "]" outside code spans, keeping the pairs that can be
// links: followed by "(", or short enough to be a reference label.
func (r *inliner) matchBrackets() {
	s := r.s
	if strings.IndexByte(s, ']') < 0 {
		return
	}
	stack := r.stack
	var spans codeSpans
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '`':
			if end := spans.at(s, i); end > i {
				i = end - 1
			} else {
				i += runLen(s, i, '`') - 1
			}
		case '[':
			if len(stack) < maxBracketDepth {
				stack = append(stack, int32(i))
			}
		case ']':
			if len(stack) == 0 {
				continue
			}
			open := int(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			if len(r.pairs) < maxBracketPairs && (i+1 < len(s) && s[i+1] == '(' || len(r.refs) > 0 && i-open <= maxLabel+1) {
				r.pairs = append(r.pairs, bracketPair{int32(open), int32(i)})
			}
		}
	}
	r.stack = stack
	slices.SortFunc(r.pairs, func(a, b bracketPair) int { return int(a.open - b.open) })
}

// closeOf returns the "]" matching the "[" at open.
func (r *inliner) closeOf(open int) (int, bool) {
	k, found := slices.BinarySearchFunc(r.pairs, int32(open), func(p bracketPair, t int32) int { return int(p.open - t) })
	if !found {
		return 0, false
	}
	return int(r.pairs[k].close), true
}

// codeSpans finds code spans left to right: a run of n backticks up to the next run of
// exactly n. Once a search has run to the end of the text without a closer, it knows
// where the last run of every length is, so no later search scans in vain: linear
// overall, as in cmark.
type codeSpans struct {
	scannedAll bool
	last       [maxTicks + 1]int
}

const maxTicks = 32

// at returns the end of the code span opening at s[i], or -1 if the backticks there are
// text. Calls must come in increasing order of i.
func (c *codeSpans) at(s string, i int) int {
	n := runLen(s, i, '`')
	if n > maxTicks || (c.scannedAll && c.last[n] <= i) {
		return -1
	}
	for j := i + n; j < len(s); {
		if s[j] != '`' {
			j++
			continue
		}
		m := runLen(s, j, '`')
		if m == n {
			return j + m
		}
		if m <= maxTicks && j > c.last[m] {
			c.last[m] = j
		}
		j += m
	}
	c.scannedAll = true
	return -1
}

func (r *inliner) run() {
	s := r.s
	pending := r.pending
	var spans codeSpans
	for i := 0; i < len(s); {
		for len(pending) > 0 && pending[len(pending)-1].at < i {
			pending = pending[:len(pending)-1]
		}
		if len(pending) > 0 && pending[len(pending)-1].at == i {
			i = pending[len(pending)-1].to
			pending = pending[:len(pending)-1]
			continue
		}
		c := s[i]
		switch c {
		case '`':
			end := spans.at(s, i)
			if end < 0 {
				end = i + runLen(s, i, '`')
			}
			r.out = append(r.out, s[i:end]...)
			i = end
			continue
		case '\\':
			if i+1 < len(s) && isASCIIPunct(s[i+1]) {
				if r.mode == modeTable && s[i+1] == '|' {
					r.out = append(r.out, '\\')
				}
				r.out = append(r.out, s[i+1])
				i += 2
				continue
			}
		case '!', '[':
			open := i
			if c == '!' {
				open++
			}
			if open < len(s) && s[open] == '[' {
				if sk, next, ok := r.link(open, c == '!'); ok {
					if sk.at >= 0 {
						pending = append(pending, sk)
					}
					i = next
					continue
				}
			}
		case '<':
			if next, ok := r.angle(i); ok {
				i = next
				continue
			}
		case '&':
			if next, ok := r.entity(i); ok {
				i = next
				continue
			}
		case ' ', '\t', '\n':
			if r.mode == modeFlow {
				r.space(c)
				i++
				continue
			}
		}
		r.out = append(r.out, c)
		i++
	}
	r.pending = pending
}

// space writes flow-mode whitespace: no runs, nothing at the start or end of a line.
func (r *inliner) space(c byte) {
	n := len(r.out)
	if c == '\n' {
		for n > 0 && r.out[n-1] == ' ' {
			n--
		}
		r.out = r.out[:n]
		if n > 0 && r.out[n-1] != '\n' {
			r.out = append(r.out, '\n')
		}
		return
	}
	if n > 0 && r.out[n-1] != ' ' && r.out[n-1] != '\n' {
		r.out = append(r.out, ' ')
	}
}

// spaceIfNeeded separates words that an HTML tag between them kept apart.
func (r *inliner) spaceIfNeeded() {
	if r.mode == modeFlow {
		r.space(' ')
	} else if len(r.out) > 0 && r.out[len(r.out)-1] != ' ' && r.out[len(r.out)-1] != '\n' {
		r.out = append(r.out, ' ')
	}
}

// link handles "[" at open (an image when image is set: "![" with the "!" just before).
// An inline link, a reference link or a shortcut to a defined reference turns into its
// text: the scan continues inside the brackets and the returned skip jumps from the
// closing "]" past the destination. A badge image is dropped whole.
func (r *inliner) link(open int, image bool) (sk skip, next int, ok bool) {
	s := r.s
	end, found := r.closeOf(open)
	if !found {
		return skip{}, 0, false
	}
	text := s[open+1 : end]
	after := end + 1
	switch {
	case after < len(s) && s[after] == '(':
		dest, stop, ok := r.destination(after + 1)
		if !ok {
			return skip{}, 0, false
		}
		if image && isBadge(dest) {
			return skip{at: -1}, stop, true
		}
		return skip{at: end, to: stop}, open + 1, true
	case after < len(s) && s[after] == '[':
		end2, found := r.closeOf(after)
		if !found {
			return skip{}, 0, false
		}
		label := s[after+1 : end2]
		if label == "" {
			label = text
		}
		if len(label) > maxLabel || !r.refs[normLabel(label)] {
			return skip{}, 0, false
		}
		return skip{at: end, to: end2 + 1}, open + 1, true
	case len(text) <= maxLabel && r.refs[normLabel(text)]:
		return skip{at: end, to: after}, open + 1, true
	}
	return skip{}, 0, false
}

// destination parses a link destination and optional title after "(", returning the URL
// and the index just past ")".
func (r *inliner) destination(i int) (url string, end int, ok bool) {
	s := r.s
	i = r.skipSpace(i)
	start := i
	if i < len(s) && s[i] == '<' {
		for i++; i < len(s) && s[i] != '>' && s[i] != '\n'; i++ {
			if r.budget--; r.budget < 0 {
				return "", 0, false
			}
		}
		if i >= len(s) || s[i] != '>' {
			return "", 0, false
		}
		url = s[start+1 : i]
		i++
	} else {
		depth := 0
	loop:
		for ; i < len(s); i++ {
			if r.budget--; r.budget < 0 {
				return "", 0, false
			}
			switch c := s[i]; {
			case c == '\\':
				i++
			case c == '(':
				depth++
			case c == ')':
				if depth == 0 {
					break loop
				}
				depth--
			case c == ' ' || c == '\t' || c == '\n':
				break loop
			case c < 0x20:
				return "", 0, false
			}
		}
		if i > len(s) {
			i = len(s)
		}
		url = s[start:i]
	}
	i = r.skipSpace(i)
	if i < len(s) && (s[i] == '"' || s[i] == '\'' || s[i] == '(') {
		closeCh := s[i]
		if closeCh == '(' {
			closeCh = ')'
		}
		for i++; i < len(s) && s[i] != closeCh; i++ {
			if r.budget--; r.budget < 0 {
				return "", 0, false
			}
			if s[i] == '\\' {
				i++
			}
		}
		if i >= len(s) {
			return "", 0, false
		}
		i = r.skipSpace(i + 1)
	}
	if i < len(s) && s[i] == ')' {
		return url, i + 1, true
	}
	return "", 0, false
}

func (r *inliner) skipSpace(i int) int {
	for i < len(r.s) && (r.s[i] == ' ' || r.s[i] == '\t' || r.s[i] == '\n') {
		i++
	}
	return i
}

// isBadge tells a README status badge (build passing, coverage 93%) from a real image: its
// alt text is noise to a reader.
func isBadge(url string) bool {
	u := strings.ToLower(url)
	return strings.Contains(u, "shields.io") || strings.Contains(u, "badge") || strings.Contains(u, "badgen.net")
}

// angle handles "<": an autolink becomes its URL or address, a known HTML tag is removed
// (an <img> leaves its alt text). Anything else, "Vec<T>" or "a < b", is text.
func (r *inliner) angle(i int) (next int, ok bool) {
	s := r.s
	j := i + 1
	limit := min(len(s), i+2048)
	for ; j < limit && s[j] != '>' && s[j] != '<' && s[j] != '\n'; j++ {
		if r.budget--; r.budget < 0 {
			return 0, false
		}
	}
	inner := s[i+1 : min(j, len(s))]
	if j < len(s) && s[j] == '>' && inner != "" && !strings.ContainsAny(inner, " \t") {
		if isAutolink(inner) {
			r.out = append(r.out, inner...)
			return j + 1, true
		}
	}
	// An HTML tag may span lines (attributes on their own lines), so look further for it.
	name, closing := tagName(s[i+1:])
	if name == "" {
		return 0, false
	}
	kind, known := htmlTags[strings.ToLower(name)]
	if !known {
		return 0, false
	}
	end := -1
	for k, q := i+1, byte(0); k < len(s) && k < i+4096; k++ {
		if r.budget--; r.budget < 0 {
			return 0, false
		}
		c := s[k]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			end = k
		case c == '<':
			return 0, false
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return 0, false
	}
	tag := s[i : end+1]
	switch {
	case kind == tagImage && !closing:
		if alt := attr(tag, "alt"); alt != "" && !isBadge(attr(tag, "src")) {
			r.spaceIfNeeded()
			r.out = append(r.out, alt...)
			r.spaceIfNeeded()
		}
	case kind == tagBlock:
		r.spaceIfNeeded()
	}
	return end + 1, true
}

func isAutolink(s string) bool {
	if at := strings.IndexByte(s, '@'); at > 0 && at < len(s)-1 && !strings.Contains(s, ":") {
		return strings.Contains(s[at:], ".")
	}
	colon := strings.IndexByte(s, ':')
	if colon < 2 || colon > 32 {
		return false
	}
	for k := 0; k < colon; k++ {
		c := s[k]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (k == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-')) {
			return false
		}
	}
	return true
}

// tagName reads the element name after "<" or "</".
func tagName(s string) (name string, closing bool) {
	if strings.HasPrefix(s, "/") {
		s, closing = s[1:], true
	}
	n := 0
	for n < len(s) && n <= 16 && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || n > 0 && s[n] >= '0' && s[n] <= '9') {
		n++
	}
	if n == 0 || n > 16 || (n < len(s) && s[n] != ' ' && s[n] != '>' && s[n] != '/' && s[n] != '\n' && s[n] != '\t') {
		return "", false
	}
	return s[:n], closing
}

// attr returns an attribute's value from a tag.
func attr(tag, name string) string {
	lower := strings.ToLower(tag)
	for from := 0; ; {
		k := strings.Index(lower[from:], name+"=")
		if k < 0 {
			return ""
		}
		k += from
		from = k + len(name) + 1
		if k > 0 && lower[k-1] != ' ' && lower[k-1] != '\n' && lower[k-1] != '\t' {
			continue
		}
		v := tag[from:]
		if v != "" && (v[0] == '"' || v[0] == '\'') {
			if e := strings.IndexByte(v[1:], v[0]); e >= 0 {
				return decodeEntities(v[1 : e+1])
			}
			return ""
		}
		if e := strings.IndexAny(v, " \t\n/>"); e >= 0 {
			v = v[:e]
		}
		return decodeEntities(v)
	}
}

// entity decodes "&amp;", "&#169;" and the like at i.
func (r *inliner) entity(i int) (next int, ok bool) {
	s := r.s
	semi := strings.IndexByte(s[i:min(len(s), i+34)], ';')
	if semi < 2 {
		return 0, false
	}
	rn, ok := decodeEntity(s[i+1 : i+semi])
	if !ok {
		return 0, false
	}
	r.out = utf8.AppendRune(r.out, rn)
	return i + semi + 1, true
}

func decodeEntity(name string) (rune, bool) {
	if name[0] != '#' {
		rn, ok := namedEntities[name]
		return rn, ok
	}
	num, base := name[1:], 10
	if num != "" && (num[0] == 'x' || num[0] == 'X') {
		num, base = num[1:], 16
	}
	if num == "" || len(num) > 7 {
		return 0, false
	}
	v, err := strconv.ParseUint(num, base, 32)
	if err != nil {
		return 0, false
	}
	rn := rune(v)
	if rn == 0 || !utf8.ValidRune(rn) {
		rn = utf8.RuneError
	}
	return rn, true
}

// decodeEntities decodes the entities of an attribute value.
func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	r := inliner{s: s, mode: modeLines, budget: 4 * len(s)}
	for i := 0; i < len(s); {
		if s[i] == '&' {
			if next, ok := r.entity(i); ok {
				i = next
				continue
			}
		}
		r.out = append(r.out, s[i])
		i++
	}
	return string(r.out)
}

// namedEntities are the HTML entities common in Markdown; the full table would cost more
// Wasm than it is worth.
var namedEntities = map[string]rune{
	"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\'', "nbsp": '\u00a0',
	"copy": '©', "reg": '®', "trade": '™', "hellip": '…', "mdash": '—', "ndash": '–',
	"lsquo": '‘', "rsquo": '’', "ldquo": '“', "rdquo": '”', "laquo": '«', "raquo": '»',
	"bull": '•', "middot": '·', "times": '×', "divide": '÷', "deg": '°', "plusmn": '±',
	"euro": '€', "pound": '£', "yen": '¥', "cent": '¢', "sect": '§', "para": '¶',
	"larr": '←', "rarr": '→', "uarr": '↑', "darr": '↓', "harr": '↔', "check": '✓',
	"zwj": '\u200d', "zwnj": '\u200c', "shy": '\u00ad', "ensp": '\u2002', "emsp": '\u2003', "thinsp": '\u2009',
}

type tagKind int

const (
	tagInline tagKind = iota // removed without a trace: <b>, <kbd>, <a>
	tagBlock                 // removed, leaving a space so words do not run together
	tagImage                 // replaced by its alt text
)

// htmlTags are the elements whose tags are removed. An unknown name ("<T>",
// "<your-token>") is left as text.
var htmlTags = map[string]tagKind{
	"a": tagInline, "abbr": tagInline, "b": tagInline, "bdi": tagInline, "big": tagInline,
	"cite": tagInline, "code": tagInline, "del": tagInline, "dfn": tagInline, "em": tagInline,
	"font": tagInline, "i": tagInline, "ins": tagInline, "kbd": tagInline, "mark": tagInline,
	"q": tagInline, "s": tagInline, "samp": tagInline, "small": tagInline, "span": tagInline,
	"strike": tagInline, "strong": tagInline, "sub": tagInline, "sup": tagInline, "tt": tagInline,
	"u": tagInline, "var": tagInline, "wbr": tagInline,
	"img":     tagImage,
	"address": tagBlock, "article": tagBlock, "aside": tagBlock, "audio": tagBlock, "blockquote": tagBlock,
	"br": tagBlock, "caption": tagBlock, "center": tagBlock, "dd": tagBlock, "details": tagBlock,
	"div": tagBlock, "dl": tagBlock, "dt": tagBlock, "figcaption": tagBlock, "figure": tagBlock,
	"footer": tagBlock, "h1": tagBlock, "h2": tagBlock, "h3": tagBlock, "h4": tagBlock, "h5": tagBlock,
	"h6": tagBlock, "header": tagBlock, "hr": tagBlock, "iframe": tagBlock, "li": tagBlock,
	"main": tagBlock, "nav": tagBlock, "ol": tagBlock, "p": tagBlock, "picture": tagBlock,
	"pre": tagBlock, "section": tagBlock, "source": tagBlock, "summary": tagBlock, "table": tagBlock,
	"tbody": tagBlock, "td": tagBlock, "tfoot": tagBlock, "th": tagBlock, "thead": tagBlock,
	"tr": tagBlock, "ul": tagBlock, "video": tagBlock,
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}
