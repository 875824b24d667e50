//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
	"github.com/cortexhq/cortex/store"
)

var capabilities = []string{abi.CapItems, abi.CapChunks, abi.CapLLM, abi.CapInvoke}

// callNode runs one node export the way the workflow engine does.
func callNode(t *testing.T, p *harness.Plugin, node string, state json.RawMessage) (abi.NodeOutput, error) {
	t.Helper()
	var out abi.NodeOutput
	err := p.Call(node, abi.NodeInput{RunID: "run_test", Node: node, Attempt: 1, State: state}, &out)
	return out, err
}

func mustNode(t *testing.T, p *harness.Plugin, node string, state json.RawMessage) json.RawMessage {
	t.Helper()
	out, err := callNode(t, p, node, state)
	if err != nil {
		t.Fatalf("%s: %v", node, err)
	}
	return out.State
}

func decodeState(t *testing.T, raw json.RawMessage) runState {
	t.Helper()
	var st runState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("state %s: %v", raw, err)
	}
	return st
}

func hostCalls(p *harness.Plugin, fn string) int {
	n := 0
	for _, c := range p.HostCalls() {
		if c.Function == fn {
			n++
		}
	}
	return n
}

func wantHostCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae *abi.Error
	if !errors.As(err, &ae) || ae.Code != code || !strings.Contains(ae.Message, msg) {
		t.Fatalf("error %v, want code %q saying %q", err, code, msg)
	}
}

// TestPipeline runs every node in order through a real host. The host has no extractor
// loaded, so extract's failure is checked and the text it would have stored is seeded.
func TestPipeline(t *testing.T) {
	md, err := os.ReadFile("testdata/chunker/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	page := "# Served page\n\nHello from the test server."
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	defer srv.Close()

	chat := &harness.ScriptedChat{Answers: []string{"Lanternd keeps a search index of notes.", "Notes, search, daemon"}}
	p := harness.Load(t, harness.Build(t, "."), harness.Options{Capabilities: capabilities, Chat: chat,
		Settings: map[string]string{"chunk_size": "80", "chunk_overlap": "10"}})
	id := p.SeedItem(store.NewItem{Content: text, ContentType: "text/markdown"})
	start := json.RawMessage(fmt.Sprintf(`{"item_id":%q}`, id))

	state := mustNode(t, p, "fetch", start)
	if st := decodeState(t, state); st.Fetched || st.ItemID != id {
		t.Errorf("fetch state %s", state)
	}
	if n := hostCalls(p, abi.FnItemsFetch); n != 0 {
		t.Errorf("fetched an item that has content (%d calls)", n)
	}

	_, err = callNode(t, p, "extract", state)
	wantHostCode(t, err, abi.ErrNotFound, `no extractor handles this item (content type "text/markdown")`)

	// What extract-text would have stored and passed on.
	if err := p.DB.UpdateItemDerived(context.Background(), id, store.DerivedUpdate{Text: &text}); err != nil {
		t.Fatal(err)
	}
	st := decodeState(t, state)
	st.Extractor, st.Title, st.TextHash = "extract-text", "Field Guide to Lanternd", textHash(text)
	state, _ = json.Marshal(st)

	state = mustNode(t, p, "chunk", state)
	st = decodeState(t, state)
	if st.ChunkSize != 80 || st.ChunkOverlap != 10 || len(st.Chunks) < 5 {
		t.Fatalf("chunk state %s", state)
	}
	if strings.Contains(string(state), "Homebrew") {
		t.Error("the chunk state carries the text")
	}

	var chunks []store.Chunk
	for range 2 { // twice, as after a crash between storing and checkpointing
		after := decodeState(t, mustNode(t, p, "index", state))
		chunks = p.Chunks(id)
		if after.Chunks != nil || after.ChunkCount != len(st.Chunks) || len(chunks) != len(st.Chunks) || after.EmbeddingModel == "" {
			t.Fatalf("index: state %+v, %d chunks stored, want %d", after, len(chunks), len(st.Chunks))
		}
	}
	state = mustNode(t, p, "index", state)
	for i, c := range chunks {
		if c.Ordinal != i || c.Text != text[c.StartOffset:c.EndOffset] || c.Heading == "" || c.TokenCount == 0 {
			t.Errorf("chunk %d: %+v", i, c)
		}
	}
	if it := p.Item(id); it.ChunkCount != len(chunks) || it.EmbeddingModel == "" || it.Text != text {
		t.Errorf("item after index: chunks %d, model %q", it.ChunkCount, it.EmbeddingModel)
	}

	state = mustNode(t, p, "enrich", state)
	it := p.Item(id)
	var wantTags []string // as the store files them ("notes" under "note")
	for _, tag := range []string{"notes", "search", "daemon"} {
		wantTags = append(wantTags, store.TagKey(tag))
	}
	if it.Summary != "Lanternd keeps a search index of notes." || !slices.Equal(it.AITags, wantTags) {
		t.Errorf("summary %q, AI tags %q", it.Summary, it.AITags)
	}
	if len(chat.Requests) != 2 {
		t.Errorf("%d chat requests, want summary and tags", len(chat.Requests))
	}

	out, err := callNode(t, p, "connect", state)
	if err != nil {
		t.Fatalf("connect without a connections plugin: %v", err)
	}
	if st := decodeState(t, out.State); out.Next != abi.End || st.Connected || len(st.Warnings) != 0 || st.ChunkCount != len(chunks) {
		t.Errorf("connect: next %q, state %s", out.Next, out.State)
	}

	// The raw content (a whole web page, for most items) never crosses into the sandbox:
	// fetch asks only whether there is some, later nodes read the extracted text.
	for _, c := range p.HostCalls() {
		if c.Function != abi.FnItemsGet {
			continue
		}
		var res struct {
			Data abi.ItemsGetOutput `json:"data"`
		}
		if err := json.Unmarshal(c.Result, &res); err != nil || len(res.Data.Items) != 1 {
			t.Fatalf("items_get result %s: %v", c.Result, err)
		}
		if got := res.Data.Items[0]; got.Content != "" || !got.HasContent {
			t.Errorf("items_get %s returned content %d bytes, has_content %t", c.Request, len(got.Content), got.HasContent)
		}
	}

	var steps []string
	last := 0.0
	for _, ev := range p.Events() {
		if ev.Type != "progress" {
			continue
		}
		if ev.Progress < last {
			t.Errorf("progress went back from %v to %v at %s", last, ev.Progress, ev.Step)
		}
		last = ev.Progress
		if !slices.Contains(steps, ev.Step) {
			steps = append(steps, ev.Step)
		}
	}
	if want := []string{"fetch", "chunk", "index", "enrich", "connect"}; !slices.Equal(steps, want) || last != 1 {
		t.Errorf("progress steps %q ending at %v, want %q ending at 1", steps, last, want)
	}

	t.Run("fetch downloads a saved URL", func(t *testing.T) {
		id := p.SeedItem(store.NewItem{URL: srv.URL + "/notes/page"})
		st := decodeState(t, mustNode(t, p, "fetch", json.RawMessage(fmt.Sprintf(`{"item_id":%q}`, id))))
		if !st.Fetched {
			t.Error("state does not say the page was fetched")
		}
		if it := p.Item(id); it.Content != page || it.ContentType != "text/markdown" {
			t.Errorf("content %q (%s)", it.Content, it.ContentType)
		}
		if n := hostCalls(p, abi.FnItemsFetch); n != 1 {
			t.Errorf("%d fetch calls", n)
		}
	})
}

// downChat is a chat provider that is not running.
type downChat struct{}

func (downChat) Chat(context.Context, providers.ChatRequest, providers.TokenFunc) (providers.ChatResponse, error) {
	return providers.ChatResponse{}, fmt.Errorf("connect to ollama: %w", providers.ErrUnavailable)
}

// TestHostFailures checks that failures cross the host boundary with their codes, which
// is what the engine decides retries on.
func TestHostFailures(t *testing.T) {
	p := harness.Load(t, harness.Build(t, "."), harness.Options{Capabilities: capabilities, Chat: downChat{},
		Settings: map[string]string{"fetch_urls": "false"}})

	id := p.SeedItem(store.NewItem{URL: "https://example.org/article"})
	_, err := callNode(t, p, "fetch", json.RawMessage(fmt.Sprintf(`{"item_id":%q}`, id)))
	wantHostCode(t, err, abi.ErrDenied, "no content to process and fetching URLs is turned off")

	text := "Some text worth summarizing. It has two sentences."
	id = p.SeedItem(store.NewItem{Content: text})
	if err := p.DB.UpdateItemDerived(context.Background(), id, store.DerivedUpdate{Text: &text}); err != nil {
		t.Fatal(err)
	}
	_, err = callNode(t, p, "enrich", json.RawMessage(fmt.Sprintf(`{"item_id":%q}`, id)))
	wantHostCode(t, err, abi.ErrUnavailable, "")
	if it := p.Item(id); it.Summary != "" || len(it.AITags) != 0 {
		t.Errorf("enrich wrote %q, %q with the model down", it.Summary, it.AITags)
	}

	_, err = callNode(t, p, "fetch", json.RawMessage(`{"item_id":"item_missing"}`))
	wantHostCode(t, err, abi.ErrNotFound, "item_missing")
}
