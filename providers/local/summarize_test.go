package local

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func sentences(s string) []string {
	var out []string
	for _, sp := range SplitSentences(s) {
		out = append(out, sp.Text(s))
	}
	return out
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"simple", "One here. Two there! Three? Four", []string{"One here.", "Two there!", "Three?", "Four"}},
		{"title abbreviation", "Dr. Smith arrived. He sat down.", []string{"Dr. Smith arrived.", "He sat down."}},
		{"e.g. and i.e.", "Use a tool, e.g. a hammer. It works, i.e. it drives nails.", []string{"Use a tool, e.g. a hammer.", "It works, i.e. it drives nails."}},
		{"decimal", "Pi is 3.14 roughly. Yes.", []string{"Pi is 3.14 roughly.", "Yes."}},
		{"domain", "Visit example.com today. Thanks.", []string{"Visit example.com today.", "Thanks."}},
		{"quote after stop", `He said "Stop." Then he left.`, []string{`He said "Stop."`, "Then he left."}},
		{"dialogue continues", `"Is it?" she asked. Yes.`, []string{`"Is it?" she asked.`, "Yes."}},
		{"initials", "J. R. R. Tolkien wrote it. Done.", []string{"J. R. R. Tolkien wrote it.", "Done."}},
		{"pronoun I ends", "So did I. Then we went.", []string{"So did I.", "Then we went."}},
		{"etc before capital", "Apples, pears, etc. We left.", []string{"Apples, pears, etc.", "We left."}},
		{"etc before lowercase", "Apples, pears, etc. and more.", []string{"Apples, pears, etc. and more."}},
		{"ellipsis continues", "Wait... what happened? Nothing.", []string{"Wait... what happened?", "Nothing."}},
		{"ellipsis ends", "Wait... Nothing happened.", []string{"Wait...", "Nothing happened."}},
		{"interrobang", "Really?! Yes.", []string{"Really?!", "Yes."}},
		{"parenthesis", "It works (mostly.) Good.", []string{"It works (mostly.)", "Good."}},
		{"paragraphs", "First paragraph without stop\n\nSecond one", []string{"First paragraph without stop", "Second one"}},
		{"list items", "Shopping:\n- milk\n- eggs\n1. first\n2) second", []string{"Shopping:", "- milk", "- eggs", "1. first", "2) second"}},
		{"numbered marker not a sentence", "1. Buy milk today", []string{"1. Buy milk today"}},
		{"heading", "# Title\nBody text here.", []string{"# Title", "Body text here."}},
		{"title line", "Meeting notes\nWe discussed the budget.", []string{"Meeting notes", "We discussed the budget."}},
		{"wrapped prose", "we went to the shop and\nbought some bread.", []string{"we went to the shop and\nbought some bread."}},
		{"cjk", "東京は日本の首都です。大阪も大きい。", []string{"東京は日本の首都です。", "大阪も大きい。"}},
		{"trims space", "  Hello there.   Bye.  ", []string{"Hello there.", "Bye."}},
		{"crlf", "Line one.\r\nLine two.", []string{"Line one.", "Line two."}},
		{"empty", "", nil},
		{"only space", " \n\n ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sentences(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("SplitSentences(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzSplitSentences(f *testing.F) {
	for _, s := range []string{"", "A. B.", "Dr. X. e.g. y.", "3.14. 2.", "\"Hi.\" she said.", "a\n\nb", "- x\n- y", "東京。大阪。", "東京大学の研究。東京大学", "...", ". . .", "\xff.\xfe ", "1. ", "#", "x\n#", "’. ’"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans := SplitSentences(s)
		prev := 0
		for i, sp := range spans {
			if sp.Start < prev || sp.Start >= sp.End || sp.End > len(s) {
				t.Fatalf("span %d = %+v out of order or range (previous end %d, len %d)", i, sp, prev, len(s))
			}
			text := sp.Text(s)
			if strings.TrimSpace(text) != text {
				t.Fatalf("span %d %q is not trimmed", i, text)
			}
			if utf8.ValidString(s) && !utf8.ValidString(text) {
				t.Fatalf("span %d %q splits a rune", i, text)
			}
			prev = sp.End
		}
		if strings.TrimSpace(s) != "" && utf8.ValidString(s) && len(spans) == 0 {
			t.Fatalf("no sentences in %q", s)
		}
		// The tools built on the splitter must not panic either, and a non-empty text
		// always has a summary.
		if sum := Summarize(s, 2); len(spans) > 0 && sum == "" {
			t.Fatalf("empty summary of %q", s)
		}
		if kw := Keywords(s, 5); len(kw) > 5 {
			t.Fatalf("%d keywords", len(kw))
		}
	})
}

const article = `Cortex is a local-first knowledge backend. It stores notes, bookmarks and documents in SQLite and indexes them with embeddings.
Search combines full-text ranking with vector similarity. Embeddings are computed by a provider: the local hashed embedder, Ollama, or any OpenAI-compatible endpoint.
The local provider needs no downloads. It is deterministic and fast, which makes it a good default for tests.
Chat answers are grounded in saved items. Every answer cites its sources with numbers in brackets.
When Ollama is not running, Cortex keeps working with the local provider. Jobs that need a remote model wait and retry.
The weather was nice yesterday. My cat likes to sleep on the keyboard.`

func TestSummarize(t *testing.T) {
	all := sentences(article)
	tests := []struct {
		name    string
		text    string
		max     int
		want    []string // sentences that must be in the summary
		exclude []string // sentences that must not be
	}{
		{"central sentences win", article, 3,
			[]string{"Embeddings are computed by a provider: the local hashed embedder, Ollama, or any OpenAI-compatible endpoint."},
			[]string{"The weather was nice yesterday.", "My cat likes to sleep on the keyboard."}},
		{"one sentence", article, 1, nil, []string{"The weather was nice yesterday."}},
		{"short text returned whole", "Only one sentence here.", 3, []string{"Only one sentence here."}, nil},
		{"white space collapsed", "Two  lines\nof text.", 2, []string{"Two lines of text."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.text, tt.max)
			if got == "" {
				t.Fatal("empty summary")
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary %q lacks %q", got, w)
				}
			}
			for _, x := range tt.exclude {
				if strings.Contains(got, x) {
					t.Errorf("summary %q contains %q", got, x)
				}
			}
			// The summary is made of whole sentences of the text, at most max, in order.
			picked := sentences(got)
			if len(picked) > tt.max {
				t.Errorf("summary has %d sentences, want at most %d: %q", len(picked), tt.max, got)
			}
			if tt.text == article {
				last := -1
				for _, p := range picked {
					i := slices.Index(all, p)
					if i < 0 {
						t.Fatalf("summary sentence %q is not a sentence of the text", p)
					}
					if i <= last {
						t.Fatalf("summary sentences out of order: %q", got)
					}
					last = i
				}
			}
		})
	}
	if got := Summarize(article, 0); got != "" {
		t.Errorf("Summarize(text, 0) = %q, want empty", got)
	}
	if got := Summarize("It is. So it was. No. Then.", 2); got != "It is. So it was." {
		t.Errorf("summary of stop words = %q, want the opening", got)
	}
	if got := Summarize("", 3); got != "" {
		t.Errorf("Summarize(\"\", 3) = %q, want empty", got)
	}
}

func TestSummarizeLeavesOutHeadings(t *testing.T) {
	text := "## Gravity waves\n\nGravitational waves are ripples in spacetime caused by accelerating masses. They were first detected in 2015 by LIGO."
	want := "Gravitational waves are ripples in spacetime caused by accelerating masses. They were first detected in 2015 by LIGO."
	if got := Summarize(text, 3); got != want {
		t.Errorf("Summarize = %q, want %q", got, want)
	}
	if got := Summarize("# Only a title", 3); got != "# Only a title" {
		t.Errorf("Summarize of a lone heading = %q, want it kept", got)
	}
	if got := Summarize("#hashtag is not a heading.", 3); got != "#hashtag is not a heading." {
		t.Errorf("Summarize = %q", got)
	}
}

func TestSummarizeSkipsRepetition(t *testing.T) {
	text := "Vector search finds similar notes quickly. Vector search finds similar notes very quickly. " +
		"Backups of the notes run nightly. The notes sync across devices. Notes can be tagged."
	got := sentences(Summarize(text, 2))
	if len(got) != 2 {
		t.Fatalf("got %d sentences: %q", len(got), got)
	}
	if strings.HasPrefix(got[0], "Vector search") && strings.HasPrefix(got[1], "Vector search") {
		t.Fatalf("summary repeats itself: %q", got)
	}
}

func TestKeywords(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		k       int
		want    []string // must appear
		exclude []string // must not appear
	}{
		{"frequency and singular", "Models are great. The models run locally. A model needs memory.", 3,
			[]string{"model"}, []string{"models", "the", "are"}},
		{"recurring phrase", "Vector search is fast. Vector search uses embeddings. Embeddings are vectors.", 4,
			[]string{"vector search", "embedding"}, []string{"search"}},
		{"no numbers or short words", "In 2024 we had 3 AI ML ops and 2024 again. Cortex Cortex.", 5,
			[]string{"cortex"}, []string{"2024", "ai", "ml", "3"}},
		{"phrases do not cross punctuation", "Notes, search. Notes, search.", 5,
			[]string{"note", "search"}, []string{"note search"}},
		{"lowercase", "SQLite SQLite Ollama", 2, []string{"sqlite", "ollama"}, nil},
		// CJK runs tokenize as overlapping bigrams; two of them are not a phrase (and once
		// made Keywords slice text[end:start] backwards).
		{"overlapping CJK bigrams", "東京大学の研究。東京大学の研究は面白い。", 5, []string{"東京"}, []string{"東京 京大"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Keywords(tt.text, tt.k)
			if len(got) > tt.k {
				t.Fatalf("got %d keywords, want at most %d: %q", len(got), tt.k, got)
			}
			seen := map[string]bool{}
			for _, g := range got {
				if seen[g] {
					t.Fatalf("duplicate keyword %q in %q", g, got)
				}
				seen[g] = true
				if g != strings.ToLower(g) {
					t.Fatalf("keyword %q is not lowercase", g)
				}
			}
			for _, w := range tt.want {
				if !seen[w] {
					t.Errorf("keywords %q lack %q", got, w)
				}
			}
			for _, x := range tt.exclude {
				if seen[x] {
					t.Errorf("keywords %q contain %q", got, x)
				}
			}
		})
	}
	if got := Keywords("vectors vectors search", 1); !slices.Equal(got, []string{"vector"}) {
		t.Errorf("Keywords(k=1) = %q, want [vector]", got)
	}
	if got := Keywords("anything", 0); got != nil {
		t.Errorf("Keywords(k=0) = %q, want nil", got)
	}
}

func BenchmarkSummarize(b *testing.B) {
	text := strings.Repeat(article+"\n\n", 4)
	b.ReportAllocs()
	for b.Loop() {
		if Summarize(text, 3) == "" {
			b.Fatal("empty summary")
		}
	}
}
