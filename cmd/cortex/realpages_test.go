package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRealPagesReachReady saves the 134 real-world pages go-readability ships (news,
// blogs, wikis, in a dozen languages and scripts) through the API and requires every one
// to be processed to ready with a title and chunks. The Chinese and Japanese pages once
// failed in enrich on a tokenizer bug no hand-written fixture had.
func TestRealPagesReachReady(t *testing.T) {
	pages := readabilityTestPages()
	if len(pages) < 100 {
		t.Fatalf("found %d of go-readability's test pages; the module should be in the module cache", len(pages))
	}
	srv := startSidecar(t, t.TempDir(), nil)
	c := client{t, srv.url}
	ids := make([]string, len(pages))
	for i, page := range pages {
		ids[i] = c.create(map[string]any{"title": "", "content": page, "content_type": "text/html", "source": "realpages"})
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var pending, processing struct{ Total int }
		c.do("GET", "/api/items?source=realpages&status=pending&limit=1", nil, &pending)
		c.do("GET", "/api/items?source=realpages&status=processing&limit=1", nil, &processing)
		if pending.Total+processing.Total == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pending and %d processing after 5 minutes", pending.Total, processing.Total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var problems []string
	for _, id := range ids {
		var it itemView
		c.do("GET", "/api/items/"+id, nil, &it)
		switch {
		case it.Status != "ready":
			problems = append(problems, fmt.Sprintf("%s %s: %s", id, it.Status, it.Error))
		case it.ChunkCount == 0 || it.WordCount == 0 || strings.TrimSpace(it.Title) == "":
			problems = append(problems, fmt.Sprintf("%s ready but title %q, %d words, %d chunks", id, it.Title, it.WordCount, it.ChunkCount))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%d of %d pages:\n%s", len(problems), len(pages), strings.Join(problems, "\n"))
	}
}
