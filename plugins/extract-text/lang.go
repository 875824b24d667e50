package main

import (
	"strings"
	"unicode"
)

const (
	// langSampleWords is how much of a document the guess reads.
	langSampleWords = 5000
	// A guess needs this many stop-word hits, this share of all words, and twice the hits
	// of the runner-up; below that the answer is "" rather than a coin toss.
	langMinHits  = 5
	langMinShare = 0.12
)

// stopWords maps frequent function words to their language. Words common to several of
// these languages ("de", "la", "a", "en", "que") are left out, so each hit is evidence
// for one language only.
var stopWords = map[string]string{}

func init() {
	for lang, words := range map[string]string{
		"en": "the and of to is that it for with this are be not have you which from by at as or but they we has will can would their there been if what when your were more about into its our who had do does",
		"de": "der die und das ist nicht ein eine zu den von mit sich auf für dem des auch wird werden sind nach bei oder aber wenn noch wie über nur ich wir sie im zum zur",
		"fr": "le les et est une pour pas qui dans sur au avec ce sont mais nous vous ont aux été cette être leur ces ou où comme à ses sa sera très aussi",
		"es": "el los las y lo pero más está también fue muy sin sobre este cuando hay sus su al ha",
	} {
		for _, w := range strings.Fields(words) {
			stopWords[w] = lang
		}
	}
}

// guessLanguage names the language whose stop words dominate the text, or "" when none
// clearly does. It is a cheap heuristic for English, German, French and Spanish, not a
// language detector: those would cost megabytes of Wasm.
func guessLanguage(text string) string {
	hits := map[string]int{}
	words := 0
	for text != "" && words < langSampleWords {
		i := strings.IndexFunc(text, unicode.IsLetter)
		if i < 0 {
			break
		}
		text = text[i:]
		end := strings.IndexFunc(text, func(r rune) bool { return !unicode.IsLetter(r) })
		if end < 0 {
			end = len(text)
		}
		words++
		if lang, ok := stopWords[strings.ToLower(text[:end])]; ok {
			hits[lang]++
		}
		text = text[end:]
	}
	best, bestN, second := "", 0, 0
	for lang, n := range hits {
		switch {
		case n > bestN:
			best, bestN, second = lang, n, bestN
		case n > second:
			second = n
		}
	}
	if bestN < langMinHits || float64(bestN) < langMinShare*float64(words) || bestN < 2*second {
		return ""
	}
	return best
}
