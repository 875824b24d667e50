package store

import (
	"strings"
	"unicode"

	"github.com/cortexhq/cortex/sdk/textutil"
)

// KeywordQuery is a user's search text turned into an FTS5 query. User input is always
// treated as text: operators (AND, OR, NOT, NEAR), column filters, '*', '^', '-',
// parentheses and stray quotes are never passed to FTS5 as syntax; a quoted phrase is
// searched as a phrase.
type KeywordQuery struct {
	// Terms are the words searched for, lower-cased, stop words dropped unless the query
	// has nothing else.
	Terms []string
	// Phrases are the quoted phrases, each as its words.
	Phrases [][]string
	// Compounds are tokens typed as one but split by FTS5 ("QX-7731-ZB", "node.js",
	// "ERR_CONN_RESET"), each as its parts. They are searched as optional phrases, so the
	// exact identifier outranks documents that share only some of its parts.
	Compounds [][]string
	// Match is the FTS5 MATCH expression; "" means nothing searchable was typed.
	Match string
}

// maxQueryTerms caps the terms of one query: a pasted paragraph should not become a
// hundred-way OR.
const maxQueryTerms = 32

// ParseKeywordQuery parses what a user typed.
func ParseKeywordQuery(q string) KeywordQuery {
	var kq KeywordQuery
	var words []string
	rest := q
	for {
		open := strings.IndexByte(rest, '"')
		if open < 0 {
			words = append(words, splitWords(rest)...)
			kq.Compounds = append(kq.Compounds, compounds(rest)...)
			break
		}
		close := strings.IndexByte(rest[open+1:], '"')
		if close < 0 {
			// An unbalanced quote is just a character.
			words = append(words, splitWords(rest)...)
			kq.Compounds = append(kq.Compounds, compounds(rest)...)
			break
		}
		words = append(words, splitWords(rest[:open])...)
		kq.Compounds = append(kq.Compounds, compounds(rest[:open])...)
		if phrase := splitWords(rest[open+1 : open+1+close]); len(phrase) > 1 {
			kq.Phrases = append(kq.Phrases, phrase)
		} else {
			words = append(words, phrase...)
		}
		rest = rest[open+1+close+1:]
	}
	seen := map[string]bool{}
	var content, stops []string
	for _, w := range words {
		if seen[w] {
			continue
		}
		seen[w] = true
		if textutil.IsQueryStopWord(w) {
			stops = append(stops, w)
		} else {
			content = append(content, w)
		}
	}
	kq.Terms = content
	if len(content) == 0 && len(kq.Phrases) == 0 && len(stops) > 0 {
		// Only stop words ("to be or not to be", "the who"): search them as one phrase,
		// which is both what was meant and far cheaper than an OR of the commonest words.
		if len(stops) == 1 {
			kq.Terms = stops
		} else {
			kq.Phrases = append(kq.Phrases, words)
		}
	}
	if len(kq.Terms) > maxQueryTerms {
		kq.Terms = kq.Terms[:maxQueryTerms]
	}
	kq.Match = kq.match()
	return kq
}

// splitWords cuts text into words the way FTS5's unicode61 tokenizer does: runs of
// letters and digits; everything else separates.
func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}

// compounds finds the whitespace-separated tokens of s that FTS5 splits into several words.
func compounds(s string) [][]string {
	var out [][]string
	for _, tok := range strings.Fields(s) {
		if parts := splitWords(tok); len(parts) > 1 && len(parts) <= 8 {
			out = append(out, parts)
		}
	}
	return out
}

// quote makes a string an FTS5 string literal: whatever it holds is text, not syntax.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// match builds the expression: every phrase is required, and the terms (and the phrases
// again) are alternatives that rank the matches, so a chunk with the phrase and more of
// the terms comes first.
func (kq KeywordQuery) match() string {
	var required, optional []string
	for _, p := range kq.Phrases {
		required = append(required, quote(strings.Join(p, " ")))
	}
	for _, c := range kq.Compounds {
		optional = append(optional, quote(strings.Join(c, " ")))
	}
	for _, t := range kq.Terms {
		optional = append(optional, quote(t))
	}
	switch {
	case len(required) == 0 && len(optional) == 0:
		return ""
	case len(required) == 0:
		return strings.Join(optional, " OR ")
	case len(optional) == 0:
		return strings.Join(required, " AND ")
	default:
		return strings.Join(required, " AND ") + " AND (" + strings.Join(append(required, optional...), " OR ") + ")"
	}
}

// Words returns every word the query searches for (terms and phrase words), for marking
// matches in snippets.
func (kq KeywordQuery) Words() []string {
	out := append([]string(nil), kq.Terms...)
	for _, p := range kq.Phrases {
		out = append(out, p...)
	}
	return out
}
