package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

type searchHit struct {
	ItemID  string  `json:"item_id"`
	Title   string  `json:"title"`
	Snippet string  `json:"snippet"`
	Score   float64 `json:"score"`
}

type searchReply struct {
	Results   []searchHit `json:"results"`
	QueryType string      `json:"query_type"`
	TookMS    *int64      `json:"took_ms"`
	Total     int         `json:"total"`
	Mode      string      `json:"mode"`
	Degraded  bool        `json:"degraded"`
	Notice    string      `json:"notice"`
	Error     string      `json:"error"`
}

func (c client) search(body map[string]any) searchReply {
	c.t.Helper()
	var out searchReply
	if code := c.do("POST", "/api/search", body, &out); code != 200 {
		c.t.Fatalf("search %v: status %d %+v", body, code, out)
	}
	if out.TookMS == nil || out.Results == nil {
		c.t.Fatalf("search %v: missing took_ms or results: %+v", body, out)
	}
	return out
}

func ids(hits []searchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ItemID
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// searchCorpus saves notes whose words are chosen for the assertions below and waits
// until they are processed.
func searchCorpus(t *testing.T, c client) map[string]string {
	t.Helper()
	filler := "Other lines mention the weather, a train timetable, lunch plans and a reminder to call the plumber about the leaking tap. "
	notes := []struct {
		key, title, source, body string
		tags                     []string
	}{
		{"bread", "Sourdough starter log", "manual", "# Sourdough starter log\n\nFeed the starter equal weights of rye flour and water every morning. A lively starter doubles within six hours and smells sweet and sour. Checklist: jar, scale, flour.", []string{"baking"}},
		{"rust", "Rust ownership notes", "browser_extension", "Every value in Rust has a single owner. Borrowing lends a reference without moving ownership, and the borrow checker rejects dangling references. Checklist: lifetimes, slices.", []string{"programming"}},
		{"go", "Go concurrency", "manual", "Goroutines are cheap threads; channels let them communicate without locks. Select waits on several channels at once.", []string{"programming"}},
		{"marathon", "Marathon plan", "manual", "Build weekly mileage slowly, do one long run each weekend and taper in the final two weeks before race day. Checklist: shoes, gels.", nil},
		{"churn", "Customer retention review", "manual", "The team analyses quarterly figures to understand why subscribers cancel, and reports the findings every month.", nil},
		{"token", "Supplier paperwork", "manual", strings.Repeat(filler, 4) + "The disputed shipment is filed under QX-7731-ZB in the archive. " + strings.Repeat(filler, 4), nil},
		{"decoy1", "Shelf QY-7731-ZB", "manual", "Shelf label QY-7731-ZB.", nil},
		{"decoy2", "Shelf QX-7730-ZA", "manual", "Shelf label QX-7730-ZA.", nil},
		{"decoy3", "Shelf QX-7731-ZC", "manual", "Shelf label QX-7731-ZC.", nil},
	}
	ids := map[string]string{}
	for _, n := range notes {
		ids[n.key] = c.create(map[string]any{"title": n.title, "content": n.body, "content_type": "text/markdown", "source": n.source, "tags": n.tags})
	}
	for key, id := range ids {
		if it := c.waitFinal(id, 2*time.Minute); it.Status != "ready" {
			t.Fatalf("%s: %s %q", key, it.Status, it.Error)
		}
	}
	return ids
}

func TestSearchEndToEnd(t *testing.T) {
	srv := startSidecar(t, t.TempDir(), nil)
	c := client{t, srv.url}
	empty := c.search(map[string]any{"query": "anything at all"})
	if len(empty.Results) != 0 {
		t.Fatalf("empty store: %+v", empty)
	}
	id := searchCorpus(t, c)

	t.Run("query types", func(t *testing.T) {
		for _, tc := range []struct {
			query, typ, want string
		}{
			{"sourdough", "simple", "bread"},
			{"notes about keeping a bread culture alive and bubbly with rye", "semantic", "bread"},
			{"how often should I feed my starter?", "question", "bread"},
			{"borrow checker", "simple", "rust"},
		} {
			r := c.search(map[string]any{"query": tc.query})
			if r.QueryType != tc.typ {
				t.Errorf("%q: query_type %q; want %q", tc.query, r.QueryType, tc.typ)
			}
			if len(r.Results) == 0 || r.Results[0].ItemID != id[tc.want] {
				t.Errorf("%q: top result %v; want %s", tc.query, ids(r.Results), id[tc.want])
			}
			for _, h := range r.Results {
				if h.Score <= 0 || h.Score > 1 {
					t.Errorf("%q: score %v out of (0,1]", tc.query, h.Score)
				}
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		r := c.search(map[string]any{"query": "checklist", "filters": map[string]any{"sources": []string{"browser_extension"}}})
		if got := ids(r.Results); len(got) != 1 || got[0] != id["rust"] {
			t.Errorf("source filter: %v", got)
		}
		r = c.search(map[string]any{"query": "checklist", "filters": map[string]any{"tags": []string{"baking"}}})
		if got := ids(r.Results); len(got) != 1 || got[0] != id["bread"] {
			t.Errorf("tag filter: %v", got)
		}
		r = c.search(map[string]any{"query": "checklist", "filters": map[string]any{"item_ids": []string{id["marathon"]}}})
		if got := ids(r.Results); len(got) != 1 || got[0] != id["marathon"] {
			t.Errorf("item filter: %v", got)
		}
		r = c.search(map[string]any{"query": "checklist", "filters": map[string]any{"created_after": time.Now().Add(time.Hour).Format(time.RFC3339)}})
		if len(r.Results) != 0 {
			t.Errorf("date filter: %v", ids(r.Results))
		}
	})

	t.Run("paging", func(t *testing.T) {
		seen := map[string]bool{}
		for offset := range 3 {
			r := c.search(map[string]any{"query": "checklist", "mode": "keyword", "limit": 1, "offset": offset})
			if len(r.Results) != 1 || r.Total != 3 {
				t.Fatalf("offset %d: %d results, total %d", offset, len(r.Results), r.Total)
			}
			seen[r.Results[0].ItemID] = true
		}
		if len(seen) != 3 {
			t.Errorf("pages repeat items: %v", seen)
		}
		if r := c.search(map[string]any{"query": "checklist", "mode": "keyword", "limit": 5, "offset": 3}); len(r.Results) != 0 {
			t.Errorf("past the end: %v", ids(r.Results))
		}
	})

	t.Run("snippets", func(t *testing.T) {
		r := c.search(map[string]any{"query": "borrowing references"})
		if len(r.Results) == 0 {
			t.Fatal("no results")
		}
		s := r.Results[0].Snippet
		if !strings.Contains(strings.ToLower(s), "<mark>borrowing</mark>") || len([]rune(s)) > 320 || strings.Contains(s, "<script") {
			t.Errorf("snippet %q", s)
		}
		if r.Results[0].Title != "Rust ownership notes" {
			t.Errorf("title %q", r.Results[0].Title)
		}
	})

	// Hybrid finds what each side alone misses.
	t.Run("word forms: keyword misses, hybrid finds", func(t *testing.T) {
		kw := c.search(map[string]any{"query": "analyzing", "mode": "keyword"})
		if contains(ids(kw.Results), id["churn"]) {
			t.Fatalf("keyword search matched a different word form; the test needs one it misses: %v", ids(kw.Results))
		}
		hy := c.search(map[string]any{"query": "analyzing", "limit": 3})
		if !contains(ids(hy.Results), id["churn"]) {
			t.Errorf("hybrid missed the item with 'analyses': %v", ids(hy.Results))
		}
	})
	t.Run("rare token: vector misses, hybrid finds", func(t *testing.T) {
		vec := c.search(map[string]any{"query": "QX-7731-ZB", "mode": "vector", "limit": 3})
		if contains(ids(vec.Results), id["token"]) {
			t.Fatalf("vector search found the buried token; the test needs one it misses: %v", ids(vec.Results))
		}
		kwr := c.search(map[string]any{"query": "QX-7731-ZB", "mode": "keyword", "limit": 5})
		for _, h := range kwr.Results {
			t.Logf("keyword: %s %q %.3f", h.ItemID, h.Title, h.Score)
		}
		for _, h := range vec.Results {
			t.Logf("vector: %s %q %.3f", h.ItemID, h.Title, h.Score)
		}
		hy := c.search(map[string]any{"query": "QX-7731-ZB", "limit": 3})
		for _, h := range hy.Results {
			t.Logf("hybrid: %s %q %.3f", h.ItemID, h.Title, h.Score)
		}
		if !contains(ids(hy.Results), id["token"]) {
			t.Errorf("hybrid missed the exact token: %v", ids(hy.Results))
		}
		if hy.QueryType != "simple" {
			t.Errorf("an identifier is a simple query, got %q", hy.QueryType)
		}
	})

	t.Run("hostile queries", func(t *testing.T) {
		for _, q := range []string{`"`, `"unbalanced quote`, `AND OR NOT`, `NEAR(rust, borrow)`, `title:rust`, `rust*`, `^rust`,
			`-rust`, `(rust`, `rust)`, `'; DROP TABLE items; --`, `🦀🦀🦀`, `rust:`, `*`, `\`, `"" ""`, strings.Repeat("word ", 150)} {
			var out searchReply
			if code := c.do("POST", "/api/search", map[string]any{"query": q}, &out); code != 200 {
				t.Errorf("%q: status %d %+v", q, code, out)
			}
		}
		for _, bad := range []map[string]any{{"query": 5}, {"limit": 3}, {"query": "x", "limit": 0}, {"query": "x", "mode": "fuzzy"},
			{"query": "x", "filters": map[string]any{"created_after": "yesterday"}}} {
			var out map[string]any
			if code := c.do("POST", "/api/search", bad, &out); code != 422 {
				t.Errorf("%v: status %d %v; want 422", bad, code, out)
			}
		}
	})

	t.Run("suggestions", func(t *testing.T) {
		c.search(map[string]any{"query": "sourdough starter"})
		deadline := time.Now().Add(5 * time.Second)
		var out struct{ Suggestions []string }
		for time.Now().Before(deadline) {
			c.do("GET", "/api/search/suggestions?q="+url.QueryEscape("sour"), nil, &out)
			if contains(out.Suggestions, "sourdough starter") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, want := range []string{"sourdough starter", "sourdough", "Sourdough starter log"} {
			if !contains(out.Suggestions, want) {
				t.Errorf("suggestions for 'sour' lack %q: %q", want, out.Suggestions)
			}
		}
		c.do("GET", "/api/search/suggestions?q="+url.QueryEscape("program"), nil, &out)
		if !contains(out.Suggestions, "programming") {
			t.Errorf("tag completion: %q", out.Suggestions)
		}
		for _, q := range []string{"", "%", `"`, "🦀"} {
			var o map[string]any
			if code := c.do("GET", "/api/search/suggestions?q="+url.QueryEscape(q), nil, &o); code != 200 {
				t.Errorf("suggestions %q: %d", q, code)
			}
		}
	})
}

// TestSearchDegradesWithoutEmbedder stops the embedding model: search answers from
// keywords and says so instead of failing.
func TestSearchDegradesWithoutEmbedder(t *testing.T) {
	ollama := newFakeOllama(t)
	srv := startSidecar(t, t.TempDir(), []string{"CORTEX_AI_PROVIDER=ollama", "CORTEX_OLLAMA_HOST=" + ollama.URL})
	c := client{t, srv.url}
	id := c.create(map[string]any{"title": "Kiln notes", "content": "Bisque firing reaches cone 04 before glazing.", "content_type": "text/markdown"})
	if it := c.waitFinal(id, 2*time.Minute); it.Status != "ready" {
		t.Fatalf("item %s %q", it.Status, it.Error)
	}
	if r := c.search(map[string]any{"query": "bisque firing"}); r.Degraded || len(r.Results) != 1 {
		t.Fatalf("with the model up: %+v", r)
	}
	ollama.down.Store(true)
	// A query not searched before: its vector is not cached.
	r := c.search(map[string]any{"query": "firing bisque before glazing"})
	if !r.Degraded || r.Mode != "keyword" || !strings.Contains(strings.ToLower(r.Notice), "unavailable") || len(r.Results) != 1 || r.Results[0].ItemID != id {
		t.Fatalf("with the model down: %+v", r)
	}
}
