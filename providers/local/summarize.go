package local

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Summarize returns an extractive summary of text: at most maxSentences of its own
// sentences, in their original order, joined by single spaces with inner white space
// collapsed. Text with no more sentences than that is returned whole (collapsed).
//
// A sentence scores by centrality: the mean document frequency of its content words,
// so sentences made of the words the text keeps returning to win. Very short sentences
// are discounted (they are headings or fragments), earlier sentences get a mild bonus
// (writers tend to lead with the point), and a sentence that mostly repeats one already
// chosen is skipped. Markdown headings (which extractors keep as "## Title") label the
// text rather than say something, so they are left out while there is anything else.
func Summarize(text string, maxSentences int) string {
	if maxSentences <= 0 {
		return ""
	}
	spans := withoutHeadings(text, SplitSentences(text))
	if len(spans) <= maxSentences {
		parts := make([]string, len(spans))
		for i, sp := range spans {
			parts[i] = collapseSpace(sp.Text(text))
		}
		return strings.Join(parts, " ")
	}

	sents := make([]sentenceTerms, len(spans))
	tf := make(map[string]int)
	var tok tokenizer
	for i, sp := range spans {
		sents[i].terms = contentStems(&tok, sp.Text(text), nil)
		for _, t := range sents[i].terms {
			tf[t]++
		}
	}
	n := float64(len(spans))
	for i := range sents {
		s := &sents[i]
		s.index = i
		if len(s.terms) == 0 {
			s.score = math.Inf(-1)
			continue
		}
		sum := 0.0
		for _, t := range s.terms {
			sum += float64(tf[t])
		}
		score := sum / float64(len(s.terms))
		if len(s.terms) < 5 {
			score *= float64(len(s.terms)) / 5
		}
		score *= 1 + 0.2*(1-float64(i)/n)
		s.score = score
	}

	order := make([]int, len(sents))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sents[b].score, sents[a].score) })

	var picked []int
	for _, i := range order {
		if len(picked) == maxSentences || math.IsInf(sents[i].score, -1) {
			break
		}
		redundant := false
		for _, j := range picked {
			if overlapRatio(sents[i].terms, sents[j].terms) > 0.6 {
				redundant = true
				break
			}
		}
		if !redundant {
			picked = append(picked, i)
		}
	}
	if len(picked) == 0 {
		// Nothing but stop words: there is no centre to find, so keep the opening.
		for i := range min(maxSentences, len(spans)) {
			picked = append(picked, i)
		}
	}
	slices.Sort(picked)
	parts := make([]string, len(picked))
	for k, i := range picked {
		parts[k] = collapseSpace(spans[i].Text(text))
	}
	return strings.Join(parts, " ")
}

// withoutHeadings drops the spans that are Markdown headings, unless nothing else is left.
func withoutHeadings(text string, spans []Span) []Span {
	var out []Span
	for _, sp := range spans {
		if !isMarkdownHeading(sp.Text(text)) {
			out = append(out, sp)
		}
	}
	if len(out) == 0 {
		return spans
	}
	return out
}

// isMarkdownHeading reports an ATX heading: one to six '#' and a space.
func isMarkdownHeading(s string) bool {
	level := 0
	for level < len(s) && s[level] == '#' {
		level++
	}
	return level >= 1 && level <= 6 && level < len(s) && (s[level] == ' ' || s[level] == '\t')
}

type sentenceTerms struct {
	index int
	terms []string // content stems, in order, with repeats
	score float64
}

// contentStems appends the stems of the content words of s to dst.
func contentStems(tok *tokenizer, s string, dst []string) []string {
	tok.reset(s)
	for {
		w, _, _, ok := tok.next()
		if !ok {
			return dst
		}
		if isStopWord(w) {
			continue
		}
		dst = append(dst, string(w[:stemLen(w)]))
	}
}

// overlapRatio is the share of the distinct terms of the shorter list found in the
// other: 1 when one sentence's vocabulary is contained in the other's.
func overlapRatio(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	sa, sb := distinct(a), distinct(b)
	if len(sa) > len(sb) {
		sa, sb = sb, sa
	}
	shared := 0
	for t := range sa {
		if _, ok := sb[t]; ok {
			shared++
		}
	}
	return float64(shared) / float64(len(sa))
}

func distinct(terms []string) map[string]struct{} {
	m := make(map[string]struct{}, len(terms))
	for _, t := range terms {
		m[t] = struct{}{}
	}
	return m
}

// collapseSpace replaces every run of white space in s with one space and trims it.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Keywords returns up to k keyword tags for text, best first: lowercase content words
// and two-word phrases, plurals made singular ("models" → "model"), without duplicates.
//
// Candidates rank by frequency. A two-word phrase counts only when it recurs, and then
// ranks above a single word of the same frequency because it is more specific; a word
// that occurs only inside a chosen phrase is not repeated on its own. Ties go to the
// candidate that appears first. Numbers, stop words and words shorter than three
// letters are not tags.
func Keywords(text string, k int) []string {
	if k <= 0 {
		return nil
	}
	type cand struct {
		term  string
		freq  int
		first int
		parts [2]string // for phrases, the two words
	}
	cands := make(map[string]*cand)
	add := func(term string, pos int, parts [2]string) *cand {
		c, ok := cands[term]
		if !ok {
			c = &cand{term: term, first: pos, parts: parts}
			cands[term] = c
		}
		c.freq++
		return c
	}

	var tok tokenizer
	tok.reset(text)
	prev, prevEnd := "", -1
	for pos := 0; ; pos++ {
		w, start, end, ok := tok.next()
		if !ok {
			break
		}
		if isStopWord(w) || isDigits(w) || !isTagWord(w) {
			prev = ""
			continue
		}
		word := singular(string(w))
		if isTagNoise(word) {
			prev = ""
			continue
		}
		add(word, pos, [2]string{})
		// CJK bigrams overlap (start < prevEnd): two of them are not a phrase.
		if prev != "" && start >= prevEnd && phraseGap(text[prevEnd:start]) {
			add(prev+" "+word, pos, [2]string{prev, word})
		}
		prev, prevEnd = word, end
	}

	list := make([]*cand, 0, len(cands))
	for _, c := range cands {
		if c.parts[0] != "" && c.freq < 2 {
			continue
		}
		list = append(list, c)
	}
	score := func(c *cand) float64 {
		if c.parts[0] != "" {
			return 1.5 * float64(c.freq)
		}
		return float64(c.freq)
	}
	slices.SortFunc(list, func(a, b *cand) int {
		if c := cmp.Compare(score(b), score(a)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.first, b.first); c != 0 {
			return c
		}
		return strings.Compare(a.term, b.term)
	})

	var out []string
	inPhrase := make(map[string]int) // word → highest frequency of a chosen phrase containing it
	for _, c := range list {
		if len(out) == k {
			break
		}
		if c.parts[0] == "" {
			if f, ok := inPhrase[c.term]; ok && c.freq <= f {
				continue
			}
		} else {
			// Phrases outrank their words of equal frequency, so a word that occurs only
			// inside this phrase has not been chosen yet and is skipped when reached.
			for _, p := range c.parts {
				inPhrase[p] = max(inPhrase[p], c.freq)
			}
		}
		out = append(out, c.term)
	}
	return out
}

// isTagWord reports whether a token is long enough to be a tag. CJK bigrams count: two
// ideographs are a word.
func isTagWord(w []byte) bool {
	return utf8.RuneCount(w) >= 3 || (len(w) >= 6 && !isASCIILetters(w))
}

// phraseGap reports whether the text between two words lets them form a phrase: white
// space or a hyphen, but not punctuation that separates clauses.
func phraseGap(gap string) bool {
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case ' ', '\t', '-':
		default:
			return false
		}
	}
	return true
}

// isTagNoise reports whether a (singular) word is too generic to describe a text, even
// though it is not a stop word.
func isTagNoise(w string) bool {
	switch w {
	case "need", "use", "used", "using", "make", "made", "want", "work", "keep", "thing",
		"way", "new", "good", "well", "really", "lot", "still", "already", "actually", "today",
		"yesterday", "tomorrow", "time", "something", "anything", "everything", "nothing",
		"said", "say", "see", "seen", "look", "take", "took", "come", "came", "went", "going",
		"know", "think", "thought", "many", "several", "another", "sure", "yes", "okay":
		return true
	}
	return false
}
