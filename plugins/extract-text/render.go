package main

import (
	"bytes"
	"strings"
)

const (
	// maxProse is how much prose is kept for guessing the language.
	maxProse = 64 << 10
	// maxHeadings is how many headings are kept as title candidates.
	maxHeadings = 100
)

// renderer writes blocks into the document's text as the parser completes them, one blank
// line between blocks. Its buffers are reused from block to block: in Wasm every
// allocation is dear, and a large document has hundreds of thousands of blocks.
type renderer struct {
	doc   document
	text  strings.Builder
	prose strings.Builder
	in    inliner
	blk   []byte // the block being rendered
	join  []byte // lines joined for the inliner
}

func newRenderer(refs map[string]bool, size int) *renderer {
	r := &renderer{in: inliner{refs: refs}}
	r.text.Grow(size)
	return r
}

// add appends a rendered block; an empty one (a paragraph of badges) leaves no trace.
func (r *renderer) add(b []byte, prose bool) {
	if len(b) == 0 {
		return
	}
	if r.text.Len() > 0 {
		r.text.WriteString("\n\n")
	}
	r.text.Write(b)
	if prose && r.prose.Len() < maxProse {
		r.prose.Write(b)
		r.prose.WriteByte('\n')
	}
}

func (r *renderer) block(b block) {
	switch b.kind {
	case blockParagraph:
		s := r.in.render(b.text, modeFlow)
		if r.doc.firstLine == "" && len(r.doc.headings) == 0 {
			first, _, _ := bytes.Cut(s, []byte("\n"))
			r.doc.firstLine = string(first[:min(len(first), 4*maxTitleRunes)])
		}
		r.add(s, true)
	case blockHeading:
		s := r.in.render(b.text, modeFlow)
		if len(s) == 0 {
			return
		}
		if len(r.doc.headings) < maxHeadings {
			r.doc.headings = append(r.doc.headings, heading{level: b.level, text: string(s[:min(len(s), 4*maxTitleRunes)])})
		}
		r.blk = append(r.blk[:0], "######"[:b.level]...)
		r.blk = append(append(r.blk, ' '), s...)
		r.add(r.blk, true)
	case blockCode:
		r.add(b.code, false)
	case blockRule:
		r.add([]byte("---"), false)
	case blockTable:
		r.blk = r.blk[:0]
		for k, l := range b.lines {
			if k > 0 {
				r.blk = append(r.blk, '\n')
			}
			r.blk = append(r.blk, bytes.TrimRight(r.in.render(l.text, modeTable), " \t")...)
		}
		r.add(r.blk, true)
	case blockList, blockQuote:
		r.add(r.lines(b.lines), true)
	}
}

// lines renders a list or quote: runs of text lines go through the inliner together (a
// link may wrap across lines), code lines stay verbatim, and lines left empty by markup
// that rendered to nothing (a badge, an HTML tag) are dropped.
func (r *renderer) lines(lines []srcLine) []byte {
	r.blk = r.blk[:0]
	newline := func() {
		if len(r.blk) > 0 {
			r.blk = append(r.blk, '\n')
		}
	}
	blank := false // a blank line is due before the next line
	for i := 0; i < len(lines); {
		if l := lines[i]; l.code || l.text == "" {
			if l.code {
				if blank {
					newline()
					blank = false
				}
				newline()
				r.blk = append(r.blk, l.text...)
			} else {
				blank = len(r.blk) > 0
			}
			i++
			continue
		}
		j := i
		r.join = r.join[:0]
		for ; j < len(lines) && !lines[j].code && lines[j].text != ""; j++ {
			if j > i {
				r.join = append(r.join, '\n')
			}
			r.join = append(r.join, lines[j].text...)
		}
		out := r.in.render(string(r.join), modeLines)
		for len(out) > 0 {
			line, rest, _ := bytes.Cut(out, []byte("\n"))
			out = rest
			if line = bytes.TrimRight(line, " \t"); len(bytes.TrimLeft(line, " \t")) == 0 {
				continue
			}
			if blank {
				newline()
				blank = false
			}
			newline()
			r.blk = append(r.blk, line...)
		}
		i = j
	}
	return r.blk
}

func (r *renderer) document() document {
	r.doc.text = r.text.String()
	r.doc.prose = r.prose.String()
	return r.doc
}
