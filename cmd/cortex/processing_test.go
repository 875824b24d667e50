package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/cortexhq/cortex/store"
)

// client is a small JSON client for the sidecar under test.
type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

type itemView struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Status      string         `json:"status"`
	Error       string         `json:"error"`
	Text        string         `json:"text"`
	Summary     string         `json:"summary"`
	Tags        []string       `json:"tags"`
	AITags      []string       `json:"ai_tags"`
	WordCount   int            `json:"word_count"`
	ChunkCount  int            `json:"chunk_count"`
	Extractor   string         `json:"extractor"`
	Embedding   string         `json:"embedding_model"`
	LatestRunID string         `json:"latest_run_id"`
	Metadata    map[string]any `json:"metadata"`
}

func (c client) create(body map[string]any) string {
	c.t.Helper()
	var out struct{ ID, Status string }
	if code := c.do("POST", "/api/items", body, &out); code != 200 || out.Status != "pending" {
		c.t.Fatalf("create: %d %+v", code, out)
	}
	return out.ID
}

// waitFinal polls until the item is ready or failed.
func (c client) waitFinal(id string, within time.Duration) itemView {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var it itemView
	for time.Now().Before(deadline) {
		c.do("GET", "/api/items/"+id, nil, &it)
		if it.Status == "ready" || it.Status == "failed" {
			return it
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("item %s still %s after %s (error %q)", id, it.Status, within, it.Error)
	return it
}

const articleHTML = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>How Tidal Locking Works | Sky Notes</title>
<meta name="author" content="Ada Lovelace"></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<article><h1>How Tidal Locking Works</h1>
<p>The Moon always shows the same face to Earth because it is tidally locked. Over millions of years, tidal forces slowed its rotation until one rotation took exactly as long as one orbit.</p>
<h2>Why it happens</h2>
<p>Earth's gravity stretches the Moon slightly, raising a tidal bulge. When the Moon rotated faster than it orbited, the bulge was dragged ahead of the line between the two bodies, and Earth's pull on it acted as a brake.</p>
<ul><li>Torque on the bulge slows the spin.</li><li>Energy is lost as heat inside the Moon.</li></ul>
<p>Many moons in the solar system are locked to their planets, and some exoplanets are probably locked to their stars, with one side in permanent daylight.</p>
</article><footer>Copyright Sky Notes. Subscribe to our newsletter.</footer></body></html>`

const noteMarkdown = "# Sourdough starter log\n\nDay one: mixed 50 g rye flour with 50 g water. The jar smells faintly sweet.\n\n## Feeding schedule\n\n- Discard half every morning.\n- Feed equal weights of flour and water.\n\nBy day five the starter doubled within six hours, which means the yeast is active enough to bake with.\n"

// TestProcessingEndToEnd saves an HTML page, a Markdown note and a URL, and follows each
// to ready through the real server, the real built plugins and a real SQLite file.
func TestProcessingEndToEnd(t *testing.T) {
	var hits atomic.Int32
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The first two fetches fail: the fetch node must be retried, not the item failed.
		if r.URL.Path == "/flaky" && hits.Add(1) <= 2 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.Replace(articleHTML, "How Tidal Locking Works", "Fetched Tidal Article", 2))
	}))
	defer site.Close()

	srv := startSidecar(t, t.TempDir(), nil)
	c := client{t, srv.url}

	htmlID := c.create(map[string]any{"title": "", "url": "https://example.com/tidal", "content": articleHTML, "source": "browser_extension"})
	noteID := c.create(map[string]any{"title": "", "content": noteMarkdown, "content_type": "text/markdown"})
	urlID := c.create(map[string]any{"title": "", "url": site.URL + "/flaky"})

	// The WebSocket shows progress, then the final status.
	events := followProcessing(t, srv.url, htmlID)

	html := c.waitFinal(htmlID, 2*time.Minute)
	note := c.waitFinal(noteID, 2*time.Minute)
	fetched := c.waitFinal(urlID, 2*time.Minute)

	for _, tc := range []struct {
		it        itemView
		title     string
		extractor string
		has, not  []string
	}{
		{html, "How Tidal Locking Works", "extract-html", []string{"tidally locked", "bulge"}, []string{"Subscribe to our newsletter", "Home"}},
		{note, "Sourdough starter log", "extract-text", []string{"Discard half every morning", "doubled within six hours"}, nil},
		{fetched, "Fetched Tidal Article", "extract-html", []string{"tidally locked"}, []string{"newsletter"}},
	} {
		it := tc.it
		if it.Status != "ready" {
			t.Errorf("%s: status %s, error %q", tc.title, it.Status, it.Error)
			continue
		}
		if it.Title != tc.title || it.Extractor != tc.extractor {
			t.Errorf("title %q extractor %q; want %q %q", it.Title, it.Extractor, tc.title, tc.extractor)
		}
		for _, s := range tc.has {
			if !strings.Contains(it.Text, s) {
				t.Errorf("%s: text lacks %q:\n%s", tc.title, s, it.Text)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(it.Text, s) {
				t.Errorf("%s: text keeps boilerplate %q", tc.title, s)
			}
		}
		if it.ChunkCount < 1 || it.WordCount < 20 || it.Summary == "" || len(it.AITags) == 0 || it.Embedding == "" || it.LatestRunID == "" {
			t.Errorf("%s: chunks %d words %d summary %q ai tags %v embedding %q run %q", tc.title, it.ChunkCount, it.WordCount, it.Summary, it.AITags, it.Embedding, it.LatestRunID)
		}
		var chunks struct{ Chunks []store.Chunk }
		c.do("GET", "/api/items/"+it.ID+"/chunks", nil, &chunks)
		if len(chunks.Chunks) != it.ChunkCount {
			t.Errorf("%s: %d chunks listed, chunk_count %d", tc.title, len(chunks.Chunks), it.ChunkCount)
		}
		for i, ch := range chunks.Chunks {
			if ch.Ordinal != i || ch.Text == "" || ch.EndOffset <= ch.StartOffset || ch.EndOffset > len(it.Text) {
				t.Errorf("%s: chunk %d: %+v", tc.title, i, ch)
			}
		}
	}

	// The fetch node failed twice and then succeeded within one run.
	var run struct {
		Status string
		Nodes  []struct{ Node, Status string }
	}
	c.do("GET", "/api/runs/"+fetched.LatestRunID, nil, &run)
	var fetchAttempts []string
	for _, n := range run.Nodes {
		if n.Node == "fetch" {
			fetchAttempts = append(fetchAttempts, n.Status)
		}
	}
	if run.Status != "succeeded" || strings.Join(fetchAttempts, ",") != "failed,failed,succeeded" {
		t.Errorf("run %s, fetch attempts %v; want failed,failed,succeeded", run.Status, fetchAttempts)
	}

	got := <-events
	if len(got) < 3 || got[len(got)-1].Type != "complete" || got[len(got)-1].Status != "ready" {
		t.Fatalf("websocket events: %+v", got)
	}
	sawProgress := false
	for _, ev := range got[:len(got)-1] {
		if ev.Type == "progress" && ev.Step != "" && ev.Progress > 0 && ev.Progress <= 1 {
			sawProgress = true
		}
	}
	if !sawProgress {
		t.Errorf("no progress events before the end: %+v", got)
	}
	// For an item that is already done the final event comes at once.
	again := <-followProcessing(t, srv.url, htmlID)
	if len(again) != 1 || again[0].Type != "complete" || again[0].Status != "ready" {
		t.Errorf("websocket on a finished item: %+v", again)
	}
}

type wsEvent struct {
	Type     string  `json:"type"`
	Step     string  `json:"step"`
	Progress float64 `json:"progress"`
	Status   string  `json:"status"`
	Message  string  `json:"message"`
}

// followProcessing reads WS /api/ws/processing/{id} until the server closes it.
func followProcessing(t *testing.T, base, id string) <-chan []wsEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/ws/processing/"+id, nil)
	if err != nil {
		cancel()
		t.Fatalf("dial: %v", err)
	}
	out := make(chan []wsEvent, 1)
	go func() {
		defer cancel()
		defer conn.CloseNow()
		var evs []wsEvent
		for {
			var ev wsEvent
			if err := wsjson.Read(ctx, conn, &ev); err != nil {
				out <- evs
				return
			}
			evs = append(evs, ev)
		}
	}()
	return out
}

// TestCrashMidBatchLosesNothing kills the server with SIGKILL while it processes 50
// items, starts it again, and expects every item ready with exactly one set of chunks and
// an intact database.
func TestCrashMidBatchLosesNothing(t *testing.T) {
	dir := t.TempDir()
	srv := startSidecar(t, dir, nil)
	c := client{t, srv.url}
	var ids []string
	for i := range 50 {
		ids = append(ids, c.create(map[string]any{
			"title":        "",
			"content_type": "text/markdown",
			"content":      fmt.Sprintf("# Field note %d\n\n%s\n\n%s", i, syntheticWords(i, 300), syntheticWords(i+1000, 400)),
		}))
	}
	// Kill it once a few are done and others are in flight.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var q struct{ Counts map[string]int }
		c.do("GET", "/api/processing/queue", nil, &q)
		if q.Counts["ready"] >= 5 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.waitExit(t)

	srv2 := startSidecar(t, dir, nil)
	c = client{t, srv2.url}
	for _, id := range ids {
		it := c.waitFinal(id, 3*time.Minute)
		if it.Status != "ready" || it.ChunkCount < 1 {
			t.Errorf("%s: %s chunks %d error %q", id, it.Status, it.ChunkCount, it.Error)
		}
	}
	srv2.cmd.Process.Signal(syscall.SIGTERM)
	srv2.waitExit(t)

	db, err := store.Open(context.Background(), filepath.Join(dir, "cortex.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := db.IntegrityCheck(context.Background()); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	for _, id := range ids {
		it, _ := db.GetItem(context.Background(), id)
		chunks, _ := db.Chunks(context.Background(), id)
		if len(chunks) != it.ChunkCount {
			t.Errorf("%s: %d chunks stored, chunk_count %d", id, len(chunks), it.ChunkCount)
		}
	}
}
