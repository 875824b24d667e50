package local

import (
	"unicode"
	"unicode/utf8"
)

// maxTokenBytes caps a token's length. Longer runs of letters are base64, hashes or
// minified code; their tail carries no meaning and would only cost time.
const maxTokenBytes = 64

// tokenizer splits text into lowercased word tokens. It is a pull iterator rather than a
// function returning []string so that embedding a chunk allocates nothing per token: the
// returned slice aliases an internal buffer that is reused by the next call.
//
// Words are maximal runs of letters, digits and combining marks; an apostrophe between
// letters is dropped ("don't" → "dont") so contractions stay one word. Han, Hiragana and
// Katakana are written without spaces, so runs of them are emitted as overlapping
// character bigrams, the usual indexing unit for CJK text; a lone character is emitted
// alone.
type tokenizer struct {
	text  string
	pos   int
	buf   []byte
	inCJK bool // the previous token was a CJK bigram whose second rune starts at pos
}

func (t *tokenizer) reset(text string) {
	t.text = text
	t.pos = 0
	t.buf = t.buf[:0]
	t.inCJK = false
}

// next returns the next token and the byte offsets of the text it came from. The token
// is valid until the following call.
func (t *tokenizer) next() (tok []byte, start, end int, ok bool) {
	t.buf = t.buf[:0]
	start = -1
	for t.pos < len(t.text) {
		c := t.text[t.pos]
		if c < utf8.RuneSelf {
			if isASCIIWord(c) {
				if start < 0 {
					start = t.pos
				}
				if len(t.buf) < maxTokenBytes {
					if 'A' <= c && c <= 'Z' {
						c += 'a' - 'A'
					}
					t.buf = append(t.buf, c)
				}
				t.pos++
				end = t.pos
				continue
			}
			if c == '\'' && len(t.buf) > 0 && t.letterAt(t.pos+1) {
				t.pos++
				continue
			}
			t.pos++
			if len(t.buf) > 0 {
				return t.buf, start, end, true
			}
			continue
		}

		r, size := utf8.DecodeRuneInString(t.text[t.pos:])
		switch {
		case isCJK(r):
			if len(t.buf) > 0 {
				// Leave the CJK rune for the next call; the pending word ends here.
				return t.buf, start, end, true
			}
			start = t.pos
			t.pos += size
			prevInRun := t.inCJK
			nr, nsize := utf8.DecodeRuneInString(t.text[t.pos:])
			if t.pos < len(t.text) && isCJK(nr) {
				t.inCJK = true
				t.buf = utf8.AppendRune(t.buf, r)
				t.buf = utf8.AppendRune(t.buf, nr)
				return t.buf, start, t.pos + nsize, true
			}
			t.inCJK = false
			if !prevInRun {
				t.buf = utf8.AppendRune(t.buf, r)
				return t.buf, start, t.pos, true
			}
			// The last rune of a run was already the tail of the previous bigram.
			start = -1
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			if start < 0 {
				start = t.pos
			}
			if len(t.buf)+utf8.UTFMax <= maxTokenBytes {
				t.buf = utf8.AppendRune(t.buf, unicode.ToLower(r))
			}
			t.pos += size
			end = t.pos
			continue
		case r == '’' && len(t.buf) > 0 && t.letterAt(t.pos+size):
			t.pos += size
			continue
		default:
			t.pos += size
			if len(t.buf) > 0 {
				return t.buf, start, end, true
			}
		}
	}
	if len(t.buf) > 0 {
		return t.buf, start, end, true
	}
	return nil, 0, 0, false
}

// letterAt reports whether a letter (not a CJK ideograph) starts at byte i.
func (t *tokenizer) letterAt(i int) bool {
	if i >= len(t.text) {
		return false
	}
	if c := t.text[i]; c < utf8.RuneSelf {
		return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
	}
	r, _ := utf8.DecodeRuneInString(t.text[i:])
	return unicode.IsLetter(r) && !isCJK(r)
}

func isASCIIWord(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func isCJK(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

// isDigits reports whether w is all ASCII digits; numbers are kept as words but their
// character n-grams would make "2023" look like "2024".
func isDigits(w []byte) bool {
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(w) > 0
}

func isASCIILetters[T string | []byte](w T) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// stemLen returns the length of the prefix of w that serves as its stem. The stemmer is
// deliberately crude — a few English suffix rules that only ever drop bytes — because
// it feeds hashed features, where consistency matters and readability does not:
// "runs", "running" and "runner" all become "run". Words that are not plain ASCII
// lowercase letters are left alone.
func stemLen(w []byte) int {
	n := len(w)
	if n < 4 || !isASCIILetters(w) {
		return n
	}
	switch {
	case hasSuffix(w[:n], "sses"):
		n -= 2
	case (hasSuffix(w[:n], "ies") || hasSuffix(w[:n], "ied")) && n > 4:
		// "copies", "copied" and (below) "copy" all become "cop".
		n -= 3
		return n
	case w[n-1] == 's' && !hasSuffix(w[:n], "ss") && !hasSuffix(w[:n], "us") && !hasSuffix(w[:n], "is"):
		n--
	}
	switch {
	case hasSuffix(w[:n], "ing") && n-3 >= 3:
		n = undouble(w, n-3)
	case hasSuffix(w[:n], "ed") && n-2 >= 3:
		n = undouble(w, n-2)
	case hasSuffix(w[:n], "er") && n-2 >= 3:
		n = undouble(w, n-2)
	case hasSuffix(w[:n], "ly") && n-2 >= 3:
		n -= 2
	}
	if n > 3 && w[n-1] == 'y' {
		n--
	}
	return n
}

// undouble trims a doubled final consonant left by suffix stripping ("runn" → "run")
// so the stem matches the base form.
func undouble(w []byte, n int) int {
	if n >= 3 && w[n-1] == w[n-2] {
		switch w[n-1] {
		case 'a', 'e', 'i', 'o', 'u', 'l', 's', 'z':
		default:
			return n - 1
		}
	}
	return n
}

func hasSuffix(w []byte, suffix string) bool {
	return len(w) >= len(suffix) && string(w[len(w)-len(suffix):]) == suffix
}

// singular turns an English plural into its singular for display ("models" → "model",
// "stories" → "story", "boxes" → "box"). Unlike stemLen its output must read as a word.
func singular(w string) string {
	n := len(w)
	if n < 4 || !isASCIILetters(w) {
		return w
	}
	switch {
	case hasSuffixStr(w, "ies") && n > 4:
		return w[:n-3] + "y"
	case hasSuffixStr(w, "sses"), hasSuffixStr(w, "xes"), hasSuffixStr(w, "ches"), hasSuffixStr(w, "shes"), hasSuffixStr(w, "zzes"):
		return w[:n-2]
	case hasSuffixStr(w, "ss"), hasSuffixStr(w, "us"), hasSuffixStr(w, "is"), hasSuffixStr(w, "ous"):
		return w
	case w[n-1] == 's':
		return w[:n-1]
	}
	return w
}

func hasSuffixStr(w, suffix string) bool {
	return len(w) >= len(suffix) && w[len(w)-len(suffix):] == suffix
}

// isStopWord reports whether w is a common English function word. A switch on
// string(w) compiles to comparisons without converting w to a string on the heap.
func isStopWord(w []byte) bool {
	switch string(w) {
	case "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and",
		"any", "are", "as", "at", "be", "because", "been", "before", "being", "below",
		"between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "dont",
		"down", "during", "each", "else", "etc", "even", "ever", "every", "few", "for", "from",
		"further", "get", "got", "had", "has", "have", "having", "he", "her", "here", "hers",
		"herself", "him", "himself", "his", "how", "however", "i", "if", "in", "into", "is",
		"isnt", "it", "its", "itself", "just", "let", "lets", "like", "may", "me", "might",
		"more", "most", "much", "must", "my", "myself", "no", "nor", "not", "now", "of", "off",
		"often", "on", "once", "one", "only", "or", "other", "our", "ours", "ourselves", "out",
		"over", "own", "please", "same", "shall", "she", "should", "so", "some", "such",
		"than", "that", "thats", "the", "their", "theirs", "them", "themselves", "then",
		"there", "these", "they", "this", "those", "through", "to", "too", "under", "until",
		"up", "upon", "us", "very", "via", "was", "we", "were", "what", "whats", "when",
		"where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with",
		"within", "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves",
		"s", "t", "d", "ll", "re", "ve", "m":
		return true
	}
	return false
}
