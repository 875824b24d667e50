package local

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cortexhq/cortex/providers"
)

func embed(t testing.TB, c *Client, texts ...string) [][]float32 {
	t.Helper()
	vs, err := c.Embed(context.Background(), texts, providers.PurposeDocument)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(vs) != len(texts) {
		t.Fatalf("Embed returned %d vectors for %d texts", len(vs), len(texts))
	}
	return vs
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestIdentity(t *testing.T) {
	got := New().Identity()
	want := providers.EmbeddingIdentity{Provider: "local", Model: "cortex-local-hash-v1", Dimensions: 384}
	if got != want {
		t.Fatalf("Identity() = %+v, want %+v", got, want)
	}
}

func TestEmbedDeterministic(t *testing.T) {
	texts := []string{
		"SQLite stores the vectors next to the notes.",
		"Le café est très bon à Montréal.",
		"東京は日本の首都です",
		"",
	}
	a := embed(t, New(), texts...)
	// A different client, a different batch order and repeated calls must all agree:
	// stored vectors are compared with query vectors computed much later.
	c := New()
	rev := slices.Clone(texts)
	slices.Reverse(rev)
	b := embed(t, c, rev...)
	slices.Reverse(b)
	for range 3 {
		embed(t, c, "warm up the scratch buffers with something else entirely")
	}
	d := embed(t, c, texts...)
	for i := range texts {
		if !slices.Equal(a[i], b[i]) || !slices.Equal(a[i], d[i]) {
			t.Errorf("vector of %q differs between calls", texts[i])
		}
	}
	if len(a[0]) != Dimensions {
		t.Fatalf("len = %d, want %d", len(a[0]), Dimensions)
	}
}

func TestEmbedNorm(t *testing.T) {
	tests := []struct {
		name string
		text string
		zero bool
	}{
		{"prose", "The quick brown fox jumps over the lazy dog.", false},
		{"accents", "Crème brûlée, naïve façade, São Paulo, Ærøskøbing", false},
		{"cjk", "東京は日本の首都です。大阪も大きい。", false},
		{"single cjk", "猫", false},
		{"mixed scripts", "Привет мир — مرحبا بالعالم — γειά σου κόσμε", false},
		{"numbers", "2024 2025 3.14", false},
		{"long word", strings.Repeat("a", 10000), false},
		{"empty", "", true},
		{"white space", " \n\t ", true},
		{"punctuation", "!!! ... ??? ---", true},
		{"emoji only", "🎉🔥👍🏽", true},
		{"stop words only", "the of and to in it is was", true},
		{"invalid utf8", "\xff\xfe\xfd", true},
		{"emoji and words", "🎉 party time 🔥", false},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := embed(t, c, tt.text)[0]
			for i, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("v[%d] = %v", i, x)
				}
			}
			n := norm(v)
			if tt.zero {
				if n != 0 {
					t.Fatalf("norm = %v, want the zero vector", n)
				}
				return
			}
			if math.Abs(n-1) > 1e-5 {
				t.Fatalf("norm = %v, want 1", n)
			}
		})
	}
}

func TestEmbedSimilarity(t *testing.T) {
	tests := []struct {
		query, related, unrelated string
	}{
		{"the runner runs quickly", "running fast", "The committee approved the annual budget."},
		{"vector search in SQLite", "SQLite stores embeddings for vector similarity search", "My cat sleeps on the keyboard all afternoon."},
		{"models", "The model was trained on a small dataset.", "Bread rises in a warm kitchen."},
		{"ollama embeddings", "Embedding with Ollama needs the model pulled first.", "The train to Paris leaves at nine."},
		{"connectivity problems", "The connection was refused because the server is down.", "Tomatoes grow best in full sun."},
		{"café", "un café crème", "a bicycle repair shop"},
		{"東京", "東京は日本の首都です", "大阪の食べ物"},
	}
	c := New()
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v := embed(t, c, tt.query, tt.related, tt.unrelated)
			rel, unrel := dot(v[0], v[1]), dot(v[0], v[2])
			if rel <= unrel {
				t.Fatalf("cos(query, related) = %.3f <= cos(query, unrelated) = %.3f", rel, unrel)
			}
			if rel < 0.05 {
				t.Fatalf("cos(query, related) = %.3f, want a clear similarity", rel)
			}
		})
	}
}

func TestEmbedRanking(t *testing.T) {
	corpus := []string{
		"Backups run every night and copy the SQLite database to an external disk.",
		"The recipe needs flour, butter, sugar and two eggs; bake for forty minutes.",
		"Ollama serves local language models over HTTP on port 11434.",
		"Our hiking trip crossed three mountain passes in the Alps.",
		"Invoices are due thirty days after the end of the month.",
	}
	tests := []struct {
		query string
		want  int
	}{
		{"how often are database backups made", 0},
		{"baking with butter and eggs", 1},
		{"which port does ollama listen on", 2},
		{"mountains hikes", 3},
		{"when is an invoice due", 4},
	}
	c := New()
	docs := embed(t, c, corpus...)
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q := embed(t, c, tt.query)[0]
			best, bestScore := -1, math.Inf(-1)
			for i, d := range docs {
				if s := dot(q, d); s > bestScore {
					best, bestScore = i, s
				}
			}
			if best != tt.want {
				t.Fatalf("best match %d (%q), want %d (%q)", best, corpus[best], tt.want, corpus[tt.want])
			}
		})
	}
}

func TestEmbedCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New().Embed(ctx, []string{"text"}, providers.PurposeQuery)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestEmbedZeroValueClient(t *testing.T) {
	var c Client
	v, err := c.Embed(context.Background(), []string{"still works"}, providers.PurposeDocument)
	if err != nil || math.Abs(norm(v[0])-1) > 1e-5 {
		t.Fatalf("Embed on zero Client = %v, %v", v, err)
	}
}

func tokens(s string) []string {
	var tok tokenizer
	tok.reset(s)
	var out []string
	for {
		w, _, _, ok := tok.next()
		if !ok {
			return out
		}
		out = append(out, string(w))
	}
}

func TestTokenizer(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello, World!", []string{"hello", "world"}},
		{"don't stop", []string{"dont", "stop"}},
		{"O’Reilly's book", []string{"oreillys", "book"}},
		{"'quoted' words", []string{"quoted", "words"}},
		{"state-of-the-art", []string{"state", "of", "the", "art"}},
		{"Crème BRÛLÉE", []string{"crème", "brûlée"}},
		{"v2 API 3.14", []string{"v2", "api", "3", "14"}},
		{"東京は日本", []string{"東京", "京は", "は日", "日本"}},
		{"猫 and 犬", []string{"猫", "and", "犬"}},
		{"word東京", []string{"word", "東京"}},
		{"🎉party🔥", []string{"party"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := tokens(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("tokens(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"running", "run"},
		{"runs", "run"},
		{"runner", "run"},
		{"run", "run"},
		{"quickly", "quick"},
		{"stories", "stor"},
		{"story", "stor"},
		{"copied", "cop"},
		{"copies", "cop"},
		{"copy", "cop"},
		{"classes", "class"},
		{"status", "status"},
		{"analysis", "analysis"},
		{"played", "pla"},
		{"playing", "pla"},
		{"embeddings", "embed"},
		{"embedding", "embed"},
		{"embedded", "embed"},
		{"café", "café"},
	}
	for _, tt := range tests {
		if got := tt.in[:stemLen([]byte(tt.in))]; got != tt.want {
			t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSingular(t *testing.T) {
	tests := []struct{ in, want string }{
		{"models", "model"},
		{"stories", "story"},
		{"boxes", "box"},
		{"classes", "class"},
		{"matches", "match"},
		{"status", "status"},
		{"analysis", "analysis"},
		{"famous", "famous"},
		{"model", "model"},
		{"bus", "bus"},
		{"cafés", "cafés"},
	}
	for _, tt := range tests {
		if got := singular(tt.in); got != tt.want {
			t.Errorf("singular(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzTokenize checks the tokenizer and the embedder on arbitrary input: tokens are
// non-empty, lowercase, valid UTF-8 and point into the input in order, and the vector is
// either unit length or zero.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "don't", "東京は日本", "a'", "'", "’x", "x’", "\xff\xfe", "🎉a🎉", "İstanbul", strings.Repeat("é", 100)} {
		f.Add(s)
	}
	c := New()
	f.Fuzz(func(t *testing.T, s string) {
		var tok tokenizer
		tok.reset(s)
		lastStart := -1
		for {
			w, start, end, ok := tok.next()
			if !ok {
				break
			}
			if len(w) == 0 || len(w) > maxTokenBytes+utf8.UTFMax {
				t.Fatalf("token %q has length %d", w, len(w))
			}
			if !utf8.Valid(w) {
				t.Fatalf("token %q is not valid UTF-8", w)
			}
			for _, r := range string(w) {
				if unicode.ToLower(r) != r {
					t.Fatalf("token %q is not lowercase", w)
				}
			}
			if start < 0 || start >= end || end > len(s) || start < lastStart {
				t.Fatalf("token %q at [%d,%d) out of order or range (len %d, previous start %d)", w, start, end, len(s), lastStart)
			}
			lastStart = start
		}
		v, err := c.Embed(context.Background(), []string{s}, providers.PurposeQuery)
		if err != nil {
			t.Fatal(err)
		}
		if n := norm(v[0]); math.IsNaN(n) || (n != 0 && math.Abs(n-1) > 1e-4) {
			t.Fatalf("norm = %v", n)
		}
	})
}

// chunk500 is a ~500-word chunk, the size the store embeds. Real prose has a few hundred
// distinct words per chunk, and distinct words are what cost (each gets its n-grams), so
// the chunk mixes common words with made-up ones from a fixed pseudo-random sequence.
func chunk500() string {
	common := strings.Fields(`the a of and to in is that it for on with as was notes search
	index query model vector chunk answer cortex local provider embedding database sqlite`)
	syllables := []string{"ka", "lo", "mer", "tin", "sa", "ra", "ven", "dor", "qui", "pe", "lun", "est", "ion", "ble", "ar"}
	var b strings.Builder
	x := uint32(2463534242)
	for i := 0; i < 500; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if i > 0 {
			b.WriteByte(' ')
		}
		if x%2 == 0 {
			b.WriteString(common[int(x/2)%len(common)])
			continue
		}
		for n := 2 + int(x>>8)%3; n > 0; n-- {
			b.WriteString(syllables[int(x>>(4*n))%len(syllables)])
		}
		if x%7 == 0 {
			b.WriteString(".")
		}
	}
	return b.String()
}

func BenchmarkEmbed(b *testing.B) {
	c := New()
	ctx := context.Background()
	texts := []string{chunk500()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Embed(ctx, texts, providers.PurposeDocument); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "chunks/s")
	distinct := map[string]bool{}
	for _, w := range tokens(texts[0]) {
		distinct[w] = true
	}
	b.ReportMetric(float64(len(distinct)), "distinct-words")
}
