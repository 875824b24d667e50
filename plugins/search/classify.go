package main

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/textutil"
)

// Query types.
const (
	typeSimple   = "simple"
	typeSemantic = "semantic"
	typeQuestion = "question"
)

var questionWords = wordSet(`what who when where why how which is are can does do did should could would
	will was were`)

// nameConnectors may sit lower-case between the capitalised words of a name or a title
// ("Bank of America", "Ludwig van Beethoven").
var nameConnectors = wordSet(`of de da di du del della van von der den la le y and the al bin`)

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// maxKeywords is how many words "a few keywords" may be; maxNameWords how many a
// capitalised name or title may have.
const (
	maxKeywords  = 3
	maxNameWords = 5
)

// classify labels a trimmed, non-empty query. The order matters: a quoted phrase is an
// exact lookup even when it reads as a question; a question is one even when it names an
// identifier ("what does ERR_CONN_RESET mean").
func classify(q string) string {
	if isQuotedPhrase(q) {
		return typeSimple
	}
	if strings.HasSuffix(q, "?") || questionWords[firstWord(q)] {
		return typeQuestion
	}
	tokens := queryTokens(q)
	if isKeywords(tokens) || isName(tokens) {
		return typeSimple
	}
	return typeSemantic
}

// isQuotedPhrase reports a query that is exactly one "…" phrase, which keyword search
// requires verbatim.
func isQuotedPhrase(q string) bool {
	return len(q) >= 3 && q[0] == '"' && q[len(q)-1] == '"' && !strings.Contains(q[1:len(q)-1], `"`) &&
		strings.TrimSpace(q[1:len(q)-1]) != ""
}

// queryTokens splits on white space and drops tokens with no letter or digit (stray
// punctuation, emoji), which neither search can use.
func queryTokens(q string) []string {
	var out []string
	for _, f := range strings.Fields(q) {
		if strings.IndexFunc(f, isWordRune) >= 0 {
			out = append(out, f)
		}
	}
	return out
}

// firstWord is the query's first word, lower-cased, without punctuation around it.
func firstWord(q string) string {
	for _, f := range strings.Fields(q) {
		if w := strings.ToLower(strings.TrimFunc(f, notWordRune)); w != "" {
			return w
		}
	}
	return ""
}

// isKeywords: at most a few tokens, each an identifier or a word that is not a stop word.
// An identifier counts as one token however many words it holds ("ERR_CONN_RESET",
// "com.example.app"), and never as a stop word ("is_valid").
func isKeywords(tokens []string) bool {
	if len(tokens) > maxKeywords {
		return allIdentifiers(tokens)
	}
	for _, t := range tokens {
		if isIdentifier(t) {
			continue
		}
		if textutil.IsQueryStopWord(strings.ToLower(strings.TrimFunc(t, notWordRune))) {
			return false
		}
	}
	return true
}

func allIdentifiers(tokens []string) bool {
	for _, t := range tokens {
		if !isIdentifier(t) {
			return false
		}
	}
	return true
}

// isIdentifier reports a token that looks like code, a version, a standard or a domain:
// it has a digit, an underscore, a dot, slash or colon inside, or a lower-to-upper case
// change (camelCase).
func isIdentifier(tok string) bool {
	tok = strings.TrimFunc(tok, notWordRune)
	prev := rune(-1)
	for i, r := range tok {
		switch {
		case unicode.IsDigit(r), r == '_':
			return true
		case (r == '.' || r == '/' || r == ':') && i > 0 && i < len(tok)-1:
			return true
		case prev >= 0 && unicode.IsLower(prev) && unicode.IsUpper(r):
			return true
		}
		prev = r
	}
	return false
}

// isName reports a capitalised name or title of a few words ("Ada Lovelace", "The Lord
// of the Rings"): it starts and ends with a Title-case word and has only Title-case words
// and connectors between. All-capitals words do not count, so shouting operators ("AND
// OR NOT") is not a name.
func isName(tokens []string) bool {
	if len(tokens) < 2 || len(tokens) > maxNameWords {
		return false
	}
	for i, t := range tokens {
		t = strings.TrimFunc(t, notWordRune)
		if isTitleCase(t) {
			continue
		}
		if i == 0 || i == len(tokens)-1 || !nameConnectors[t] {
			return false
		}
	}
	return true
}

// isTitleCase: an upper-case first letter followed by at least one lower-case letter, or
// an initial ("J. R. R. Tolkien").
func isTitleCase(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r) && (n == len(w) || strings.IndexFunc(w[n:], unicode.IsLower) >= 0)
}

// isWordRune is what FTS5's unicode61 tokenizer keeps in a word: letters, digits and
// combining marks.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func notWordRune(r rune) bool { return !isWordRune(r) }

// splitWords cuts text into lower-case words the way the keyword index does.
func splitWords(s string) []string { return strings.FieldsFunc(strings.ToLower(s), notWordRune) }

// queryWords are the words to mark when the keyword search did not report its own: the
// query's words without stop words.
func queryWords(q string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range splitWords(q) {
		if !textutil.IsQueryStopWord(w) && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
