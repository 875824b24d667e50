//go:build !wasip1

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/chunker")

// Golden files are chunked small so that every input makes several chunks and a reader
// can check the cuts by eye.
const (
	goldenSize    = 100
	goldenOverlap = 15
)

type goldenChunk struct {
	Heading string `json:"heading,omitempty"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Tokens  int    `json:"tokens"`
	Overlap int    `json:"overlap_tokens"`
	Text    string `json:"text"`
}

func TestChunkGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/chunker/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			text := string(raw)
			spans := chunkText(text, goldenSize, goldenOverlap)
			checkInvariants(t, text, goldenSize, goldenOverlap, spans)
			got := make([]goldenChunk, len(spans))
			for i, sp := range spans {
				got[i] = goldenChunk{Heading: sp.Heading, Start: sp.Start, End: sp.End, Tokens: sp.Tokens,
					Overlap: sp.overlap, Text: text[sp.Start:sp.End]}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("chunks differ from %s (run go test -update and review the diff):\n%s", golden, buf.String())
			}
		})
	}
	if n < 6 {
		t.Fatalf("found %d golden inputs in testdata/chunker, want at least 6", n)
	}
}

func TestCountTokens(t *testing.T) {
	long := strings.Repeat("x", 2*maxAtomRunes+1)
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{" \n\t ", 0},
		{"one", 1},
		{"one two\nthree", 3},
		{"3.14 e.g. U.S.", 3},
		{"分块算法", 4},
		{"分块算法。下一句", 7},
		{"Go语言2.0", 4},       // Go | 语 | 言 | 2.0
		{"好。Hello world", 3}, // 好。| Hello | world
		{"ひらがなカタカナ", 8},
		{long, 3}, // a run longer than maxAtomRunes counts per piece
		{"a " + long + " b", 5},
		{"\xff\xfe bad utf8", 3},
	}
	for _, tt := range tests {
		if got := countTokens(tt.in, 0, len(tt.in)); got != tt.want {
			t.Errorf("countTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// The chunker sums unit counts: counting must be additive across token boundaries.
func TestCountTokensAdditive(t *testing.T) {
	texts := []string{
		"The quick brown fox. 分块算法。Hello世界 " + strings.Repeat("y", 100) + " end",
		strings.Repeat("長い文章", 30),
	}
	for _, s := range texts {
		total := countTokens(s, 0, len(s))
		for _, a := range atomsOf(s, 0, len(s)) {
			if l, r := countTokens(s, 0, a.start), countTokens(s, a.start, len(s)); l+r != total {
				t.Fatalf("%q split at %d: %d + %d != %d", s, a.start, l, r, total)
			}
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	s := "one two  three four"
	for n, want := range map[int]string{0: "", 1: "one", 2: "one two", 4: s, 9: s} {
		if got := s[:prefixEnd(s, n)]; got != want {
			t.Errorf("prefixEnd(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"plain", "One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
		{"titles", "Dr. Smith met Mr. Jones. They talked.", []string{"Dr. Smith met Mr. Jones.", "They talked."}},
		{"e.g.", "Use a tool, e.g. Go. Or not.", []string{"Use a tool, e.g. Go.", "Or not."}},
		{"U.S. before lower case", "He lives in the U.S. and works. Then he left.", []string{"He lives in the U.S. and works.", "Then he left."}},
		{"U.S. before a capital", "He moved to the U.S. Then he left.", []string{"He moved to the U.S.", "Then he left."}},
		{"etc before capital", "Apples, pears, etc. The rest rotted.", []string{"Apples, pears, etc.", "The rest rotted."}},
		{"decimals", "It costs 3.14 dollars. Pi is 3.14159.", []string{"It costs 3.14 dollars.", "Pi is 3.14159."}},
		{"initials", "J. R. R. Tolkien wrote it. Then he slept.", []string{"J. R. R. Tolkien wrote it.", "Then he slept."}},
		{"ellipsis", "Wait... what? Then... Nothing.", []string{"Wait... what?", "Then...", "Nothing."}},
		{"quotes", `He said "Stop." Then he left.`, []string{`He said "Stop."`, "Then he left."}},
		{"quoted question", `"Is it?" she asked. "Yes."`, []string{`"Is it?" she asked.`, `"Yes."`}},
		{"brackets", "(See above.) Next one.", []string{"(See above.)", "Next one."}},
		{"lowercase next", "Yahoo! is a site. ok.", []string{"Yahoo! is a site. ok."}},
		{"year", "It ended in 2019. The next began.", []string{"It ended in 2019.", "The next began."}},
		{"list marker", "1. Buy milk", []string{"1. Buy milk"}},
		{"cjk", "这是第一句。这是第二句！第三句？", []string{"这是第一句。", "这是第二句！", "第三句？"}},
		{"no terminator", "just words here", []string{"just words here"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			splitSentences(tt.in, 0, len(tt.in), func(a, b int) { got = append(got, tt.in[a:b]) })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSplitLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"soft wrap", "a sentence that goes\non over lines and ends.\nNext one", []string{"a sentence that goes\non over lines and ends.", "Next one"}},
		{"list", "Intro:\n- one\n- two\n  continued\n- three", []string{"Intro:", "- one", "- two\n  continued", "- three"}},
		{"table", "| a | b |\n| --- | --- |\n| 1 | 2 |", []string{"| a | b |", "| --- | --- |", "| 1 | 2 |"}},
		{"title line", "Introduction\nThe text starts here", []string{"Introduction", "The text starts here"}},
		{"hard break", "line one  \nline two", []string{"line one", "line two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			splitLines(tt.in, 0, len(tt.in), false, func(a, b int) { got = append(got, tt.in[a:b]) })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSplitGroupsAvoidsCuttingLongRuns(t *testing.T) {
	run := strings.Repeat("z", 3*maxAtomRunes) // three glued tokens
	s := "a b " + run + " c"
	var got []string
	splitGroups(s, 0, len(s), 3, func(a, b int) { got = append(got, s[a:b]) })
	want := []string{"a b", run, "c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func words(n int, word string) string {
	return strings.TrimSpace(strings.Repeat(word+" ", n))
}

func TestChunkText(t *testing.T) {
	sent := func(n int) string { return "Word " + words(n-2, "word") + " end." }
	tests := []struct {
		name          string
		text          string
		size, overlap int
		check         func(t *testing.T, text string, spans []span)
	}{
		{"empty", " \n\n ", 50, 5, func(t *testing.T, _ string, spans []span) {
			if len(spans) != 0 {
				t.Errorf("got %d chunks of white space", len(spans))
			}
		}},
		{"tiny text is one chunk", "Just a note.", 50, 5, func(t *testing.T, text string, spans []span) {
			if len(spans) != 1 || spans[0].Start != 0 || spans[0].End != len(text) || spans[0].Tokens != 3 {
				t.Errorf("got %+v", spans)
			}
		}},
		{"paragraph boundary beats a later sentence boundary", sent(30) + " " + sent(25) + "\n\n" + sent(30) + " " + sent(30),
			100, 0, func(t *testing.T, text string, spans []span) {
				if spans[0].Tokens != 55 {
					t.Errorf("first chunk has %d tokens, want the first paragraph (55)", spans[0].Tokens)
				}
			}},
		{"heading stays with what follows", sent(40) + "\n\n## Next part\n\n" + sent(60), 100, 0,
			func(t *testing.T, text string, spans []span) {
				if len(spans) != 2 || !strings.HasPrefix(text[spans[1].Start:], "## Next part") {
					t.Errorf("got %s", show(text, spans))
				}
				if len(spans) == 2 && (spans[1].Heading != "Next part" || spans[0].Heading != "") {
					t.Errorf("headings %q, %q", spans[0].Heading, spans[1].Heading)
				}
			}},
		{"heading path", "# A\n\ntext a.\n\n## B\n\ntext b.\n\n### C\n\n" + sent(60) + "\n\n## D\n\n" + sent(60), 80, 0,
			func(t *testing.T, text string, spans []span) {
				var got []string
				for _, sp := range spans {
					got = append(got, sp.Heading)
				}
				if want := []string{"A", "A > D"}; !reflect.DeepEqual(got, want) {
					t.Errorf("headings %q, want %q\n%s", got, want, show(text, spans))
				}
			}},
		{"setext heading", "Title\n=====\n\n" + sent(60) + "\n\nPart two\n--------\n\n" + sent(60), 80, 0,
			func(t *testing.T, text string, spans []span) {
				if len(spans) != 2 || spans[0].Heading != "Title" || spans[1].Heading != "Title > Part two" {
					t.Errorf("got %s", show(text, spans))
				}
			}},
		{"code block kept whole", sent(50) + "\n\n```go\n" + strings.Repeat("x := f(y) // step\n", 10) + "```\n\n" + sent(5),
			100, 10, func(t *testing.T, text string, spans []span) {
				for _, sp := range spans {
					if strings.Count(text[sp.Start:sp.End], "```")%2 != 0 {
						t.Errorf("a chunk cuts the code block:\n%s", show(text, spans))
					}
				}
			}},
		{"code block longer than a chunk is cut at lines", "```\n" + strings.Repeat("line of code here\n", 60) + "```", 50, 0,
			func(t *testing.T, text string, spans []span) {
				if len(spans) < 4 {
					t.Fatalf("got %d chunks", len(spans))
				}
				for _, sp := range spans[:len(spans)-1] {
					if !strings.HasSuffix(text[sp.Start:sp.End], "here") && !strings.HasSuffix(text[sp.Start:sp.End], "```") {
						t.Errorf("chunk ends mid-line: %q", text[sp.Start:sp.End])
					}
				}
			}},
		{"heading inside a code block is code", "```\n# not a heading\n```\n\ntext.", 50, 0,
			func(t *testing.T, _ string, spans []span) {
				if len(spans) != 1 || spans[0].Heading != "" {
					t.Errorf("got %+v", spans)
				}
			}},
		{"overlap starts on a sentence", sent(10) + " " + sent(10) + " " + sent(10) + " " + sent(10) + " " + sent(10) + " " + sent(10) + " " + sent(10),
			40, 12, func(t *testing.T, text string, spans []span) {
				if len(spans) < 2 {
					t.Fatalf("got %d chunks", len(spans))
				}
				for _, sp := range spans[1:] {
					if sp.overlap != 10 || !strings.HasPrefix(text[sp.Start:], "Word") || text[sp.Start-2:sp.Start] != ". " {
						t.Errorf("overlap of %d tokens at %q", sp.overlap, text[sp.Start:min(sp.Start+20, sp.End)])
					}
				}
			}},
		{"overlap falls back to words in one long sentence", words(300, "w"), 100, 10,
			func(t *testing.T, _ string, spans []span) {
				for _, sp := range spans[1:] {
					if sp.overlap != 10 {
						t.Errorf("overlap %d, want 10", sp.overlap)
					}
				}
			}},
		{"no overlap before a heading", sent(90) + "\n\n# Two\n\n" + sent(90), 100, 20,
			func(t *testing.T, text string, spans []span) {
				if len(spans) != 2 || spans[1].overlap != 0 || !strings.HasPrefix(text[spans[1].Start:], "# Two") {
					t.Errorf("got %s", show(text, spans))
				}
			}},
		{"tiny tail merged", sent(95) + " " + sent(10), 100, 10,
			func(t *testing.T, text string, spans []span) {
				if len(spans) != 1 || spans[0].Tokens != 105 {
					t.Errorf("got %s", show(text, spans))
				}
			}},
		{"bigger tail kept", sent(95) + " " + sent(30), 100, 10,
			func(t *testing.T, text string, spans []span) {
				if len(spans) != 2 {
					t.Errorf("got %s", show(text, spans))
				}
			}},
		{"no spaces at all", strings.Repeat("汉字", 500), 100, 10,
			func(t *testing.T, text string, spans []span) {
				if len(spans) < 10 {
					t.Errorf("got %d chunks of 1000 characters at size 100", len(spans))
				}
			}},
		{"size 1", "a b c. d e.", 1, 1, func(t *testing.T, text string, spans []span) {
			if len(spans) != 5 {
				t.Errorf("got %s", show(text, spans))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans := chunkText(tt.text, tt.size, tt.overlap)
			checkInvariants(t, tt.text, tt.size, tt.overlap, spans)
			tt.check(t, tt.text, spans)
		})
	}
}

func show(text string, spans []span) string {
	var b strings.Builder
	for i, sp := range spans {
		fmt.Fprintf(&b, "#%d %q %d tokens (%d overlap): %q\n", i, sp.Heading, sp.Tokens, sp.overlap, text[sp.Start:sp.End])
	}
	return b.String()
}

// checkInvariants asserts what every chunking must satisfy (see span).
func checkInvariants(t *testing.T, text string, size, overlap int, spans []span) {
	t.Helper()
	size = max(size, 1)
	overlap = max(0, min(overlap, size/2))
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		if len(spans) != 0 {
			t.Fatalf("%d chunks of white space", len(spans))
		}
		return
	}
	if len(spans) == 0 {
		t.Fatal("no chunks")
	}
	c := &chunker{text: text, size: size, overlap: overlap}
	c.parse()
	stickyEnd := map[int]bool{}
	for _, u := range c.units {
		if u.sticky {
			stickyEnd[u.end] = true
		}
	}
	var bodies strings.Builder
	prevEnd := 0
	for i, sp := range spans {
		if sp.Start < 0 || sp.Start >= sp.End || sp.End > len(text) {
			t.Fatalf("chunk %d: offsets [%d, %d) out of range (len %d)", i, sp.Start, sp.End, len(text))
		}
		if i > 0 && (sp.End <= prevEnd || sp.Start <= spans[i-1].Start) {
			t.Fatalf("chunk %d: [%d, %d) does not move past chunk %d [%d, %d)", i, sp.Start, sp.End, i-1, spans[i-1].Start, prevEnd)
		}
		chunk := text[sp.Start:sp.End]
		if strings.TrimFunc(chunk, unicode.IsSpace) != chunk {
			t.Errorf("chunk %d has surrounding white space: %q", i, chunk)
		}
		if utf8.ValidString(text) && (!utf8.RuneStart(text[sp.Start]) || sp.End < len(text) && !utf8.RuneStart(text[sp.End])) {
			t.Errorf("chunk %d cuts a character", i)
		}
		if got := countTokens(text, sp.Start, sp.End); got != sp.Tokens {
			t.Errorf("chunk %d: Tokens = %d, the text has %d", i, sp.Tokens, got)
		}
		limit := size
		if i == len(spans)-1 {
			limit = size * 6 / 5
		}
		if sp.Tokens > max(limit, 1) {
			t.Errorf("chunk %d has %d tokens, over %d (size %d)", i, sp.Tokens, limit, size)
		}
		bodyStart := max(sp.Start, prevEnd)
		if gap := text[prevEnd:bodyStart]; strings.TrimFunc(gap, unicode.IsSpace) != "" {
			t.Errorf("text between chunk %d and %d is in no chunk: %q", i-1, i, gap)
		}
		if ov := countTokens(text, sp.Start, min(sp.End, max(prevEnd, sp.Start))); ov != sp.overlap || ov > overlap {
			t.Errorf("chunk %d: overlap of %d tokens (recorded %d), limit %d", i, ov, sp.overlap, overlap)
		}
		if i < len(spans)-1 && stickyEnd[sp.End] {
			t.Errorf("chunk %d ends with a heading: %q", i, chunk)
		}
		bodies.WriteString(text[bodyStart:sp.End])
		prevEnd = sp.End
	}
	if rest := text[prevEnd:]; strings.TrimFunc(rest, unicode.IsSpace) != "" {
		t.Errorf("text after the last chunk: %q", rest)
	}
	if stripSpace(bodies.String()) != stripSpace(text) {
		t.Error("chunk bodies do not add up to the text")
	}
	if again := chunkText(text, size, overlap); !reflect.DeepEqual(again, spans) {
		t.Error("chunking is not deterministic")
	}
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// randomDoc builds a document from the pieces that stress the chunker.
func randomDoc(r *rand.Rand) string {
	pieces := []string{
		"word", "Word", "sentence.", "Dr.", "e.g.", "U.S.", "3.14", "end!", "why?", "wait...", `"quoted."`,
		"(aside.)", "分块", "算法。", "ひらがな", "\n", "\n\n", "\n\n# Heading\n\n", "\n## Sub heading\n",
		"\n\n```\ncode line\nmore code\n```\n\n", "\n- item", "\n| a | b |", "\n1. first", " ", "  ",
		strings.Repeat("x", 70), "https://example.org/a/very/long/path/that/goes/on/and/on", "—", ",", ";",
		"\n===\n", "\n---\n", "\xff", "#", "```",
	}
	var b strings.Builder
	for n := r.Intn(400); n > 0; n-- {
		b.WriteString(pieces[r.Intn(len(pieces))])
		if r.Intn(3) > 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func TestChunkProperties(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		text := randomDoc(r)
		size := []int{1, 3, 8, 20, 50, 120}[r.Intn(6)]
		overlap := r.Intn(size + 1)
		spans := chunkText(text, size, overlap)
		ok := t.Run(fmt.Sprintf("doc%d/size%d/overlap%d", i, size, overlap), func(t *testing.T) {
			checkInvariants(t, text, size, overlap, spans)
		})
		if !ok {
			t.Logf("text: %q", text)
			return
		}
	}
}

func FuzzChunk(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/chunker/*")
	for _, in := range inputs {
		if raw, err := os.ReadFile(in); err == nil && !strings.HasSuffix(in, ".json") {
			f.Add(string(raw), 60, 10)
		}
	}
	f.Add("# A\n## B\n### C\ntext", 4, 2)
	f.Add("```\nunclosed fence", 3, 1)
	f.Add("a\n===\nb\n---\n", 2, 5)
	f.Fuzz(func(t *testing.T, text string, size, overlap int) {
		size = 1 + abs(size)%600
		overlap = abs(overlap) % (size + 1)
		checkInvariants(t, text, size, overlap, chunkText(text, size, overlap))
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
