package main

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/textutil"
)

// Snippet window, in characters (runes) of the text without markup: aim for
// snippetTarget, never beyond snippetMax (plus an ellipsis at each cut end). A text up to
// snippetMax long is shown whole.
const (
	snippetTarget = 200
	snippetMin    = 160
	snippetMax    = 240
	ellipsis      = "…"
	markOpen      = "<mark>"
	markClose     = "</mark>"
)

// matcher decides which words of a text are matches of the query.
type matcher struct {
	exact   map[string]bool // terms as given, lower-case
	stems   map[string]bool // their stems
	phrases [][]string
	// heads holds the first two runes of every word that can match (terms, stems and
	// phrase words): a text word with another head is skipped without building its string,
	// which in Wasm, where every allocation is dear, is most of the snippet's cost.
	heads map[[2]rune]bool
}

// newMatcher takes the words the keyword search looked for and its phrases. Phrase words
// match on their own too, except stop words, which only mean something in the phrase.
func newMatcher(terms, phrases []string) *matcher {
	m := &matcher{exact: map[string]bool{}, stems: map[string]bool{}, heads: map[[2]rune]bool{}}
	addHead := func(w string) {
		var h [2]rune
		i := 0
		for _, r := range w {
			if i == 2 {
				break
			}
			h[i] = r
			i++
		}
		m.heads[h] = true
	}
	addWord := func(w string) {
		m.exact[w] = true
		m.stems[stem(w)] = true
		addHead(w)
		addHead(stem(w))
	}
	for _, t := range terms {
		for _, w := range splitWords(t) {
			addWord(w)
		}
	}
	for _, p := range phrases {
		words := splitWords(p)
		switch {
		case len(words) == 1:
			addWord(words[0])
		case len(words) > 1:
			m.phrases = append(m.phrases, words)
			for _, w := range words {
				addHead(w)
				if !textutil.IsQueryStopWord(w) {
					addWord(w)
				}
			}
		}
	}
	return m
}

func (m *matcher) empty() bool { return len(m.exact) == 0 && len(m.phrases) == 0 }

// word reports whether a lower-case text word matches a term: the same word, or the same
// word in another form ("indexing" for "index", "runner" for "running").
func (m *matcher) word(w string) bool {
	if m.exact[w] || m.stems[w] {
		return true
	}
	s := stem(w)
	return m.exact[s] || m.stems[s]
}

// suffixes are stripped by stem, first match wins, when at least keep letters remain;
// -ed and -er need more, or "embed" and "ember" would share a stem. dedupe marks the
// suffixes before which English doubles a final consonant ("running", "stopped").
var suffixes = []struct {
	suffix, repl string
	keep         int
	dedupe       bool
}{
	{"ings", "", 3, true}, {"ing", "", 3, true}, {"ies", "y", 3, false}, {"ers", "", 4, true}, {"er", "", 4, true},
	{"ed", "", 4, true}, {"es", "", 3, false}, {"ly", "", 3, false}, {"s", "", 3, false},
}

// stem is a deliberately small suffix stripper: enough for a vector-only hit to get its
// marks ("indexes" for "indexing"), applied alike to query and text words, so it only has
// to be consistent, not linguistically right.
func stem(w string) string {
	if utf8.RuneCountInString(w) < 4 {
		return w
	}
	for _, s := range suffixes {
		base, ok := strings.CutSuffix(w, s.suffix)
		if !ok || utf8.RuneCountInString(base) < s.keep {
			continue
		}
		if s.suffix == "s" && (strings.HasSuffix(base, "s") || strings.HasSuffix(base, "u") || strings.HasSuffix(base, "i")) {
			break // class, status, analysis: not plurals
		}
		w = base + s.repl
		if n := len(w); s.dedupe && n >= 4 && w[n-1] == w[n-2] && isDoublingConsonant(w[n-1]) {
			w = w[:n-1]
		}
		break
	}
	if n := len(w); n > 3 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	return w
}

// isDoublingConsonant: l, s and z are doubled in base forms too (fall, pass, buzz).
func isDoublingConsonant(c byte) bool {
	return c >= 'a' && c <= 'z' && !strings.ContainsRune("aeiouylsz", rune(c))
}

// hit is a match in the text: runes [start, end).
type hit struct {
	start, end int
	key        string // the term or phrase matched, to count distinct ones
}

// snippet cuts a window of text around the densest cluster of matches and renders it as
// HTML: matches in <mark>, everything else escaped, "…" where the text was cut.
func snippet(text string, m *matcher) string {
	rs := collapse(text)
	hits := findHits(rs, m)
	a, b := window(rs, hits)
	return render(rs, hits, a, b)
}

// collapse returns text as runes with runs of white space made single spaces and the ends
// trimmed; invalid UTF-8 becomes U+FFFD. Markdown heading markers (extractors keep headings
// as "## Title") are dropped and the heading ends with a period, so a snippet reads
// "Title. Body…" rather than "## Title Body…".
func collapse(text string) []rune {
	rs := make([]rune, 0, len(text))
	space := false
	for line := range strings.SplitSeq(text, "\n") {
		body, heading := cutHeadingMarker(line)
		for _, r := range body {
			if unicode.IsSpace(r) {
				space = len(rs) > 0
				continue
			}
			if space {
				rs = append(rs, ' ')
				space = false
			}
			rs = append(rs, r)
		}
		if heading && len(rs) > 0 && !unicode.IsPunct(rs[len(rs)-1]) {
			rs = append(rs, '.')
		}
		space = len(rs) > 0
	}
	return rs
}

// cutHeadingMarker returns line without its ATX heading marker (one to six '#' and a
// space, after optional indentation) and whether it had one.
func cutHeadingMarker(line string) (string, bool) {
	s := strings.TrimLeft(line, " \t")
	level := 0
	for level < len(s) && s[level] == '#' {
		level++
	}
	if level < 1 || level > 6 || level == len(s) || (s[level] != ' ' && s[level] != '\t') {
		return line, false
	}
	return strings.TrimRight(s[level+1:], " \t#"), true
}

// findHits lists the matches left to right; a phrase takes its words, so hits never
// overlap.
func findHits(rs []rune, m *matcher) []hit {
	if m == nil || m.empty() {
		return nil
	}
	type token struct {
		start, end int
		word       string // "" when its head matches no query word: it cannot match
	}
	var toks []token
	buf := make([]rune, 0, 32)
	for i := 0; i < len(rs); {
		if !isWordRune(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && isWordRune(rs[j]) {
			j++
		}
		var head [2]rune
		head[0] = unicode.ToLower(rs[i])
		if j-i > 1 {
			head[1] = unicode.ToLower(rs[i+1])
		}
		word := ""
		if m.heads[head] {
			buf = buf[:0]
			for _, r := range rs[i:j] {
				buf = append(buf, unicode.ToLower(r))
			}
			word = string(buf)
		}
		toks = append(toks, token{i, j, word})
		i = j
	}
	var hits []hit
next:
	for i := 0; i < len(toks); {
		for _, p := range m.phrases {
			if i+len(p) > len(toks) {
				continue
			}
			ok := true
			for k, w := range p {
				if toks[i+k].word != w {
					ok = false
					break
				}
			}
			if ok {
				hits = append(hits, hit{toks[i].start, toks[i+len(p)-1].end, strings.Join(p, " ")})
				i += len(p)
				continue next
			}
		}
		if w := toks[i].word; w != "" && m.word(w) {
			hits = append(hits, hit{toks[i].start, toks[i].end, stem(w)})
		}
		i++
	}
	return hits
}

// window picks the runes [a, b) to show: the stretch of snippetTarget that holds the most
// distinct matches (then the most matches, then the earliest), with the cluster centred,
// cut where words meet.
func window(rs []rune, hits []hit) (a, b int) {
	n := len(rs)
	if n <= snippetMax {
		return 0, n
	}
	cStart, cEnd := 0, 0 // the cluster; empty at 0 when nothing matched
	bestDistinct, bestCount := 0, 0
	keys := map[string]bool{}
	for i := range hits {
		clear(keys)
		j := i
		for ; j < len(hits) && hits[j].end-hits[i].start <= snippetTarget; j++ {
			keys[hits[j].key] = true
		}
		if j == i { // one match longer than the window
			j, keys[hits[i].key] = i+1, true
		}
		if len(keys) > bestDistinct || (len(keys) == bestDistinct && j-i > bestCount) {
			bestDistinct, bestCount = len(keys), j-i
			cStart, cEnd = hits[i].start, hits[j-1].end
		}
	}
	if span := cEnd - cStart; span >= snippetTarget {
		a, b = cStart, min(cEnd, cStart+snippetMax)
	} else {
		a = max(0, cStart-(snippetTarget-span)/2)
		b = a + snippetTarget
		if b > n {
			b, a = n, n-snippetTarget
		}
		// A snippet that starts with a sentence reads better than one that starts with the
		// previous sentence's last words; the window shifts forward at most to the cluster.
		if s := sentenceStart(rs, a, cStart); s > a && s+snippetTarget <= n {
			a, b = s, s+snippetTarget
		}
	}
	a = snapStart(rs, a, b, cStart)
	b = snapEnd(rs, a, b, cEnd)
	for a < b && rs[a] == ' ' {
		a++
	}
	for b > a && rs[b-1] == ' ' {
		b--
	}
	return a, b
}

// sentenceStart is the first sentence start in (from, to], or -1.
func sentenceStart(rs []rune, from, to int) int {
	for i := max(from+1, 2); i <= to; i++ {
		if rs[i-1] == ' ' && strings.ContainsRune(".!?", rs[i-2]) {
			return i
		}
	}
	return -1
}

// snapStart moves a cut inside a word to the word's start when the window stays within
// snippetMax, else to the next word's start when that keeps the cluster (from cStart) and
// a useful length; a run of text without spaces (a URL, CJK) is cut where it is.
func snapStart(rs []rune, a, b, cStart int) int {
	if a == 0 || rs[a-1] == ' ' || rs[a] == ' ' {
		return a
	}
	s := a
	for s > 0 && rs[s-1] != ' ' {
		s--
	}
	if b-s <= snippetMax {
		return s
	}
	f := a
	for f < b && rs[f] != ' ' {
		f++
	}
	if f < cStart && b-f >= snippetMin/2 {
		return f + 1
	}
	return a
}

// snapEnd is snapStart for the end of the window, keeping the cluster up to cEnd.
func snapEnd(rs []rune, a, b, cEnd int) int {
	if b == len(rs) || rs[b] == ' ' || rs[b-1] == ' ' {
		return b
	}
	e := b
	for e < len(rs) && rs[e] != ' ' {
		e++
	}
	if e-a <= snippetMax {
		return e
	}
	p := b
	for p > a && rs[p-1] != ' ' {
		p--
	}
	if p > a && p-1 >= cEnd && p-1-a >= snippetMin/2 {
		return p - 1
	}
	return b
}

// render writes runes [a, b) as HTML. Matches wholly inside the window are marked; matches
// joined by a connector ("ERR_CONN_RESET", "v1.2") share one mark.
func render(rs []rune, hits []hit, a, b int) string {
	var sb strings.Builder
	if a > 0 {
		sb.WriteString(ellipsis)
	}
	pos := a
	for i := 0; i < len(hits); i++ {
		h := hits[i]
		if h.start < a || h.end > b {
			continue
		}
		end := h.end
		for i+1 < len(hits) && hits[i+1].end <= b && isConnector(rs[end:hits[i+1].start]) {
			i++
			end = hits[i].end
		}
		sb.WriteString(html.EscapeString(string(rs[pos:h.start])))
		sb.WriteString(markOpen)
		sb.WriteString(html.EscapeString(string(rs[h.start:end])))
		sb.WriteString(markClose)
		pos = end
	}
	sb.WriteString(html.EscapeString(string(rs[pos:b])))
	if b < len(rs) {
		sb.WriteString(ellipsis)
	}
	return sb.String()
}

// isConnector: one or two characters of punctuation, no space, between two words.
func isConnector(gap []rune) bool {
	if len(gap) == 0 || len(gap) > 2 {
		return false
	}
	for _, r := range gap {
		if r == ' ' || isWordRune(r) {
			return false
		}
	}
	return true
}
