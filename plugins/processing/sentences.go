package main

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/textutil"
)

// The splitters below cut a range of the text into smaller pieces for the chunker, each
// calling emit with trimmed, non-empty [start, end) ranges that together cover every
// non-space byte of the range, in order. They stream (an oversized paragraph can be
// megabytes) and cut only between tokens.

// splitLines cuts a paragraph block at its hard line breaks: before a list item, a table
// row or a quote, after a line that ends a sentence, after a short title-like line. Other
// newlines are soft wraps inside a sentence and are left alone, so hard-wrapped prose is
// still split by sentences. Code blocks use every newline (code: true).
func splitLines(s string, start, end int, code bool, emit func(a, b int)) {
	segStart := -1
	lineStart := start
	for lineStart < end {
		nl := strings.IndexByte(s[lineStart:end], '\n')
		lineEnd := end
		if nl >= 0 {
			lineEnd = lineStart + nl
		}
		ls, le := textutil.TrimSpan(s, lineStart, lineEnd)
		next := lineEnd + 1
		if ls < le {
			if segStart < 0 {
				segStart = ls
			}
			if next >= end || code || hardBreak(s, segStart, ls, le, lineEnd, next, end) {
				emit(segStart, le)
				segStart = -1
			}
		}
		lineStart = next
	}
	if segStart >= 0 {
		_, e := textutil.TrimSpan(s, segStart, end)
		emit(segStart, e)
	}
}

// hardBreak reports whether the newline at rawEnd, after the line trimmed to [ls, le),
// ends a piece; the next line starts at next. segStart is where the current piece began.
func hardBreak(s string, segStart, ls, le, rawEnd, next, end int) bool {
	ns, ne := next, end
	for ns < ne && (s[ns] == ' ' || s[ns] == '\t' || s[ns] == '\r') {
		ns++
	}
	nextLine := s[ns:ne]
	if i := strings.IndexByte(nextLine, '\n'); i >= 0 {
		nextLine = nextLine[:i]
	}
	line := s[ls:le]
	if nextLine == "" || startsItem(nextLine) || startsItem(line) && next < end && s[next] != ' ' && s[next] != '\t' {
		return true
	}
	if strings.HasSuffix(strings.TrimRight(s[ls:rawEnd], "\r"), "  ") || strings.HasSuffix(line, "\\") {
		// A Markdown hard line break.
		return true
	}
	core := strings.TrimRight(line, closers)
	if last, _ := utf8.DecodeLastRuneInString(core); core != "" && strings.ContainsRune(".!?…:;。！？｡", last) {
		return true
	}
	// A short line with no closing punctuation before a capitalised one is a title.
	if ls == segStart && len(line) <= 50 {
		last, _ := utf8.DecodeLastRuneInString(line)
		first, _ := utf8.DecodeRuneInString(strings.TrimLeft(nextLine, openers))
		return !(unicode.IsPunct(last) && last != ')') && unicode.IsUpper(first)
	}
	return false
}

// startsItem reports whether a line (without its indentation) opens a list item, a
// quote or a table row.
func startsItem(line string) bool {
	if line == "" {
		return false
	}
	switch line[0] {
	case '>', '|':
		return true
	case '-', '*', '+':
		return len(line) > 1 && (line[1] == ' ' || line[1] == '\t')
	}
	if strings.HasPrefix(line, "• ") {
		return true
	}
	n := 0
	for n < len(line) && n < 4 && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	return n > 0 && n+1 < len(line) && (line[n] == '.' || line[n] == ')') && (line[n+1] == ' ' || line[n+1] == '\t')
}

// splitSentences cuts a range into sentences.
func splitSentences(s string, start, end int, emit func(a, b int)) {
	splitAfter(s, start, end, emit, func(prev, next atom) bool {
		return endsSentence(s, prev, next)
	})
}

// splitClauses cuts an oversized sentence after commas, semicolons, colons and dashes.
func splitClauses(s string, start, end int, emit func(a, b int)) {
	splitAfter(s, start, end, emit, func(prev, _ atom) bool {
		return endsClause(s[prev.start:prev.end])
	})
}

// endsClause reports whether a token ends with a comma, semicolon, colon or dash.
func endsClause(word string) bool {
	core := strings.TrimRight(word, closers)
	last, _ := utf8.DecodeLastRuneInString(core)
	return core != "" && strings.ContainsRune(",;:—–-，；：、", last)
}

// splitAfter cuts [start, end) between two tokens wherever cut says so. A glued token
// (the middle of a long run) is never cut from its predecessor here.
func splitAfter(s string, start, end int, emit func(a, b int), cut func(prev, next atom) bool) {
	sc := newAtomScanner(s, start, end)
	prev, ok := sc.next()
	if !ok {
		return
	}
	segStart := prev.start
	for {
		a, ok := sc.next()
		if !ok {
			emit(segStart, prev.end)
			return
		}
		if !a.glued && cut(prev, a) {
			emit(segStart, prev.end)
			segStart = a.start
		}
		prev = a
	}
}

// splitGroups is the last resort for a run of text with no better place to cut: pieces
// of at most n tokens, cut between words, and inside a long run only when the run alone
// is longer than n tokens.
func splitGroups(s string, start, end, n int, emit func(a, b int)) {
	n = max(n, 1)
	sc := newAtomScanner(s, start, end)
	var (
		group    []atom // the current piece's atoms, at most n
		lastFree = -1   // index in group of the last atom that may start a piece
	)
	for {
		a, ok := sc.next()
		if !ok {
			break
		}
		if len(group) == n {
			cut := len(group)
			if a.glued && lastFree > 0 {
				cut = lastFree
			}
			emit(group[0].start, group[cut-1].end)
			group = append(group[:0], group[cut:]...)
			lastFree = -1
			for i := 1; i < len(group); i++ {
				if !group[i].glued {
					lastFree = i
				}
			}
		}
		if len(group) > 0 && !a.glued {
			lastFree = len(group)
		}
		group = append(group, a)
	}
	if len(group) > 0 {
		emit(group[0].start, group[len(group)-1].end)
	}
}

const (
	closers = `"')]}”’»›」』）】〕`
	openers = `"'([{“‘«‹「『（【〔¿¡*_`
)

// endsSentence decides whether a sentence ends between the tokens prev and next. Only a
// terminator at the end of prev (before closing quotes and brackets) can end one, so
// "3.14", "example.com" and "v1.2" never do; CJK terminators always do; otherwise the next
// word must not start in lower case, and a '.' must not close an abbreviation or initial.
func endsSentence(s string, prev, next atom) bool {
	word := s[prev.start:prev.end]
	core := strings.TrimRight(word, closers)
	if core == "" {
		return false
	}
	quoted := len(core) < len(word)
	last, size := utf8.DecodeLastRuneInString(core)
	nextWord := strings.TrimLeft(s[next.start:next.end], openers)
	first, _ := utf8.DecodeRuneInString(nextWord)
	lowerNext := unicode.IsLower(first)
	switch last {
	case '。', '！', '？', '｡':
		return true
	case '!', '?', '‽', '…':
		return !lowerNext
	case '.':
	default:
		return false
	}
	if lowerNext {
		return false
	}
	stem := strings.TrimLeft(core[:len(core)-size], openers)
	if strings.HasSuffix(stem, ".") || quoted || stem == "" {
		// An ellipsis, a quoted sentence or a lone '.'.
		return true
	}
	if textutil.IsDigits(stem) {
		// "1. Buy milk" at the start of a line is a list marker, not a sentence.
		return !startsLine(s, prev.start)
	}
	if r, n := utf8.DecodeRuneInString(stem); n == len(stem) && unicode.IsUpper(r) && stem != "I" {
		return false // an initial, as in "J. R. R. Tolkien"
	}
	switch textutil.AbbreviationKind(strings.ToLower(stem)) {
	case textutil.AbbrevNeverEnds:
		return false
	case textutil.AbbrevMayEnd:
		return unicode.IsUpper(first)
	}
	if strings.Contains(stem, ".") {
		// "U.S.", "a.m.", "Ph.D." end a sentence only before a capital.
		return unicode.IsUpper(first)
	}
	return true
}

// startsLine reports whether only indentation precedes offset i on its line.
func startsLine(s string, i int) bool {
	for i > 0 {
		i--
		switch s[i] {
		case '\n':
			return true
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return true
}
