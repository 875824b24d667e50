package local

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/textutil"
)

// Span is the byte range [Start, End) of a piece of a text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Text returns the part of s the span covers.
func (sp Span) Text(s string) string { return s[sp.Start:sp.End] }

// SplitSentences splits text into sentences and returns their byte ranges, in order,
// non-overlapping and trimmed of surrounding white space. Byte offsets rather than
// strings let callers map a sentence back to its place in a chunk (for highlighting a
// citation, say).
//
// A sentence ends at '.', '!', '?', '…' or their CJK forms, together with any closing
// quotes and brackets that follow, when white space or the end of the text comes next —
// so "3.14", "example.com" and "e.g.," do not end one. A '.' after a known abbreviation
// ("Dr.", "e.g.", "etc.") or an initial ("J. Smith") does not end a sentence either,
// unless the abbreviation commonly ends one and a capitalised word follows. A blank line,
// a line that starts a list item or heading, and a short title-like line also end one.
func SplitSentences(text string) []Span {
	var spans []Span
	emit := func(start, end int) {
		if s, e := textutil.TrimSpan(text, start, end); s < e {
			spans = append(spans, Span{s, e})
		}
	}
	segStart := 0
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch r {
		case '\n':
			j := i + 1
			for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r') {
				j++
			}
			if j < len(text) && text[j] == '\n' || startsListItem(text[j:]) || isTitleLine(text, segStart, i, j) {
				emit(segStart, i)
				segStart = j
				i = j
				continue
			}
			i++
		case '.', '!', '?', '…':
			end, quoted := absorbClosers(text, i+size)
			if end >= len(text) {
				i = end
				continue
			}
			next, _ := utf8.DecodeRuneInString(text[end:])
			if !unicode.IsSpace(next) {
				i = end
				continue
			}
			k := end
			for k < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[k:])
				if !unicode.IsSpace(r2) {
					break
				}
				k += s2
			}
			following, _ := utf8.DecodeRuneInString(text[k:])
			if k < len(text) && !endsSentence(text, segStart, i, r, end, quoted, following) {
				i = end
				continue
			}
			emit(segStart, end)
			segStart = end
			i = end
		case '。', '！', '？', '｡':
			end, _ := absorbClosers(text, i+size)
			emit(segStart, end)
			segStart = end
			i = end
		default:
			i += size
		}
	}
	emit(segStart, len(text))
	return spans
}

// absorbClosers extends a sentence end over further terminators ("?!", "...") and the
// closing quotes and brackets that belong to the sentence. quoted reports whether a
// closing quote or bracket was among them.
func absorbClosers(text string, end int) (int, bool) {
	quoted := false
	for end < len(text) {
		r, size := utf8.DecodeRuneInString(text[end:])
		switch r {
		case '.', '!', '?', '…':
		case '"', '\'', ')', ']', '}', '”', '’', '»', '」', '』', '）':
			quoted = true
		default:
			return end, quoted
		}
		end += size
	}
	return end, quoted
}

// endsSentence decides whether the terminator r at byte i, whose run ends at end and is
// followed (after white space) by the rune following, ends the sentence begun at segStart.
func endsSentence(text string, segStart, i int, r rune, end int, quoted bool, following rune) bool {
	lowerNext := unicode.IsLower(following)
	// `"Is it?" she asked.` and "wait... what" continue the sentence.
	if lowerNext && (quoted || r == '…' || strings.HasPrefix(text[i:end], "..")) {
		return false
	}
	if r != '.' || end-i > 1 && text[i+1] == '.' {
		return true
	}
	ws := i
	for ws > segStart {
		pr, psize := utf8.DecodeLastRuneInString(text[segStart:ws])
		if !(unicode.IsLetter(pr) || unicode.IsDigit(pr) || pr == '.') {
			break
		}
		ws -= psize
	}
	word := text[ws:i]
	if word == "" {
		return true
	}
	if textutil.IsDigits(word) {
		// "1. Buy milk" at the start of a line is a list marker, not a sentence.
		return strings.TrimSpace(text[segStart:ws]) != ""
	}
	if first, n := utf8.DecodeRuneInString(word); n == len(word) && unicode.IsUpper(first) && word != "I" {
		// An initial, as in "J. R. R. Tolkien".
		return false
	}
	switch textutil.AbbreviationKind(strings.ToLower(word)) {
	case textutil.AbbrevNeverEnds:
		return false
	case textutil.AbbrevMayEnd:
		return unicode.IsUpper(following)
	}
	if strings.Contains(word, ".") {
		// Dotted abbreviations such as "U.S." or "a.m." end a sentence only before a capital.
		return unicode.IsUpper(following)
	}
	return true
}

// startsListItem reports whether s (the start of a line) opens a list item or a
// Markdown heading, which begins a new sentence even without a blank line before it.
func startsListItem(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '#':
		return true
	case '-', '*', '+':
		return len(s) > 1 && (s[1] == ' ' || s[1] == '\t')
	}
	if strings.HasPrefix(s, "•") {
		return true
	}
	n := 0
	for n < len(s) && n < 4 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n > 0 && n+1 < len(s) && (s[n] == '.' || s[n] == ')') && (s[n+1] == ' ' || s[n+1] == '\t')
}

// isTitleLine reports whether the line ending at the newline nl is a short title-like
// line (no closing punctuation, followed by a capitalised line), as in a note that
// starts with a heading without Markdown. Hard-wrapped prose rarely has lines this short.
func isTitleLine(text string, segStart, nl, nextLine int) bool {
	lineStart := strings.LastIndexByte(text[segStart:nl], '\n') + 1 + segStart
	line := strings.TrimSpace(text[lineStart:nl])
	if line == "" || len(line) > 50 || lineStart != segStart && strings.TrimSpace(text[segStart:lineStart]) != "" {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(line)
	if unicode.IsPunct(last) && last != ')' {
		return false
	}
	next, _ := utf8.DecodeRuneInString(text[nextLine:])
	return unicode.IsUpper(next)
}
