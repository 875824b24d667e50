package main

import (
	"unicode"
	"unicode/utf8"
)

// Tokens are what chunk_size and chunk_overlap count. A token is a whitespace-separated
// word, except in scripts written without spaces, where each Han, Hiragana or Katakana
// character is one (it is roughly a word there, and those are the only places a text
// without spaces can be cut). A run without spaces longer than maxAtomRunes (a URL, a hash,
// base64) counts as one token per maxAtomRunes runes, so a megabyte with no white space is
// not "one word" that no chunk size can hold.
//
// The counting is additive: for any a <= b <= c on token boundaries, tokens(a,c) =
// tokens(a,b) + tokens(b,c). The chunker sums unit counts and relies on the sum being what
// countTokens says of the chunk's text.
const maxAtomRunes = 32

// atom is one token's byte range. glued marks an atom that continues the previous one
// without white space or a script boundary in between: a piece of a long run, which the
// chunker cuts only when nothing else is left.
type atom struct {
	start, end int
	glued      bool
}

// atomScanner walks the atoms of s[pos:end].
type atomScanner struct {
	s        string
	pos, end int
	// cutRun is set when the previous atom ended only because it reached maxAtomRunes.
	cutRun bool
}

func newAtomScanner(s string, start, end int) *atomScanner {
	return &atomScanner{s: s, pos: start, end: end}
}

func (sc *atomScanner) next() (atom, bool) {
	i := sc.pos
	for i < sc.end {
		r, w := utf8.DecodeRuneInString(sc.s[i:sc.end])
		if !unicode.IsSpace(r) {
			break
		}
		i += w
		sc.cutRun = false
	}
	if i >= sc.end {
		sc.pos = i
		return atom{}, false
	}
	a := atom{start: i, glued: sc.cutRun && i == sc.pos}
	sc.cutRun = false
	var prev rune
	for n := 0; i < sc.end; n++ {
		r, w := utf8.DecodeRuneInString(sc.s[i:sc.end])
		if unicode.IsSpace(r) {
			break
		}
		if n > 0 {
			if isWide(r) || (isWide(prev) || isCJKPunct(prev)) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				break
			}
			if n >= maxAtomRunes {
				sc.cutRun = true
				break
			}
		}
		prev = r
		i += w
	}
	a.end = i
	sc.pos = i
	return a, true
}

// countTokens counts the tokens of s[start:end].
func countTokens(s string, start, end int) int {
	sc := newAtomScanner(s, start, end)
	n := 0
	for {
		if _, ok := sc.next(); !ok {
			return n
		}
		n++
	}
}

// atomsOf lists the atoms of s[start:end]; callers keep the range small (one chunk).
func atomsOf(s string, start, end int) []atom {
	sc := newAtomScanner(s, start, end)
	var out []atom
	for {
		a, ok := sc.next()
		if !ok {
			return out
		}
		out = append(out, a)
	}
}

// prefixEnd returns the end offset of the first n tokens of s (len(s) if it has fewer).
func prefixEnd(s string, n int) int {
	sc := newAtomScanner(s, 0, len(s))
	end := 0
	for i := 0; i < n; i++ {
		a, ok := sc.next()
		if !ok {
			return len(s)
		}
		end = a.end
	}
	if _, ok := sc.next(); !ok {
		return len(s)
	}
	return end
}

func isWide(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// isCJKPunct reports CJK and full-width punctuation, after which a letter starts a new
// token even without a space ("好。Hello").
func isCJKPunct(r rune) bool {
	return r >= 0x3000 && r <= 0x303F || r >= 0xFF01 && r <= 0xFF0F || r >= 0xFF1A && r <= 0xFF20 ||
		r >= 0xFF5B && r <= 0xFF65
}
