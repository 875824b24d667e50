package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/cortexhq/cortex/store"
	"github.com/cortexhq/cortex/store/storetest"
)

func seedChunks(t testing.TB, db *store.DB, title, source string, tags []string, texts ...string) string {
	t.Helper()
	ctx := context.Background()
	it, _, err := db.CreateItem(ctx, store.NewItem{Title: title, Content: title + texts[0], Source: source, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	chunks := make([]store.Chunk, len(texts))
	for i, tx := range texts {
		chunks[i] = store.Chunk{Text: tx}
	}
	if _, err := db.ReplaceChunks(ctx, it.ID, chunks, nil, nil); err != nil {
		t.Fatal(err)
	}
	return it.ID
}

func TestKeywordSearch(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	bread := seedChunks(t, db, "Sourdough basics", "manual", []string{"baking"}, "Feed the starter with rye flour every morning.", "Bake at high heat in a covered pot.")
	rust := seedChunks(t, db, "Rust ownership", "browser_extension", []string{"programming"}, "Every value has a single owner; borrowing lends access without moving it.")
	phrase := seedChunks(t, db, "Notes", "manual", nil, "The rye flour was cheap. Morning came early.")

	search := func(q string, f store.SearchFilter) []store.ChunkHit {
		t.Helper()
		hits, err := db.KeywordSearch(ctx, store.ParseKeywordQuery(q), f, 10, true)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		return hits
	}
	if hits := search("rye flour", store.SearchFilter{}); len(hits) != 2 || hits[0].ItemID != bread && hits[0].ItemID != phrase {
		t.Errorf("rye flour: %+v", hits)
	}
	if hits := search(`"flour every morning"`, store.SearchFilter{}); len(hits) != 1 || hits[0].ItemID != bread {
		t.Errorf("phrase: %+v", hits)
	}
	if hits := search("sourdough", store.SearchFilter{}); len(hits) != 2 || hits[0].ItemID != bread {
		t.Errorf("title match should find both chunks of the item: %+v", hits)
	}
	if hits := search("borrowed owners", store.SearchFilter{}); len(hits) != 1 || hits[0].ItemID != rust {
		t.Errorf("stemmed forms: %+v", hits)
	}
	if hits := search("flour", store.SearchFilter{Tags: []string{"Baking"}}); len(hits) != 1 || hits[0].ItemID != bread {
		t.Errorf("tag filter: %+v", hits)
	}
	if hits := search("flour", store.SearchFilter{Sources: []string{"browser_extension"}}); len(hits) != 0 {
		t.Errorf("source filter: %+v", hits)
	}
	if hits := search("flour", store.SearchFilter{CreatedAfter: time.Now().Add(time.Hour)}); len(hits) != 0 {
		t.Errorf("date filter: %+v", hits)
	}
	if hits := search("flour", store.SearchFilter{ItemIDs: []string{phrase}}); len(hits) != 1 || hits[0].ItemID != phrase {
		t.Errorf("item filter: %+v", hits)
	}
	for _, hostile := range []string{`"`, `"unbalanced`, `a AND`, `NOT`, `NEAR(a b)`, `title:rust`, `rust*`, `^rust`, `-rust`, `(rust`,
		`'; DROP TABLE items; --`, `🦀 rust 🦀`, `""`, `AND OR NOT`, `\`, `{}`, `rust:`, `*`, `NEAR/2`} {
		if _, err := db.KeywordSearch(ctx, store.ParseKeywordQuery(hostile), store.SearchFilter{}, 10, false); err != nil {
			t.Errorf("%q: %v", hostile, err)
		}
	}
	if hits := search("title:rust", store.SearchFilter{}); len(hits) != 1 || hits[0].ItemID != rust {
		t.Errorf("a column filter is text: %+v", hits)
	}
}

func TestParseKeywordQuery(t *testing.T) {
	tests := []struct {
		in, match string
	}{
		{"machine learning", `"machine" OR "learning"`},
		{"What is the capital of France?", `"capital" OR "france"`},
		{`"deep learning" models`, `"deep learning" AND ("deep learning" OR "models")`},
		{`"unbalanced quote`, `"unbalanced" OR "quote"`},
		{"to be or not to be", `"to be or not to be"`},
		{"the", `"the"`},
		{`say "hi"`, `"say" OR "hi"`},
		{"AND OR NOT", `"and or not"`},
		{"QX-7731-ZB", `"qx 7731 zb" OR "qx" OR "7731" OR "zb"`},
		{"node.js streams", `"node js" OR "node" OR "js" OR "streams"`},
		{"", ``},
		{"!!! ???", ``},
	}
	for _, tc := range tests {
		if got := store.ParseKeywordQuery(tc.in).Match; got != tc.match {
			t.Errorf("ParseKeywordQuery(%q).Match = %s; want %s", tc.in, got, tc.match)
		}
	}
}

// FuzzKeywordQuery runs whatever a user might type against a real FTS5 index: it must
// never be a syntax error.
func FuzzKeywordQuery(f *testing.F) {
	for _, s := range []string{`"a" b`, `NEAR(a b, 2)`, `a:b`, `"`, `x*`, `^y`, `-z`, `(`, `🦀`, `a"b"c`, `OR`, "\x00", `"" ""`} {
		f.Add(s)
	}
	db := storetest.MustOpen(f)
	seedChunks(f, db, "t", "manual", nil, "some text about rust and crabs")
	f.Fuzz(func(t *testing.T, q string) {
		kq := store.ParseKeywordQuery(q)
		if _, err := db.KeywordSearch(context.Background(), kq, store.SearchFilter{}, 5, false); err != nil {
			t.Fatalf("%q -> %s: %v", q, kq.Match, err)
		}
	})
}

func TestSuggest(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	seedChunks(t, db, "Machine Learning Basics", "manual", []string{"machine-learning"}, "Machines learn patterns; machinery is not machine learning.", "Machine translation works.")
	seedChunks(t, db, "Macaroni recipes", "manual", []string{"cooking"}, "Macaroni with cheese.")
	db.RecordQuery(ctx, "machine learning papers")
	db.RecordQuery(ctx, "unrelated")

	got, err := db.Suggest(ctx, "mach", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"machine learning papers": true, "machine": true, "Machine Learning Basics": true, "machine-learning": true, "machines": true, "machinery": true}
	for w := range want {
		found := false
		for _, g := range got {
			if g == w {
				found = true
			}
		}
		if !found {
			t.Errorf("suggestions for %q lack %q: %q", "mach", w, got)
		}
	}
	if got[0] != "machine learning papers" {
		t.Errorf("recent query should come first: %q", got)
	}
	// The last word is completed after what was typed before it.
	got, _ = db.Suggest(ctx, "cheap maca", 5)
	if len(got) == 0 || got[0] != "cheap macaroni" {
		t.Errorf("last-word completion: %q", got)
	}
	for _, q := range []string{"", "   ", `"`, "%", "_", "ü", "🦀", "a*", `\`} {
		if _, err := db.Suggest(ctx, q, 5); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
	if got, _ := db.Suggest(ctx, "%", 5); len(got) != 0 {
		t.Errorf("%% matched as a wildcard: %q", got)
	}
}
