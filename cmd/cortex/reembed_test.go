package main

import (
	"testing"
	"time"
)

// TestEmbeddingModelSwitchReembeds switches the embedding model through the settings
// API: every chunk is re-embedded in the background, search keeps answering meanwhile,
// and afterwards the items carry the new model and vector search uses it.
func TestEmbeddingModelSwitchReembeds(t *testing.T) {
	ollama := newFakeOllama(t)
	srv := startSidecar(t, t.TempDir(), nil)
	c := client{t, srv.url}
	var ids []string
	for i, body := range []string{"Glaze recipes need careful weighing of silica and flux.", "Kiln shelves crack when heated unevenly.", "Wedging clay removes air bubbles before throwing."} {
		ids = append(ids, c.create(map[string]any{"title": "", "content": "# Pottery note " + string(rune('A'+i)) + "\n\n" + body, "content_type": "text/markdown"}))
	}
	for _, id := range ids {
		if it := c.waitFinal(id, 2*time.Minute); it.Status != "ready" || it.Embedding != "local/cortex-local-hash-v1" {
			t.Fatalf("before the switch: %s %q %q", it.Status, it.Embedding, it.Error)
		}
	}
	before := ollama.calls.Load()

	var ai map[string]any
	if code := c.do("PUT", "/api/settings/ai", map[string]any{"provider": "ollama", "ollama_host": ollama.URL}, &ai); code != 200 {
		t.Fatalf("put settings: %d %v", code, ai)
	}
	// Search answers throughout the switch.
	if r := c.search(map[string]any{"query": "kiln shelves", "mode": "keyword"}); len(r.Results) == 0 {
		t.Errorf("keyword search during the switch: %+v", r)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var q struct {
		Reembed *struct {
			Model   string
			Done    int
			Total   int
			Running bool
			Error   string
		}
	}
	for time.Now().Before(deadline) {
		c.do("GET", "/api/processing/queue", nil, &q)
		if q.Reembed != nil && !q.Reembed.Running && q.Reembed.Done > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if q.Reembed == nil || q.Reembed.Running || q.Reembed.Done != q.Reembed.Total || q.Reembed.Model != "ollama/nomic-embed-text:latest" || q.Reembed.Error != "" {
		t.Fatalf("re-embedding progress: %+v", q.Reembed)
	}
	for _, id := range ids {
		var it itemView
		c.do("GET", "/api/items/"+id, nil, &it)
		if it.Embedding != "ollama/nomic-embed-text:latest" {
			t.Errorf("%s: embedding model %q after the switch", id, it.Embedding)
		}
	}
	calls := ollama.calls.Load()
	r := c.search(map[string]any{"query": "air bubbles in clay", "mode": "vector"})
	if r.Degraded || len(r.Results) == 0 || ollama.calls.Load() == calls {
		t.Errorf("vector search after the switch should embed the query with the new model: %+v (ollama calls %d -> %d)", r, calls, ollama.calls.Load())
	}
	if calls == before {
		t.Error("the re-embedding never called the new model")
	}
}
