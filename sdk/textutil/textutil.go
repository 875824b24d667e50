// Package textutil holds the word lists and small text primitives that the host and the
// Wasm plugins must agree on: which words a search query drops, which abbreviations do not
// end a sentence. Plugins cannot import the store (cgo) or the providers, so the one copy
// lives here, on the standard library alone, where both sides compile it in.
package textutil

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// queryStopWords are dropped from natural-language queries: they match most chunks, cost
// the most to intersect and say little about relevance. Besides English function words they
// hold the words people use to describe their own saved things ("my notes about …", "that
// article on …"), which otherwise match every title that contains them.
var queryStopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be because
		been before being below between both but by can could did do does doing down during each few for from
		further had has have having he her here hers herself him himself his how i if in into is it its itself
		just me more most my myself no nor not now of off on once only or other our ours ourselves out over own
		same she should so some such than that the their theirs them themselves then there these they this
		those through to too under until up very was we were what when where which while who whom why will with
		would you your yours yourself yourselves tell show find give explain describe
		note notes article articles page pages document documents saved thing things stuff
		something anything info information regarding related mention mentions mentioned`) {
		m[w] = true
	}
	return m
}()

// IsQueryStopWord reports whether w (lower-case) is dropped from a search query. The
// keyword search drops it, and the search plugin neither counts it as a keyword nor marks
// it in a snippet.
func IsQueryStopWord(w string) bool { return queryStopWords[w] }

// Abbreviation is what a word before a '.' says about the end of a sentence.
type Abbreviation int

const (
	NotAbbreviation Abbreviation = iota
	// AbbrevNeverEnds is almost always followed by more of the sentence ("Dr.", "e.g.").
	AbbrevNeverEnds
	// AbbrevMayEnd often ends one ("etc.", "Inc.", "U.S.").
	AbbrevMayEnd
)

// AbbreviationKind classifies a lower-cased word that precedes a '.'. The chunker and the
// local provider's summaries share it, so they agree on what a sentence is.
func AbbreviationKind(w string) Abbreviation {
	switch w {
	case "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "capt", "lt",
		"sgt", "rev", "hon", "fig", "figs", "no", "nos", "vol", "vols", "pp", "ch", "sec",
		"eq", "ref", "refs", "approx", "vs", "cf", "e.g", "i.e", "eg", "ie", "ca", "op", "ed",
		"dept", "est", "min", "max", "avg", "incl", "excl", "viz", "resp", "gov", "sen", "rep",
		"ave", "blvd", "univ":
		return AbbrevNeverEnds
	case "etc", "inc", "ltd", "co", "corp", "al", "jan", "feb", "mar", "apr", "jun", "jul",
		"aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "a.m", "p.m":
		return AbbrevMayEnd
	}
	return NotAbbreviation
}

// IsDigits reports whether w is a non-empty run of ASCII digits.
func IsDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// TrimSpan narrows [start, end) of s to exclude leading and trailing white space.
func TrimSpan(s string, start, end int) (int, int) {
	for start < end {
		r, size := utf8.DecodeRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += size
	}
	for end > start {
		r, size := utf8.DecodeLastRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= size
	}
	return start, end
}
