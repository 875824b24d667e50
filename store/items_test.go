package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cortexhq/cortex/store"
	"github.com/cortexhq/cortex/store/storetest"
)

func TestCreateItemDeduplicates(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)

	first, created, err := db.CreateItem(ctx, store.NewItem{
		URL: "https://Example.com/article/?utm_source=rss#top", Title: "Article", Content: "<p>Hello</p>",
	})
	if err != nil || !created {
		t.Fatalf("create: created=%v err=%v", created, err)
	}
	if first.Status != store.StatusPending || first.Source != "manual" {
		t.Errorf("new item status=%q source=%q; want pending, manual", first.Status, first.Source)
	}

	tests := []struct {
		name    string
		in      store.NewItem
		wantDup bool
	}{
		{"same url normalised", store.NewItem{URL: "https://example.com/article", Title: "x", Content: "other"}, true},
		{"identical content, no url", store.NewItem{Title: "copy", Content: "  <p>Hello</p>\n"}, true},
		{"different url and content", store.NewItem{URL: "https://example.com/other", Title: "y", Content: "new"}, false},
		{"empty content is never a duplicate", store.NewItem{Title: "url-less empty"}, false},
		{"empty content again", store.NewItem{Title: "url-less empty"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it, created, err := db.CreateItem(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if created == tc.wantDup {
				t.Errorf("created = %v; want %v", created, !tc.wantDup)
			}
			if tc.wantDup && it.ID != first.ID {
				t.Errorf("duplicate returned %s; want %s", it.ID, first.ID)
			}
		})
	}

	t.Run("request id makes a retry idempotent", func(t *testing.T) {
		a, created, err := db.CreateItem(ctx, store.NewItem{Title: "r", Content: "retry me", RequestID: "req-1"})
		if err != nil || !created {
			t.Fatal(created, err)
		}
		b, created, err := db.CreateItem(ctx, store.NewItem{Title: "r2", Content: "something else", RequestID: "req-1"})
		if err != nil || created || b.ID != a.ID {
			t.Fatalf("retry: created=%v id=%s want %s err=%v", created, b.ID, a.ID, err)
		}
	})
}

func TestCreateItemConcurrentSameURL(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, _, err := db.CreateItem(ctx, store.NewItem{URL: "https://example.com/race", Title: "t"})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = it.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent creates made different items: %v", ids)
		}
	}
	_, total, err := db.ListItems(ctx, store.ItemFilter{})
	if err != nil || total != 1 {
		t.Fatalf("total = %d, err = %v; want 1", total, err)
	}
}

func TestListItemsFilters(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	for i, src := range []string{"manual", "browser_extension", "browser_extension"} {
		_, _, err := db.CreateItem(ctx, store.NewItem{Title: src, Content: string(rune('a'+i)) + " body", Source: src, Tags: []string{"Go", " Deep  Learning "}})
		if err != nil {
			t.Fatal(err)
		}
	}
	items, total, err := db.ListItems(ctx, store.ItemFilter{Source: "browser_extension"})
	if err != nil || total != 2 || len(items) != 2 {
		t.Fatalf("source filter: total=%d len=%d err=%v", total, len(items), err)
	}
	if items[0].Content != "" {
		t.Errorf("list includes content %q; want it left out", items[0].Content)
	}
	if got := items[0].UserTags; len(got) != 2 || got[0] != "go" || got[1] != "deep learning" {
		t.Errorf("tags = %q; want normalised [go deep learning]", got)
	}
	page, total, err := db.ListItems(ctx, store.ItemFilter{Limit: 2, Offset: 2})
	if err != nil || total != 3 || len(page) != 1 {
		t.Fatalf("paging: total=%d len=%d err=%v", total, len(page), err)
	}
	tagged, _, err := db.ListItems(ctx, store.ItemFilter{Tag: "GO"})
	if err != nil || len(tagged) != 3 {
		t.Fatalf("tag filter: %d %v", len(tagged), err)
	}
	none, total, err := db.ListItems(ctx, store.ItemFilter{Status: store.StatusReady})
	if err != nil || total != 0 || none == nil {
		t.Fatalf("empty result must be an empty slice: %v %d %v", none, total, err)
	}
}

func TestUpdateItem(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	a, _, _ := db.CreateItem(ctx, store.NewItem{URL: "https://example.com/a", Title: "A", Content: "alpha"})
	b, _, _ := db.CreateItem(ctx, store.NewItem{URL: "https://example.com/b", Title: "B", Content: "beta"})

	title := "A renamed"
	tags := []string{"x"}
	got, err := db.UpdateItem(ctx, a.ID, store.ItemUpdate{Title: &title, Tags: &tags})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != title || len(got.UserTags) != 1 || got.Status != store.StatusPending {
		t.Errorf("update: %+v", got)
	}

	taken := "https://EXAMPLE.com/b/"
	if _, err := db.UpdateItem(ctx, a.ID, store.ItemUpdate{URL: &taken}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("moving onto b's URL: err = %v; want ErrConflict", err)
	}
	if _, err := db.UpdateItem(ctx, "item_missing", store.ItemUpdate{Title: &title}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: err = %v; want ErrNotFound", err)
	}
	_ = b
}

func TestDeleteItemRemovesEverythingDerived(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	keep, _, _ := db.CreateItem(ctx, store.NewItem{Title: "Keep", Content: "keep me"})
	gone, _, _ := db.CreateItem(ctx, store.NewItem{Title: "Gone", Content: "delete me"})

	space, err := db.EnsureSpace(ctx, store.SpaceIdentity{Provider: "test", Model: "m", Dimensions: 3}, 500, 50)
	if err != nil {
		t.Fatal(err)
	}
	chunks := []store.Chunk{{Text: "zebra migration patterns"}, {Text: "zebra stripes"}}
	vecs := [][]float32{{1, 0, 0}, {0, 1, 0}}
	if _, err := db.ReplaceChunks(ctx, gone.ID, chunks, &space, vecs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReplaceChunks(ctx, keep.ID, []store.Chunk{{Text: "zebra keepers"}}, &space, [][]float32{{0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'zebra'"); n != 3 {
		t.Fatalf("fts rows before delete = %d; want 3", n)
	}

	if err := db.DeleteItem(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	checks := map[string]int{
		"SELECT count(*) FROM chunks":                                      1,
		"SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'zebra'":   1,
		"SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'stripes'": 0,
		"SELECT count(*) FROM " + space.Table:                              1,
		"SELECT count(*) FROM jobs":                                        1,
	}
	for q, want := range checks {
		if n := countRows(t, db, q); n != want {
			t.Errorf("%s = %d; want %d", q, n, want)
		}
	}
	if err := db.DeleteItem(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v; want ErrNotFound", err)
	}
}

func TestTitleChangeReindexesChunks(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	it, _, _ := db.CreateItem(ctx, store.NewItem{Title: "Original heading", Content: "x"})
	if _, err := db.ReplaceChunks(ctx, it.ID, []store.Chunk{{Text: "body words"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	title := "Quokka facts"
	if _, err := db.UpdateItem(ctx, it.ID, store.ItemUpdate{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'title:quokka'"); n != 1 {
		t.Errorf("new title not indexed: %d", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'title:original'"); n != 0 {
		t.Errorf("old title still indexed: %d", n)
	}
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cortex.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	it, _, err := db.CreateItem(ctx, store.NewItem{Title: "persist", Content: "c", Metadata: json.RawMessage(`{"k":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.GetItem(ctx, it.ID)
	if err != nil || got.Title != "persist" || string(got.Metadata) != `{"k":1}` {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v < 1 {
		t.Fatalf("schema version %d %v", v, err)
	}
	if ok, err := db.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("integrity: %q %v", ok, err)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	if err := db.PutSettings(ctx, map[string]json.RawMessage{"chunk_size": json.RawMessage(`400`), "provider": json.RawMessage(`"ollama"`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSettings(ctx, map[string]json.RawMessage{"chunk_size": json.RawMessage(`300`), "bad": json.RawMessage(`{`)}); err == nil {
		t.Fatal("invalid JSON accepted")
	}
	got, err := db.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(got["chunk_size"]) != "400" || string(got["provider"]) != `"ollama"` {
		t.Errorf("settings = %s; a failed put must change nothing", got)
	}
}

func countRows(t *testing.T, db *store.DB, query string) int {
	t.Helper()
	n, err := db.CountForTest(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestAITagsAreReconciled(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	first, _, _ := db.CreateItem(ctx, store.NewItem{Title: "a", Content: "one", Tags: []string{"Machine Learning"}})
	second, _, _ := db.CreateItem(ctx, store.NewItem{Title: "b", Content: "two", Tags: []string{"Go"}})
	ai := []string{"machine-learning", "LLMs", "llm", "go", "Databases", "Compilers", "Networks", "Kernels", "Extra"}
	_ = first
	if err := db.UpdateItemDerived(ctx, second.ID, store.DerivedUpdate{AITags: &ai}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetItem(ctx, second.ID)
	want := []string{"machine learning", "llm", "database", "compiler", "network"}
	if len(got.AITags) != len(want) {
		t.Fatalf("ai tags = %q; want %q (capped at %d, user's 'go' dropped, LLMs/llm merged)", got.AITags, want, store.MaxAITags)
	}
	for i := range want {
		if got.AITags[i] != want[i] {
			t.Errorf("ai tag %d = %q; want %q", i, got.AITags[i], want[i])
		}
	}
	if len(got.UserTags) != 1 || got.UserTags[0] != "go" {
		t.Errorf("user tags changed: %q", got.UserTags)
	}
	// A later item proposing "Machine learning" gets the existing spelling.
	ml := []string{"Machine learnings"}
	third, _, _ := db.CreateItem(ctx, store.NewItem{Title: "c", Content: "three"})
	db.UpdateItemDerived(ctx, third.ID, store.DerivedUpdate{AITags: &ml})
	got, _ = db.GetItem(ctx, third.ID)
	if len(got.AITags) != 1 || got.AITags[0] != "machine learning" {
		t.Errorf("near-duplicate not merged into the existing tag: %q", got.AITags)
	}
}
