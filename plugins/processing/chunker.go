package main

import (
	"strings"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/textutil"
)

// span is one chunk of a text, as byte offsets into it.
//
// Offsets include the overlap: text[Start:End] is exactly the chunk's text, the overlap
// prefix (the tail of the previous chunk) followed by the chunk's own body, so a stored
// chunk always maps back to one contiguous place in the item's text. The body is what
// follows the previous chunk: text[max(Start, previous End):End]. Bodies are contiguous,
// the gaps between them are white space only, so the bodies together are the text.
//
// Heading is the path of Markdown headings in force where the body begins, outermost
// first, joined with " > " ("Install > Linux"); a body that begins with a heading includes
// it. Tokens counts text[Start:End] (see countTokens).
type span struct {
	Heading string `json:"heading,omitempty"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Tokens  int    `json:"tokens"`
	// overlap is how many of Tokens are the overlap prefix; only the chunker needs it.
	overlap int
}

// Boundary strengths: how good a place to cut the boundary before a unit is. The packer
// cuts at the strongest boundary that leaves the chunk at least half full.
const (
	cutForbidden = -1 // right after a heading
	cutWord      = 0  // between words of an oversized clause
	cutClause    = 1  // after a comma, semicolon, colon or dash of an oversized sentence
	cutSentence  = 2
	cutLine      = 3 // a hard line break: list items, table rows, one-line paragraphs
	cutBlock     = 4 // a blank line: paragraphs, code blocks
	cutSection   = 5 // before a heading
)

// unit is a piece of text the packer never cuts: a heading, a paragraph, a code block,
// a sentence, or smaller, whatever fits.
type unit struct {
	start, end int
	tokens     int
	strength   int8 // of the boundary before the unit
	heading    bool // a heading line: the chunk that starts here gets no overlap
	sticky     bool // a heading that must not end a chunk
	path       string
}

// chunker splits one text.
type chunker struct {
	text    string
	size    int
	overlap int

	units []unit
	// headTokens is the size of the sticky headings emitted since the last content unit:
	// the next content unit must fit beside them.
	headTokens int
	stack      []heading
	path       string
}

type heading struct {
	level int
	title string
}

// The defaults of the chunk_size and chunk_overlap settings.
const (
	defaultChunkSize    = 500
	defaultChunkOverlap = 50
)

// chunkText splits text into chunks of at most size tokens (the last one may grow to 1.2×
// size when a tiny tail is merged into it), each but the first starting with up to overlap
// tokens of the one before (overlap is capped at half the size, so a chunk is mostly new
// text; a chunk that starts at a heading gets none, since a new section needs no context
// from the last). It prefers, in order: cutting before a heading, between paragraphs, at
// hard line breaks, between sentences, between clauses, between words; it keeps a heading
// with what follows and a fenced code block whole when it fits. It is deterministic and
// cuts only between tokens.
func chunkText(text string, size, overlap int) []span {
	size = max(size, 1)
	overlap = max(0, min(overlap, size/2))
	c := &chunker{text: text, size: size, overlap: overlap}
	c.parse()
	return c.pack()
}

// limit is how many tokens the next unit may have.
func (c *chunker) limit() int { return c.size - c.headTokens }

// parse cuts the text into Markdown blocks (headings, fenced code blocks, paragraphs) and
// turns each into units.
func (c *chunker) parse() {
	s := c.text
	var (
		paraStart, paraEnd = -1, -1 // the open paragraph's first and last line
		paraLines          int
		fence              string // the open code fence's marker
		fenceStart         int
	)
	flush := func() {
		if paraStart >= 0 {
			c.block(paraStart, paraEnd, false)
			paraStart, paraLines = -1, 0
		}
	}
	for lineStart := 0; lineStart < len(s); {
		lineEnd := len(s)
		if i := strings.IndexByte(s[lineStart:], '\n'); i >= 0 {
			lineEnd = lineStart + i
		}
		next := lineEnd + 1
		ls, le := textutil.TrimSpan(s, lineStart, lineEnd)
		line := s[ls:le]
		switch {
		case fence != "":
			if isFenceClose(line, fence) {
				c.block(fenceStart, le, true)
				fence = ""
			}
		case ls == le:
			flush()
		case fenceMarker(line) != "":
			flush()
			fence, fenceStart = fenceMarker(line), ls
		case atxLevel(line) > 0:
			flush()
			c.heading(ls, le, atxLevel(line), atxTitle(line))
		case paraLines == 1 && setextLevel(line) > 0 && !startsItem(s[paraStart:paraEnd]):
			title := s[paraStart:paraEnd]
			start := paraStart
			paraStart, paraLines = -1, 0
			c.heading(start, le, setextLevel(line), strings.TrimSpace(title))
		default:
			if paraStart < 0 {
				paraStart = ls
			}
			paraEnd = le
			paraLines++
		}
		lineStart = next
	}
	if fence != "" {
		// An unclosed fence runs to the end of the text, as in Markdown.
		_, e := textutil.TrimSpan(s, fenceStart, len(s))
		c.block(fenceStart, e, true)
	}
	flush()
}

// heading handles a heading line (or a setext heading's two lines) at [start, end).
func (c *chunker) heading(start, end, level int, title string) {
	for len(c.stack) > 0 && c.stack[len(c.stack)-1].level >= level {
		c.stack = c.stack[:len(c.stack)-1]
	}
	c.stack = append(c.stack, heading{level, clipTitle(title)})
	titles := make([]string, 0, len(c.stack))
	for _, h := range c.stack {
		if h.title != "" {
			titles = append(titles, h.title)
		}
	}
	c.path = strings.Join(titles, " > ")

	tokens := countTokens(c.text, start, end)
	if tokens*4 <= c.size && (c.headTokens+tokens)*2 <= c.size {
		c.units = append(c.units, unit{start: start, end: end, tokens: tokens, strength: cutSection,
			heading: true, sticky: true, path: c.path})
		c.headTokens += tokens
		return
	}
	// Too long to be a real heading: still a heading for the path, but it is split like
	// prose and need not stay with what follows.
	n := len(c.units)
	c.emit(start, end, cutSection, cutBlock, false)
	if n < len(c.units) {
		c.units[n].heading = true
	}
}

// block handles a paragraph or code block at [start, end).
func (c *chunker) block(start, end int, code bool) {
	c.emit(start, end, cutBlock, cutBlock, code)
}

// emit adds [start, end) as one unit if it fits, or else its pieces one level down, with
// strength for the boundary before the first piece. level says what the range is, in the
// boundary constants: cutBlock a block, cutLine a line, cutSentence a sentence, cutClause
// a clause, cutWord a group of words, which is never split further.
func (c *chunker) emit(start, end int, strength int8, level int, code bool) {
	tokens := countTokens(c.text, start, end)
	if tokens == 0 {
		return
	}
	// Clauses are cut out of a sentence too long for a chunk, which is cut somewhere
	// anyway: keeping them small lets the packer fill chunks instead of leaving one nearly
	// empty before a clause that almost fills the next.
	fits := tokens <= c.limit() && (level > cutClause || tokens*4 <= c.size)
	if fits || level == cutWord {
		c.units = append(c.units, unit{start: start, end: end, tokens: tokens, strength: strength, path: c.path})
		c.headTokens = 0
		return
	}
	first := true
	child := func(a, b int) {
		s := int8(level - 1)
		if first {
			s, first = strength, false
		}
		c.emit(a, b, s, level-1, code)
	}
	switch level {
	case cutBlock:
		splitLines(c.text, start, end, code, child)
	case cutLine:
		splitSentences(c.text, start, end, child)
	case cutSentence:
		splitClauses(c.text, start, end, child)
	default:
		// Groups of a sixteenth of the size leave the packer fine-grained places to cut.
		splitGroups(c.text, start, end, max(1, c.size/16), child)
	}
}

// pack groups the units into chunks.
func (c *chunker) pack() []span {
	units := c.units
	var out []span
	prevFirst, prevEnd := -1, -1 // the previous chunk's body units
	for i := 0; i < len(units); {
		ovStart, ovTokens := -1, 0
		if prevFirst >= 0 && !units[i].heading {
			if limit := min(c.overlap, c.size-units[i].tokens); limit > 0 {
				ovStart, ovTokens = c.overlapStart(units[prevFirst:prevEnd], limit)
			}
		}
		budget := c.size - ovTokens
		j, fill := i, 0
		for j < len(units) && fill+units[j].tokens <= budget {
			fill += units[j].tokens
			j++
		}
		end := j
		if j == i {
			end = i + 1 // unreachable: units fit the size and the overlap leaves room
		} else if j < len(units) {
			end = chooseCut(units, i, j, budget)
		}
		sp := span{Heading: units[i].path, Start: units[i].start, End: units[end-1].end, overlap: ovTokens}
		if ovStart >= 0 {
			sp.Start = ovStart
		}
		sp.Tokens = ovTokens
		for _, u := range units[i:end] {
			sp.Tokens += u.tokens
		}
		out = append(out, sp)
		prevFirst, prevEnd = i, end
		i = end
	}
	// A tiny tail joins the chunk before it when the two stay under 1.2× the size.
	if n := len(out); n >= 2 {
		last, prev := out[n-1], &out[n-2]
		body := last.Tokens - last.overlap
		if body*5 < c.size && (prev.Tokens+body)*5 <= c.size*6 {
			prev.End = last.End
			prev.Tokens += body
			out = out[:n-1]
		}
	}
	return out
}

// chooseCut picks where the chunk that starts at unit i ends, knowing units i..j-1 fit
// and unit j does not: the end index e in (i, j]. Allowed cuts (not right after a heading)
// beat forbidden ones; cuts leaving the chunk full enough beat the rest — half full, or a
// quarter before a heading, since a chunk that mixes two sections is filed under the
// first one's heading; then the strongest boundary wins, and among equals the latest.
func chooseCut(units []unit, i, j, budget int) int {
	best, bestAllowed, bestFull, bestS := j, false, false, int8(-2)
	fill := 0
	for e := i + 1; e <= j; e++ {
		fill += units[e-1].tokens
		s := units[e].strength
		if units[e-1].sticky {
			s = cutForbidden
		}
		allowed, full := s != cutForbidden, fill*2 >= budget || s == cutSection && fill*4 >= budget
		better := false
		switch {
		case allowed != bestAllowed:
			better = allowed
		case full != bestFull:
			better = full
		default:
			better = s >= bestS
		}
		if better {
			best, bestAllowed, bestFull, bestS = e, allowed, full, s
		}
	}
	return best
}

// overlapStart finds where the overlap taken from the previous chunk's body units prev
// begins, and its size in tokens: the longest tail of at most limit tokens that starts a
// sentence or a line, or else a clause, or else just the last limit words. A start that
// leaves under half the limit does not count. It is always a proper tail, never the whole
// previous body.
func (c *chunker) overlapStart(prev []unit, limit int) (int, int) {
	s := c.text
	atoms := atomsOf(s, prev[0].start, prev[len(prev)-1].end)
	first := max(1, len(atoms)-limit) // the earliest start within the limit
	last := len(atoms) - (limit+1)/2  // the latest that leaves half the limit
	good := []func(k int) bool{
		func(k int) bool { return startsLine(s, atoms[k].start) || endsSentence(s, atoms[k-1], atoms[k]) },
		func(k int) bool { return endsClause(s[atoms[k-1].start:atoms[k-1].end]) },
	}
	for _, ok := range good {
		for k := first; k <= last; k++ {
			if !atoms[k].glued && ok(k) {
				return atoms[k].start, len(atoms) - k
			}
		}
	}
	k := first
	for k < len(atoms) && atoms[k].glued {
		k++
	}
	if k >= len(atoms) {
		return -1, 0
	}
	return atoms[k].start, len(atoms) - k
}

// Markdown syntax, as much of it as chunking needs.

func fenceMarker(line string) string {
	for _, ch := range []byte{'`', '~'} {
		n := 0
		for n < len(line) && line[n] == ch {
			n++
		}
		if n >= 3 && (ch == '~' || !strings.Contains(line[n:], "`")) {
			return line[:n]
		}
	}
	return ""
}

func isFenceClose(line, fence string) bool {
	return strings.HasPrefix(line, fence) && strings.Trim(line, fence[:1]) == ""
}

func atxLevel(line string) int {
	n := 0
	for n < len(line) && n < 7 && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n < len(line) && line[n] != ' ' && line[n] != '\t' {
		return 0
	}
	return n
}

func atxTitle(line string) string {
	t := strings.TrimSpace(strings.TrimLeft(line, "#"))
	// A closing sequence of #s goes, unless it is the whole title ("# #").
	if u := strings.TrimRight(t, "#"); len(u) < len(t) && (u == "" || strings.HasSuffix(u, " ") || strings.HasSuffix(u, "\t")) {
		t = strings.TrimSpace(u)
	}
	return t
}

func setextLevel(line string) int {
	switch {
	case len(line) >= 2 && strings.Trim(line, "=") == "":
		return 1
	case len(line) >= 3 && strings.Trim(line, "-") == "":
		return 2
	}
	return 0
}

// clipTitle keeps headings in a chunk's path short.
func clipTitle(t string) string {
	const maxTitle = 120
	if len(t) <= maxTitle {
		return t
	}
	n := maxTitle
	for n > 0 && !utf8.RuneStart(t[n]) {
		n--
	}
	return strings.TrimSpace(t[:n]) + "…"
}
