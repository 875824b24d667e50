package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// minWrapWidth and maxWrapWidth bound the line widths taken for hard wrapping. Below
	// 50 the short lines are more likely verse or a list; above 100 the text is not
	// hard-wrapped, its line breaks are the author's.
	minWrapWidth = 50
	maxWrapWidth = 100
)

// plainDocument tidies plain text: trailing spaces go, blank runs become one blank line,
// and hard-wrapped paragraphs (an email wrapped at 72 columns) are unwrapped. No Markdown
// is interpreted.
func plainDocument(src string) document {
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	width := wrapWidth(lines)
	var b strings.Builder
	b.Grow(len(src))
	prev, gap := "", false
	for _, line := range lines {
		if line == "" {
			gap = prev != ""
			continue
		}
		switch {
		case b.Len() == 0:
		case gap:
			b.WriteString("\n\n")
		case width > 0 && softBreak(prev, line, width):
			b.WriteByte(' ')
			line = strings.TrimLeftFunc(line, unicode.IsSpace)
		default:
			b.WriteByte('\n')
		}
		b.WriteString(line)
		prev, gap = line, false
	}
	text := b.String()
	first, _, _ := strings.Cut(text, "\n")
	return document{text: text, firstLine: first, prose: text}
}

// wrapWidth estimates the column a hard-wrapped text was wrapped at: a high percentile of
// the lengths of lines that a paragraph continues after. It is 0 when the text does not
// look hard-wrapped.
func wrapWidth(lines []string) int {
	// A histogram, since only widths up to maxWrapWidth matter: the rest count as long.
	var hist [maxWrapWidth + 2]int
	total := 0
	for i := 0; i+1 < len(lines); i++ {
		if lines[i] == "" || lines[i+1] == "" {
			continue
		}
		w := maxWrapWidth + 1
		if len(lines[i]) <= 4*maxWrapWidth {
			w = min(utf8.RuneCountInString(lines[i]), maxWrapWidth+1)
		}
		hist[w]++
		total++
	}
	if total < 2 {
		return 0
	}
	rank := (total*9 + 9) / 10 // the 90th percentile, rounded up
	for w, n := range hist {
		if rank -= n; rank <= 0 {
			if w < minWrapWidth || w > maxWrapWidth {
				return 0
			}
			return w
		}
	}
	return 0
}

// softBreak reports whether the break between prev and next is a wrap rather than the
// author's: the first word of next would not have fitted on prev. A list item, a quoted
// reply or a change of indentation always starts its own line.
func softBreak(prev, next string, width int) bool {
	if indentOf(prev) != indentOf(next) {
		return false
	}
	t := strings.TrimLeftFunc(next, unicode.IsSpace)
	if startsItem(t) || strings.HasPrefix(t, ">") || strings.HasPrefix(strings.TrimSpace(prev), ">") {
		return false
	}
	word, _, _ := strings.Cut(t, " ")
	return utf8.RuneCountInString(prev)+1+utf8.RuneCountInString(word) > width
}

// startsItem reports whether a line opens a list item: "- ", "* ", "• ", "1. ", "a) ".
func startsItem(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	switch r {
	case '-', '*', '+', '•', '–', '·':
		return len(s) == size || s[size] == ' '
	}
	n := 0
	for n < len(s) && n < 4 && (s[n] >= '0' && s[n] <= '9' || n == 0 && s[n] >= 'a' && s[n] <= 'z') {
		n++
	}
	return n > 0 && n+1 < len(s) && (s[n] == '.' || s[n] == ')') && s[n+1] == ' ' && (n > 1 || s[0] < 'a' || s[n] == ')')
}
