package main

import (
	"bytes"
	"strconv"
	"strings"
)

// The Markdown path is a line-based block parser after CommonMark and GFM, simplified to
// what clean text needs: it finds paragraphs (which it unwraps), headings, code, lists,
// block quotes, tables and rules, and leaves everything but paragraphs line for line.

type blockKind int

const (
	blockParagraph blockKind = iota
	blockHeading
	blockCode
	blockList
	blockQuote
	blockTable
	blockRule
)

// block is valid only during the emit call that receives it: the parser reuses its
// buffers for the next one.
type block struct {
	kind  blockKind
	level int    // heading level
	text  string // paragraph or heading source
	code  []byte // code, verbatim
	lines []srcLine
}

// srcLine is a line of a list, quote or table; code lines (a fence inside a list item)
// are kept verbatim.
type srcLine struct {
	text string
	code bool
}

type mdParser struct {
	lines []string
	i     int
	para  []string
	// emit receives each block as soon as it is complete; rendering it right away keeps
	// a 5 MB document from being held in memory twice.
	emit func(block)

	// Scratch buffers, reused from block to block.
	buf []byte
	out []srcLine
}

// markdownDocument renders Markdown source (front matter already removed) as clean text.
func markdownDocument(src string) document {
	lines := strings.Split(src, "\n")
	stripComments(lines)
	r := newRenderer(collectRefs(lines), len(src))
	p := &mdParser{lines: lines, emit: r.block}
	for p.i < len(p.lines) {
		p.step()
	}
	p.flushPara()
	return r.document()
}

// collectRefs finds the link reference definitions first, since a link may use one that
// is defined at the end of the document. Like the parser, it skips code and takes a
// definition only where no paragraph is open.
func collectRefs(lines []string) map[string]bool {
	refs := map[string]bool{}
	var fenceCh byte
	fenceN := 0
	open := false // a paragraph is open
	for _, line := range lines {
		switch {
		case fenceN > 0:
			if isFenceClose(line, fenceCh, fenceN) {
				fenceN = 0
			}
		case isBlank(line):
			open = false
		case isFenceOpen(line):
			fenceCh, fenceN, _, _ = fenceOpen(line)
			open = false
		default:
			if label, ok := refDefinition(line); ok && !open {
				refs[label] = true
				continue
			}
			open = true
		}
	}
	return refs
}

func (p *mdParser) step() {
	line := p.lines[p.i]
	if isBlank(line) {
		p.flushPara()
		p.i++
		return
	}
	ind := indentOf(line)
	if len(p.para) > 0 {
		if ind < 4 {
			if lvl := setextLevel(line); lvl > 0 {
				p.emit(block{kind: blockHeading, level: lvl, text: joinLines(p.para)})
				p.para = p.para[:0]
				p.i++
				return
			}
			if cells, ok := tableDelimiter(line); ok && tableCells(p.para[len(p.para)-1]) == cells {
				header := p.para[len(p.para)-1]
				p.para = p.para[:len(p.para)-1]
				p.flushPara()
				p.table(header)
				return
			}
		}
		if ind >= 4 || !interruptsParagraph(line) {
			p.para = append(p.para, line)
			p.i++
			return
		}
		p.flushPara()
	}
	switch {
	case ind >= 4:
		p.indentedCode()
	case isFenceOpen(line):
		p.fenced()
	case isATXHeading(line):
		lvl, text, _ := atxHeading(line)
		p.emit(block{kind: blockHeading, level: lvl, text: text})
		p.i++
	case isThematicBreak(line):
		p.emit(block{kind: blockRule})
		p.i++
	case isQuote(line):
		p.quote()
	case isListItem(line):
		p.list()
	case p.i+1 < len(p.lines) && isTableStart(line, p.lines[p.i+1]):
		p.i++
		p.table(line)
	default:
		if _, ok := refDefinition(line); !ok {
			p.para = append(p.para, line)
		}
		p.i++
	}
}

// interruptsParagraph reports whether line starts a block even without a blank line
// before it. As in CommonMark, an ordered list must start at 1 to interrupt, so a
// wrapped line that begins "2019. " stays prose.
func interruptsParagraph(line string) bool {
	if isFenceOpen(line) || isATXHeading(line) || isThematicBreak(line) || isQuote(line) {
		return true
	}
	ordered, start, content, ok := listItem(line)
	return ok && content != "" && (!ordered || start == 1)
}

// flushPara closes the open paragraph, unwrapping its lines. A hard line break (two
// trailing spaces or a backslash) is kept: an address or a poem means its line ends.
func (p *mdParser) flushPara() {
	if len(p.para) == 0 {
		return
	}
	last := len(p.para) - 1
	if last == 0 {
		// The common case needs no copy.
		p.emit(block{kind: blockParagraph, text: strings.Trim(p.para[0], " \t")})
		p.para = p.para[:0]
		return
	}
	p.buf = p.buf[:0]
	for k, line := range p.para {
		t := strings.Trim(line, " \t")
		if k == last {
			p.buf = append(p.buf, t...)
			break
		}
		hard := strings.HasSuffix(line, "  ")
		if n := len(t) - len(strings.TrimRight(t, `\`)); n%2 == 1 {
			hard = true
			t = t[:len(t)-1]
		}
		p.buf = append(p.buf, t...)
		if hard {
			p.buf = append(p.buf, '\n')
		} else {
			p.buf = append(p.buf, ' ')
		}
	}
	p.emit(block{kind: blockParagraph, text: string(p.buf)})
	p.para = p.para[:0]
}

func joinLines(lines []string) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = strings.TrimSpace(l)
	}
	return strings.Join(parts, " ")
}

func (p *mdParser) indentedCode() {
	start := p.i
	for p.i < len(p.lines) && (isBlank(p.lines[p.i]) || indentOf(p.lines[p.i]) >= 4) {
		p.i++
	}
	end := p.i
	for end > start && isBlank(p.lines[end-1]) {
		end--
	}
	p.buf = p.buf[:0]
	for k, line := range p.lines[start:end] {
		if k > 0 {
			p.buf = append(p.buf, '\n')
		}
		p.buf = append(p.buf, line...)
	}
	p.emit(block{kind: blockCode, code: p.buf})
}

// fenced copies a fenced code block verbatim. The fence's own indentation is taken off
// its content, as CommonMark does; an unclosed fence runs to the end and is closed, so
// the text never ends inside a fence.
func (p *mdParser) fenced() {
	ch, n, ind, _ := fenceOpen(p.lines[p.i])
	p.buf = append(p.buf[:0], strings.TrimSpace(p.lines[p.i])...)
	p.i++
	closed := false
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		p.i++
		if isFenceClose(line, ch, n) {
			p.buf = append(append(p.buf, '\n'), strings.TrimSpace(line)...)
			closed = true
			break
		}
		p.buf = append(append(p.buf, '\n'), dedent(line, ind)...)
	}
	if !closed {
		for {
			k := bytes.LastIndexByte(p.buf, '\n')
			if k < 0 || len(bytes.Trim(p.buf[k+1:], " \t")) > 0 {
				break
			}
			p.buf = p.buf[:k]
		}
		p.buf = append(p.buf, '\n')
		for k := 0; k < n; k++ {
			p.buf = append(p.buf, ch)
		}
	}
	p.emit(block{kind: blockCode, code: p.buf})
}

// dedent removes up to n leading spaces.
func dedent(line string, n int) string {
	i := 0
	for i < n && i < len(line) && line[i] == ' ' {
		i++
	}
	return line[i:]
}

// list collects a list, nested lists and continuation lines included, up to a blank line
// that is not followed by more of it. Lines stay as they are (their indentation is the
// nesting); fences inside items are kept verbatim.
func (p *mdParser) list() {
	out := p.out[:0]
	first := true
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		if isBlank(line) {
			j := p.i + 1
			for j < len(p.lines) && isBlank(p.lines[j]) {
				j++
			}
			if j == len(p.lines) || (indentOf(p.lines[j]) < 2 && !isListItem(p.lines[j])) {
				break
			}
			out = append(out, srcLine{})
			p.i = j
			continue
		}
		if !first && endsList(line) {
			break
		}
		first = false
		if ch, n, _, ok := fenceOpen(line); ok {
			out = append(out, srcLine{text: trimRight(line), code: true})
			p.i++
			for p.i < len(p.lines) {
				l := p.lines[p.i]
				p.i++
				out = append(out, srcLine{text: l, code: true})
				if isFenceClose(l, ch, n) {
					break
				}
			}
			continue
		}
		out = append(out, srcLine{text: line})
		p.i++
	}
	p.out = out
	p.emit(block{kind: blockList, lines: out})
}

// endsList reports whether a line right after a list item, with no blank line between,
// starts a block of its own rather than continuing the item.
func endsList(line string) bool {
	ind := indentOf(line)
	if ind >= 4 || isListItem(line) {
		return false
	}
	return isThematicBreak(line) || (ind < 2 && (isATXHeading(line) || isFenceOpen(line) || isQuote(line)))
}

// quote collects a block quote up to a blank line, lazy continuation lines included.
// Fences inside it (after the ">" markers) are kept verbatim.
func (p *mdParser) quote() {
	out := p.out[:0]
	var fenceCh byte
	fenceN := 0
	for start := p.i; p.i < len(p.lines); p.i++ {
		line := p.lines[p.i]
		if isBlank(line) {
			break
		}
		if p.i > start && !isQuote(line) && interruptsParagraph(line) {
			break
		}
		inner := strings.TrimLeft(line, " >\t")
		code := false
		if fenceN > 0 {
			code = true
			if isFenceClose(inner, fenceCh, fenceN) {
				fenceN = 0
			}
		} else if ch, n, _, ok := fenceOpen(inner); ok {
			code, fenceCh, fenceN = true, ch, n
		}
		out = append(out, srcLine{text: trimRight(line), code: code})
	}
	p.out = out
	p.emit(block{kind: blockQuote, lines: out})
}

// table collects a GFM table; p.i is at its delimiter row.
func (p *mdParser) table(header string) {
	out := append(p.out[:0], srcLine{text: strings.TrimSpace(header)}, srcLine{text: strings.TrimSpace(p.lines[p.i])})
	p.i++
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		if isBlank(line) || (indentOf(line) < 4 && (isFenceOpen(line) || isATXHeading(line) || isQuote(line) || isThematicBreak(line))) {
			break
		}
		out = append(out, srcLine{text: strings.TrimSpace(line)})
		p.i++
	}
	p.out = out
	p.emit(block{kind: blockTable, lines: out})
}

// stripComments removes HTML comments outside fenced code, in place. A line that held
// nothing but comment becomes blank, which ends a paragraph as the HTML block would. A
// "<!--" with no "-->" anywhere after it is left alone: treating it as a comment would
// drop the rest of the document.
func stripComments(lines []string) {
	// The last line outside code with a "-->": no comment opened after it can close.
	lastClose := -1
	var fenceCh byte
	fenceN := 0
	for k, line := range lines {
		switch {
		case fenceN > 0:
			if isFenceClose(line, fenceCh, fenceN) {
				fenceN = 0
			}
		default:
			if ch, n, _, ok := fenceOpen(line); ok {
				fenceCh, fenceN = ch, n
			} else if strings.Contains(line, "-->") {
				lastClose = k
			}
		}
	}
	if lastClose < 0 {
		return
	}
	inComment := false
	fenceN = 0
	for k, line := range lines {
		if !inComment {
			if fenceN > 0 {
				if isFenceClose(line, fenceCh, fenceN) {
					fenceN = 0
				}
				continue
			}
			if ch, n, _, ok := fenceOpen(line); ok {
				fenceCh, fenceN = ch, n
				continue
			}
			if k > lastClose || !strings.Contains(line, "<!--") {
				continue
			}
		}
		var b strings.Builder
		var spans codeSpans
		for i := 0; i < len(line); {
			if inComment {
				e := strings.Index(line[i:], "-->")
				if e < 0 {
					break
				}
				i += e + 3
				inComment = false
				continue
			}
			if line[i] == '`' {
				// A code span is not searched: "`<!--`" is no comment.
				end := spans.at(line, i)
				if end < 0 {
					end = i + runLen(line, i, '`')
				}
				b.WriteString(line[i:end])
				i = end
				continue
			}
			if strings.HasPrefix(line[i:], "<!--") && (k < lastClose || strings.Contains(line[i+4:], "-->")) {
				inComment = true
				i += 4
				continue
			}
			b.WriteByte(line[i])
			i++
		}
		if out := b.String(); out != line {
			if isBlank(out) {
				out = ""
			}
			lines[k] = out
		}
	}
}

// runLen is the length of the run of c starting at s[i].
func runLen(s string, i int, c byte) int {
	n := 0
	for i+n < len(s) && s[i+n] == c {
		n++
	}
	return n
}

// Line classifiers.

func atxHeading(line string) (level int, text string, ok bool) {
	if indentOf(line) > 3 {
		return 0, "", false
	}
	s := strings.TrimLeft(line, " ")
	n := runLen(s, 0, '#')
	if n == 0 || n > 6 || (n < len(s) && s[n] != ' ' && s[n] != '\t') {
		return 0, "", false
	}
	text = strings.TrimSpace(s[n:])
	// A closing sequence of #s goes, when a space separates it from the text.
	if t := strings.TrimRight(text, "#"); t == "" {
		text = ""
	} else if len(t) < len(text) && (t[len(t)-1] == ' ' || t[len(t)-1] == '\t') {
		text = trimRight(t)
	}
	return n, text, true
}

func isATXHeading(line string) bool { _, _, ok := atxHeading(line); return ok }

func isThematicBreak(line string) bool {
	if indentOf(line) > 3 {
		return false
	}
	var ch byte
	n := 0
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case ' ', '\t':
		case '-', '*', '_':
			if ch != 0 && c != ch {
				return false
			}
			ch = c
			n++
		default:
			return false
		}
	}
	return n >= 3
}

// setextLevel is 1 for a "===" underline, 2 for "---", else 0.
func setextLevel(line string) int {
	if indentOf(line) > 3 {
		return 0
	}
	t := strings.TrimSpace(line)
	switch {
	case t == "":
		return 0
	case strings.Trim(t, "=") == "":
		return 1
	case strings.Trim(t, "-") == "":
		return 2
	}
	return 0
}

// fenceOpen recognises an opening code fence at any indentation (fences inside list items
// are indented); callers check the indentation where it matters.
func fenceOpen(line string) (ch byte, n, indent int, ok bool) {
	s := strings.TrimLeft(line, " \t")
	indent = len(line) - len(s)
	if len(s) < 3 || (s[0] != '`' && s[0] != '~') {
		return 0, 0, 0, false
	}
	ch = s[0]
	n = runLen(s, 0, ch)
	if n < 3 || (ch == '`' && strings.IndexByte(s[n:], '`') >= 0) {
		return 0, 0, 0, false
	}
	return ch, n, indent, true
}

func isFenceOpen(line string) bool {
	_, _, _, ok := fenceOpen(line)
	return ok && indentOf(line) < 4
}

func isFenceClose(line string, ch byte, n int) bool {
	t := strings.TrimSpace(line)
	return len(t) >= n && runLen(t, 0, ch) == len(t)
}

func isQuote(line string) bool {
	return indentOf(line) < 4 && strings.HasPrefix(strings.TrimLeft(line, " \t"), ">")
}

// listItem parses a bullet ("- ", "* ", "+ ") or ordered ("1. ", "1) ") list marker.
func listItem(line string) (ordered bool, start int, content string, ok bool) {
	s := strings.TrimLeft(line, " \t")
	if s == "" {
		return false, 0, "", false
	}
	switch s[0] {
	case '-', '*', '+':
		if len(s) == 1 || s[1] == ' ' || s[1] == '\t' {
			return false, 0, strings.TrimSpace(s[1:]), true
		}
		return false, 0, "", false
	}
	n := 0
	for n < len(s) && n < 10 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 || n > 9 || n >= len(s) || (s[n] != '.' && s[n] != ')') {
		return false, 0, "", false
	}
	if n+1 < len(s) && s[n+1] != ' ' && s[n+1] != '\t' {
		return false, 0, "", false
	}
	start, _ = strconv.Atoi(s[:n])
	return true, start, strings.TrimSpace(s[n+1:]), true
}

func isListItem(line string) bool {
	if isThematicBreak(line) {
		return false
	}
	_, _, _, ok := listItem(line)
	return ok
}

// tableDelimiter recognises a GFM delimiter row ("| --- | :-: |") and counts its cells.
func tableDelimiter(line string) (cells int, ok bool) {
	t := strings.TrimSpace(line)
	if !strings.Contains(t, "|") || !strings.Contains(t, "-") {
		return 0, false
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "|"), "|")
	parts := strings.Split(t, "|")
	for _, c := range parts {
		c = strings.TrimSpace(c)
		c = strings.TrimSuffix(strings.TrimPrefix(c, ":"), ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return 0, false
		}
	}
	return len(parts), true
}

// tableCells counts the cells of a table row, ignoring escaped pipes.
func tableCells(line string) int {
	t := strings.TrimSpace(line)
	if !strings.Contains(t, "|") {
		return 0
	}
	t = strings.TrimPrefix(t, "|")
	if strings.HasSuffix(t, "|") && !strings.HasSuffix(t, `\|`) {
		t = t[:len(t)-1]
	}
	n := 1
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func isTableStart(header, delim string) bool {
	if indentOf(header) > 3 {
		return false
	}
	cells, ok := tableDelimiter(delim)
	return ok && tableCells(header) == cells
}

// refDefinition recognises a link reference definition ("[label]: url") and returns its
// normalised label. Footnote definitions ("[^1]: …") are text, not links, and stay.
func refDefinition(line string) (string, bool) {
	if indentOf(line) > 3 {
		return "", false
	}
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "[") {
		return "", false
	}
	end := strings.Index(s, "]:")
	if end < 2 {
		return "", false
	}
	label := s[1:end]
	if label[0] == '^' || strings.ContainsAny(label, "[]") || strings.TrimSpace(s[end+2:]) == "" {
		return "", false
	}
	return normLabel(label), true
}

func normLabel(s string) string { return strings.ToLower(oneLine(s)) }
