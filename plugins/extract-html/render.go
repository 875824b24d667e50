package main

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// renderMode says how much of a tree is content.
type renderMode int

const (
	// modeArticle renders everything the main-content library kept: it already dropped the
	// page chrome, and an <aside> or <footer> left inside an article is part of it.
	modeArticle renderMode = iota
	// modePage renders a whole body, so it drops the parts of a page that are chrome on
	// nearly every site (navigation, sidebars, footers, forms' controls).
	modePage
)

// renderText turns a DOM subtree into Markdown-like text: headings as # lines, lists as
// "- " / "1. " lines, <pre> in ``` fences, tables as pipe rows, blockquotes with "> ", and
// one blank line between blocks. Links become their text; images, scripts, styles and
// hidden elements disappear.
func renderText(n *html.Node, mode renderMode) string {
	if n == nil {
		return ""
	}
	fixAtoms(n)
	r := &renderer{mode: mode}
	r.node(n)
	text := joinBlocks(r.finish())
	// Code, TeX and attribute values pass through verbatim; a tree parsed from bytes that
	// were not UTF-8 must still give valid text.
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\ufffd")
	}
	return text
}

// fixAtoms sets every element's DataAtom from its tag name. The library creates and
// renames elements (a <div> turned into a <p>, an <h1> into an <h2>) by setting Data
// alone, and the renderer switches on DataAtom.
func fixAtoms(n *html.Node) {
	walk(n, func(c *html.Node) bool {
		if c.Type == html.ElementNode {
			c.DataAtom = atom.Lookup([]byte(c.Data))
		}
		return true
	})
}

// renderer collects the blocks of one container (the whole tree, a list item, a
// blockquote, a table cell). Inline content accumulates in line until a block starts.
type renderer struct {
	mode   renderMode
	blocks []string
	line   strings.Builder
	space  bool // whitespace seen since the last character written to line
}

func (r *renderer) sub() *renderer { return &renderer{mode: r.mode} }

// finish flushes pending inline text and returns the blocks.
func (r *renderer) finish() []string {
	r.flush()
	return r.blocks
}

func (r *renderer) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.node(c)
	}
}

func (r *renderer) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
		r.children(n)
		return
	default: // comments, doctypes
		return
	}
	if n.DataAtom == atom.Img {
		// MediaWiki shows formulas as images whose alt text is their TeX.
		if tex := texAlt(n); tex != "" {
			r.emit("$" + tex + "$")
		}
		return
	}
	if r.skip(n) {
		return
	}
	switch n.DataAtom {
	case atom.Br:
		r.newline()
	case atom.Code, atom.Kbd, atom.Samp, atom.Tt:
		r.inlineCode(n)
	case atom.A:
		if isAnchorMarker(n) {
			return
		}
		r.children(n)
	case atom.Math:
		r.math(n)
	case 0:
		if n.Data == "mjx-container" {
			r.math(n)
			return
		}
		r.children(n)
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		r.flush()
		level := int(n.Data[1] - '0')
		t := editLinkRE.ReplaceAllString(inlineText(r.sub(), n), "")
		if t != "" {
			r.blocks = append(r.blocks, strings.Repeat("#", level)+" "+t)
		}
	case atom.Ul, atom.Ol, atom.Menu:
		r.flush()
		if b := r.list(n); b != "" {
			r.blocks = append(r.blocks, b)
		}
	case atom.Pre, atom.Xmp, atom.Listing, atom.Plaintext:
		r.flush()
		if b := preBlock(n); b != "" {
			r.blocks = append(r.blocks, b)
		}
	case atom.Blockquote:
		r.flush()
		if b := r.blockquote(n); b != "" {
			r.blocks = append(r.blocks, b)
		}
	case atom.Table:
		r.flush()
		r.table(n)
	case atom.Dl:
		r.flush()
		if b := r.definitions(n); b != "" {
			r.blocks = append(r.blocks, b)
		}
	case atom.Hr:
		r.flush()
	default:
		if isInline(n) {
			r.children(n)
			return
		}
		r.flush()
		if hasRows(n) {
			// Table rows without their <table>: the library sometimes keeps only a table's
			// body, as a <div>.
			r.table(n)
			return
		}
		r.children(n)
		r.flush()
	}
}

func hasRows(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Tr {
			return true
		}
	}
	return false
}

// skip reports elements that never carry readable text, or that a reader does not see.
func (r *renderer) skip(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Title,
		atom.Meta, atom.Link, atom.Svg, atom.Iframe, atom.Object, atom.Embed, atom.Canvas,
		atom.Video, atom.Audio, atom.Map, atom.Img, atom.Picture, atom.Source, atom.Track,
		atom.Button, atom.Input, atom.Select, atom.Textarea, atom.Option, atom.Datalist,
		atom.Dialog, atom.Nav, atom.Frameset, atom.Frame:
		return true
	case atom.Aside, atom.Footer:
		if r.mode == modePage {
			return true
		}
	case atom.Form:
		// ASP.NET-style pages wrap the whole body in one <form>; only a form of bare
		// controls (a search box, a newsletter sign-up) is chrome.
		if r.mode == modePage && !hasBlockChild(n) {
			return true
		}
	}
	return isHidden(n) || isComments(n)
}

// commentIDRE matches the ids blog engines give single comments (WordPress:
// comment-123, div-comment-123). The library strips classes but keeps ids.
var commentIDRE = regexp.MustCompile(`^(div-)?comment-[0-9]+$`)

// isComments reports a reader-comments section the library left in. An id of "comments"
// alone is not enough: documentation pages use it for a section about code comments, so
// the section must also hold a single comment.
func isComments(n *html.Node) bool {
	id := attr(n, "id")
	switch {
	case id == "":
		return false
	case id == "disqus_thread" || id == "respond" || commentIDRE.MatchString(id):
		return true
	case id == "comments" || id == "comment-list" || id == "commentlist" || id == "comments-area":
		found := false
		walk(n, func(c *html.Node) bool {
			found = found || (c.Type == html.ElementNode && commentIDRE.MatchString(attr(c, "id")))
			return !found
		})
		return found
	}
	return false
}

// editLinkRE matches the "[edit]" links MediaWiki puts after every heading; the library
// strips the classes that would identify them.
var editLinkRE = regexp.MustCompile(`\s*\[\s*(edit|edit source|bearbeiten|quelltext bearbeiten|modifier|modifier le code|editar|editar código|modifica|modifica wikitesto)\s*(\|[^\]]*)?\]$`)

// texAlt returns the TeX of a formula image ("{\displaystyle x^2}"), or "".
func texAlt(n *html.Node) string {
	alt := strings.TrimSpace(attr(n, "alt"))
	for _, style := range []string{`{\displaystyle`, `{\textstyle`} {
		if inner, ok := strings.CutPrefix(alt, style); ok && strings.HasSuffix(inner, "}") {
			return collapse(strings.TrimSuffix(inner, "}"))
		}
	}
	// Simple formulas ("A") have plain alt text; only the renderer's URL tells them apart
	// from ordinary images.
	if strings.Contains(attr(n, "src"), "/media/math/render/") {
		return collapse(alt)
	}
	return ""
}

// isHidden follows what the browser would hide; style is only checked for the two
// declarations sites use to hide things, not computed.
func isHidden(n *html.Node) bool {
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "style":
			s := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
				return true
			}
		}
	}
	return false
}

// isAnchorMarker reports the "¶" / "#" permalinks docs generators put beside headings.
func isAnchorMarker(n *html.Node) bool {
	if !strings.HasPrefix(attr(n, "href"), "#") {
		return false
	}
	switch strings.TrimSpace(textContent(n)) {
	case "¶", "#", "§", "🔗", "":
		return true
	}
	return false
}

var inlineAtoms = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true,
	atom.Big: true, atom.Cite: true, atom.Data: true, atom.Del: true, atom.Dfn: true,
	atom.Em: true, atom.Font: true, atom.I: true, atom.Ins: true, atom.Label: true,
	atom.Mark: true, atom.Nobr: true, atom.Q: true, atom.Rb: true, atom.Rp: true,
	atom.Rt: true, atom.Rtc: true, atom.Ruby: true, atom.S: true, atom.Small: true,
	atom.Span: true, atom.Strike: true, atom.Strong: true, atom.Sub: true, atom.Sup: true,
	atom.Time: true, atom.U: true, atom.Var: true, atom.Wbr: true, atom.Acronym: true,
	atom.Output: true, atom.Slot: true, atom.Meter: true, atom.Progress: true,
}

// isInline follows the browser's default: elements it does not know (custom elements
// among them) are inline, and a block inside one still breaks the line.
func isInline(n *html.Node) bool { return n.DataAtom == 0 || inlineAtoms[n.DataAtom] }

func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && !isInline(c) {
			return true
		}
	}
	return false
}

// text adds a text node's words to the current line, collapsing whitespace the way a
// browser does for normal flow.
func (r *renderer) text(s string) {
	for _, c := range s {
		switch {
		case unicode.IsSpace(c):
			r.space = true
		case invisible(c):
		default:
			if r.space && r.line.Len() > 0 && !endsWith(&r.line, '\n') {
				r.line.WriteByte(' ')
			}
			r.space = false
			r.line.WriteRune(c)
		}
	}
}

// invisible reports characters that only matter to layout (soft hyphens, zero-width
// spaces, byte-order marks) or that are not text at all (control characters).
func invisible(c rune) bool {
	switch c {
	case '\u00ad', '\u200b', '\u2060', '\ufeff':
		return true
	}
	return c < ' ' || c == 0x7f || (c >= 0x80 && c < 0xa0)
}

func endsWith(b *strings.Builder, c byte) bool {
	s := b.String()
	return len(s) > 0 && s[len(s)-1] == c
}

func (r *renderer) newline() {
	r.line.WriteByte('\n')
	r.space = false
}

// flush turns the pending inline text into paragraph blocks: a <br> is a line break, two
// in a row start a new paragraph.
func (r *renderer) flush() {
	s := r.line.String()
	r.line.Reset()
	r.space = false
	if strings.TrimSpace(s) == "" {
		return
	}
	var para []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			if len(para) > 0 {
				r.blocks = append(r.blocks, strings.Join(para, "\n"))
				para = para[:0]
			}
			continue
		}
		para = append(para, l)
	}
	if len(para) > 0 {
		r.blocks = append(r.blocks, strings.Join(para, "\n"))
	}
}

// inlineText renders n's content with r and folds it into one line.
func inlineText(r *renderer, n *html.Node) string {
	r.children(n)
	return strings.Join(strings.Fields(strings.Join(r.finish(), " ")), " ")
}

func (r *renderer) inlineCode(n *html.Node) {
	code := strings.Join(strings.Fields(textContent(n)), " ")
	if code == "" {
		return
	}
	// A fence longer than any run of backticks inside keeps the span intact.
	fence := strings.Repeat("`", longestRun(code, '`')+1)
	pad := ""
	if strings.HasPrefix(code, "`") || strings.HasSuffix(code, "`") {
		pad = " "
	}
	r.emit(fence + pad + code + pad + fence)
}

// emit writes s as one word, honouring pending whitespace.
func (r *renderer) emit(s string) {
	if r.space && r.line.Len() > 0 && !endsWith(&r.line, '\n') {
		r.line.WriteByte(' ')
	}
	r.space = false
	r.line.WriteString(s)
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// math prefers the TeX source MathML and MathJax keep for exactly this purpose, and falls
// back to the MathML's own text. Display math is a block of its own.
func (r *renderer) math(n *html.Node) {
	var tex string
	walk(n, func(c *html.Node) bool {
		if tex != "" {
			return false
		}
		if c.Type != html.ElementNode {
			return true
		}
		if v := attr(c, "data-latex"); v != "" {
			tex = v
		} else if c.Data == "annotation" && strings.Contains(attr(c, "encoding"), "tex") {
			tex = textContent(c)
		}
		return tex == ""
	})
	tex = strings.TrimSpace(tex)
	block := attr(n, "display") == "block" || attr(n, "display") == "true"
	switch {
	case tex != "" && block:
		r.flush()
		r.blocks = append(r.blocks, "$$\n"+tex+"\n$$")
	case tex != "":
		r.emit("$" + tex + "$")
	case block:
		r.flush()
		r.text(textContent(n))
		r.flush()
	default:
		r.text(" " + textContent(n) + " ")
	}
}

// list renders a <ul>/<ol>: one line per item, continuation lines and nested lists
// indented under the item's text.
func (r *renderer) list(n *html.Node) string {
	ordered := n.DataAtom == atom.Ol
	num := 1
	if v, err := strconv.Atoi(strings.TrimSpace(attr(n, "start"))); err == nil && ordered {
		num = v
	}
	var lines []string
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || r.skip(c) {
			if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
				lines = append(lines, "- "+strings.Join(strings.Fields(c.Data), " "))
			}
			continue
		}
		var blocks []string
		if c.DataAtom == atom.Li {
			sub := r.sub()
			sub.children(c)
			blocks = sub.finish()
		} else {
			// Stray children of a list (a nested <ul> without its <li>, say) still count.
			sub := r.sub()
			sub.node(c)
			blocks = sub.finish()
		}
		if len(blocks) == 0 {
			continue
		}
		marker := "- "
		if ordered {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		if c.DataAtom != atom.Li && (c.DataAtom == atom.Ul || c.DataAtom == atom.Ol) {
			marker = "  "
		}
		indent := strings.Repeat(" ", len(marker))
		body := strings.Split(strings.Join(blocks, "\n"), "\n")
		for i, l := range body {
			switch {
			case i == 0:
				lines = append(lines, strings.TrimRight(marker+l, " "))
			case l == "":
				lines = append(lines, "")
			default:
				lines = append(lines, indent+l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

func (r *renderer) blockquote(n *html.Node) string {
	sub := r.sub()
	sub.children(n)
	inner := joinBlocks(sub.finish())
	if inner == "" {
		return ""
	}
	lines := strings.Split(inner, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = ">"
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

// definitions renders a <dl> as "term" lines followed by ": definition" lines.
func (r *renderer) definitions(n *html.Node) string {
	// Without terms a <dl> is only indentation (MediaWiki's ":" lines), and ": " would be
	// noise.
	marker := ""
	walk(n, func(c *html.Node) bool {
		if c.DataAtom == atom.Dt {
			marker = ": "
		}
		return marker == ""
	})
	var lines []string
	var visit func(*html.Node)
	visit = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || r.skip(c) {
				continue
			}
			switch c.DataAtom {
			case atom.Dt:
				if t := inlineText(r.sub(), c); t != "" {
					lines = append(lines, t)
				}
			case atom.Dd:
				if t := inlineText(r.sub(), c); t != "" {
					lines = append(lines, marker+t)
				}
			case atom.Div: // HTML allows <div> groups of dt/dd
				visit(c)
			}
		}
	}
	visit(n)
	return strings.Join(lines, "\n")
}

// preBlock fences a <pre> verbatim. Block children (one <div> per line is a common
// highlighter shape) and <br> become line breaks.
func preBlock(n *html.Node) string {
	var b strings.Builder
	var visit func(*html.Node)
	visit = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				b.WriteString(c.Data)
			case html.ElementNode:
				switch {
				case c.DataAtom == atom.Br:
					b.WriteByte('\n')
				case c.DataAtom == atom.Script || c.DataAtom == atom.Style || isHidden(c):
				case isInline(c) || c.DataAtom == atom.Code || c.DataAtom == atom.Kbd || c.DataAtom == atom.Samp || c.DataAtom == atom.Tt:
					visit(c)
				default:
					if b.Len() > 0 && !endsWith(&b, '\n') {
						b.WriteByte('\n')
					}
					visit(c)
					if !endsWith(&b, '\n') {
						b.WriteByte('\n')
					}
				}
			}
		}
	}
	visit(n)
	code := strings.Map(func(c rune) rune {
		switch {
		case c == '\n' || c == '\t':
			return c
		case c == '\u00a0':
			return ' '
		case invisible(c):
			return -1
		}
		return c
	}, b.String())
	code = strings.Trim(code, "\n")
	if strings.TrimSpace(code) == "" {
		return ""
	}
	fence := strings.Repeat("`", max(3, longestFence(code)+1))
	return fence + codeLanguage(n) + "\n" + code + "\n" + fence
}

// longestFence is the longest run of backticks that starts a line of code.
func longestFence(code string) int {
	best := 0
	for _, l := range strings.Split(code, "\n") {
		l = strings.TrimLeft(l, " \t")
		n := 0
		for n < len(l) && l[n] == '`' {
			n++
		}
		best = max(best, n)
	}
	return best
}

// codeLanguage reads the language-xxx / lang-xxx class highlighters put on <pre> or on
// its only <code> child.
func codeLanguage(n *html.Node) string {
	nodes := []*html.Node{n}
	if c := n.FirstChild; c != nil && c.NextSibling == nil && c.DataAtom == atom.Code {
		nodes = append(nodes, c)
	}
	for _, e := range nodes {
		for _, cls := range strings.Fields(attr(e, "class")) {
			for _, prefix := range []string{"language-", "lang-"} {
				if lang, ok := strings.CutPrefix(cls, prefix); ok && isWord(lang) {
					return lang
				}
			}
		}
		if lang := attr(e, "data-lang"); isWord(lang) {
			return lang
		}
	}
	return ""
}

func isWord(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '+' || c == '#' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// table renders a data table as pipe rows, with a --- row under a header row. A table
// used for layout (cells holding paragraphs, lists or other tables, a single row or a
// single column) is rendered as the blocks in its cells instead, since pipes would only
// mangle them.
func (r *renderer) table(n *html.Node) {
	var caption string
	var rows [][]*html.Node
	var headerRow []bool
	var visit func(*html.Node, bool)
	visit = func(p *html.Node, inHead bool) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || r.skip(c) {
				continue
			}
			switch c.DataAtom {
			case atom.Caption:
				caption = inlineText(r.sub(), c)
			case atom.Thead:
				visit(c, true)
			case atom.Tbody, atom.Tfoot:
				visit(c, false)
			case atom.Tr:
				var cells []*html.Node
				allTH := true
				for cell := c.FirstChild; cell != nil; cell = cell.NextSibling {
					if cell.Type == html.ElementNode && (cell.DataAtom == atom.Td || cell.DataAtom == atom.Th) && !r.skip(cell) {
						cells = append(cells, cell)
						allTH = allTH && cell.DataAtom == atom.Th
					}
				}
				if len(cells) > 0 {
					rows = append(rows, cells)
					headerRow = append(headerRow, inHead || allTH)
				}
			}
		}
	}
	visit(n, false)

	cols := 0
	for _, row := range rows {
		w := 0
		for _, cell := range row {
			w += span(cell)
		}
		cols = max(cols, w)
	}
	if cols <= 1 || len(rows) <= 1 || isLayoutTable(rows) {
		if caption != "" {
			r.blocks = append(r.blocks, caption)
		}
		for _, row := range rows {
			for _, cell := range row {
				r.children(cell)
				r.flush()
			}
		}
		return
	}

	var lines []string
	if caption != "" {
		lines = append(lines, caption, "")
	}
	for i, row := range rows {
		cells := make([]string, 0, cols)
		for _, cell := range row {
			t := strings.ReplaceAll(inlineText(r.sub(), cell), "|", `\|`)
			cells = append(cells, t)
			for range span(cell) - 1 {
				cells = append(cells, "")
			}
		}
		for len(cells) < cols {
			cells = append(cells, "")
		}
		if allEmpty(cells) {
			continue
		}
		lines = append(lines, strings.TrimRight("| "+strings.Join(cells, " | ")+" |", " "))
		if i == 0 && headerRow[0] {
			sep := make([]string, cols)
			for j := range sep {
				sep[j] = "---"
			}
			lines = append(lines, "| "+strings.Join(sep, " | ")+" |")
		}
	}
	if caption != "" && len(lines) == 2 {
		lines = lines[:1]
	}
	if len(lines) > 0 {
		r.blocks = append(r.blocks, strings.Join(lines, "\n"))
	}
}

func span(cell *html.Node) int {
	n, err := strconv.Atoi(strings.TrimSpace(attr(cell, "colspan")))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, 50)
}

// isLayoutTable reports tables whose cells hold block content.
func isLayoutTable(rows [][]*html.Node) bool {
	for _, row := range rows {
		for _, cell := range row {
			layout := false
			walk(cell, func(c *html.Node) bool {
				if c.Type == html.ElementNode {
					switch c.DataAtom {
					case atom.Table, atom.P, atom.Ul, atom.Ol, atom.Pre, atom.Blockquote,
						atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
						layout = true
					}
				}
				return !layout
			})
			if layout {
				return true
			}
		}
	}
	return false
}

func allEmpty(xs []string) bool {
	for _, x := range xs {
		if x != "" {
			return false
		}
	}
	return true
}

// joinBlocks puts one blank line between blocks and makes sure nothing but code keeps
// trailing spaces or runs of blank lines.
func joinBlocks(blocks []string) string {
	var b strings.Builder
	for _, blk := range blocks {
		blk = strings.Trim(blk, "\n")
		if strings.TrimSpace(blk) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(blk)
	}
	return b.String()
}

// walk calls fn for n and its descendants in document order; fn returning false prunes
// that node's subtree.
func walk(n *html.Node, fn func(*html.Node) bool) {
	if !fn(n) {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func textContent(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	walk(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		return c.Type != html.ElementNode || (c.DataAtom != atom.Script && c.DataAtom != atom.Style)
	})
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
