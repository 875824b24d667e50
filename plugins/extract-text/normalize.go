package main

import (
	"strings"
	"unicode/utf8"
)

// normalize makes content safe to scan line by line: valid UTF-8 (bad bytes become
// U+FFFD), no byte order mark, \n line endings, and no control characters but tab and
// newline. A form feed (a page break in old text files) becomes a line break.
func normalize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	// Byte-wise is safe: bytes below 0x80 never occur inside a multi-byte UTF-8 sequence.
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r':
			b.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c == '\f' || c == '\v':
			b.WriteByte('\n')
		case c == 0:
			b.WriteString("\uFFFD")
		case isControl(c):
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsCleaning(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || isControl(c) {
			return true
		}
	}
	return false
}

func isControl(c byte) bool { return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f }

// isBlank reports whether a line holds nothing but spaces and tabs.
func isBlank(line string) bool {
	for i := 0; i < len(line); i++ {
		if line[i] != ' ' && line[i] != '\t' {
			return false
		}
	}
	return true
}

// indentOf is a line's leading whitespace in columns, tabs stopping every four.
func indentOf(line string) int {
	col := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			col++
		case '\t':
			col += 4 - col%4
		default:
			return col
		}
	}
	return col
}

// trimRight drops trailing spaces and tabs.
func trimRight(s string) string { return strings.TrimRight(s, " \t") }
