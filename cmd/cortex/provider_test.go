package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeOllama speaks Ollama's wire protocol (JSON for /api/embed, NDJSON streaming for
// /api/chat) and can be switched off, as when the user quits Ollama.
type fakeOllama struct {
	*httptest.Server
	down  atomic.Bool
	calls atomic.Int64
}

func newFakeOllama(t *testing.T) *fakeOllama {
	f := &fakeOllama{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if f.down.Load() {
			// What a stopped Ollama looks like from here: the connection dies.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/api/version":
			io.WriteString(w, `{"version":"0.12.0"}`)
		case "/api/tags":
			io.WriteString(w, `{"models":[{"name":"nomic-embed-text:latest","model":"nomic-embed-text:latest"},{"name":"llama3.2:3b","model":"llama3.2:3b"}]}`)
		case "/api/embed":
			var req struct {
				Model string `json:"model"`
				Input []string
			}
			json.NewDecoder(r.Body).Decode(&req)
			out := map[string]any{"model": req.Model, "embeddings": fakeEmbeddings(req.Input)}
			json.NewEncoder(w).Encode(out)
		case "/api/chat":
			w.Header().Set("Content-Type", "application/x-ndjson")
			for _, tok := range []string{"A ", "short ", "summary."} {
				fmt.Fprintf(w, `{"model":"llama3.2:3b","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":%q},"done":false}`+"\n", tok)
				w.(http.Flusher).Flush()
			}
			io.WriteString(w, `{"model":"llama3.2:3b","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":12,"eval_count":3}`+"\n")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// fakeEmbeddings gives each text a deterministic 16-dimension unit vector from its words.
func fakeEmbeddings(texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 16)
		for _, w := range strings.Fields(strings.ToLower(t)) {
			h := fnv.New32a()
			h.Write([]byte(w))
			v[h.Sum32()%16] += 1
		}
		var n float64
		for _, x := range v {
			n += float64(x * x)
		}
		if n == 0 {
			v[0], n = 1, 1
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(n))
		}
		out[i] = v
	}
	return out
}

// TestProviderDownMakesJobsWait stops the (fake) Ollama the user configured: saved items
// wait and say why instead of failing, and finish once it is back.
func TestProviderDownMakesJobsWait(t *testing.T) {
	ollama := newFakeOllama(t)
	ollama.down.Store(true)
	srv := startSidecar(t, t.TempDir(), []string{"CORTEX_AI_PROVIDER=ollama", "CORTEX_OLLAMA_HOST=" + ollama.URL})
	c := client{t, srv.url}
	id := c.create(map[string]any{"title": "", "content": "# Wait for me\n\nThis note can only be indexed when the embedding model answers.", "content_type": "text/markdown"})

	deadline := time.Now().Add(time.Minute)
	var it itemView
	for time.Now().Before(deadline) {
		c.do("GET", "/api/items/"+id, nil, &it)
		if it.Status == "pending" && strings.Contains(it.Error, "waiting to retry") {
			break
		}
		if it.Status == "failed" {
			t.Fatalf("item failed while the provider was down: %q", it.Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(it.Error, "waiting to retry") || !strings.Contains(strings.ToLower(it.Error), "unavailable") {
		t.Fatalf("item does not say why it waits: status %s error %q", it.Status, it.Error)
	}
	var q struct {
		Waiting []struct {
			ItemID string `json:"item_id"`
		}
	}
	c.do("GET", "/api/processing/queue", nil, &q)
	if len(q.Waiting) != 1 || q.Waiting[0].ItemID != id {
		t.Errorf("queue does not list the waiting item: %+v", q)
	}

	ollama.down.Store(false)
	it = c.waitFinal(id, 2*time.Minute)
	if it.Status != "ready" || it.Embedding != "ollama/nomic-embed-text:latest" || it.Summary != "A short summary." {
		t.Fatalf("after Ollama came back: status %s embedding %q summary %q error %q", it.Status, it.Embedding, it.Summary, it.Error)
	}
}
