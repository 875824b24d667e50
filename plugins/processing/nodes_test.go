//go:build !wasip1

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
)

// fakeHost is hostAPI in memory, with knobs for the failures the nodes must handle.
type fakeHost struct {
	items  map[string]*abi.Item
	config map[string]string

	fetchErr, extractErr, invokeErr error
	fetchBody                       string
	extracted                       abi.ExtractResult
	llmErr                          map[string]error // by task
	llmOut                          map[string]abi.LLMOutput

	updates  []abi.ItemUpdate
	writes   [][]abi.ChunkInput
	llmCalls []abi.LLMInput
	invoked  []string
	progress []string
	logs     []string
}

func newFakeHost(items ...abi.Item) *fakeHost {
	h := &fakeHost{items: map[string]*abi.Item{}, config: map[string]string{}, llmErr: map[string]error{},
		llmOut: map[string]abi.LLMOutput{}}
	for _, it := range items {
		h.items[it.ID] = &it
	}
	return h
}

func (h *fakeHost) GetItem(id string, withText bool) (abi.Item, error) {
	it, ok := h.items[id]
	if !ok {
		return abi.Item{}, &abi.Error{Code: abi.ErrNotFound, Message: "item " + id + " does not exist"}
	}
	out := *it
	out.HasContent = strings.TrimSpace(it.Content) != ""
	out.Content = ""
	if !withText {
		out.Text = ""
	}
	return out, nil
}

func (h *fakeHost) UpdateItem(u abi.ItemUpdate) error {
	h.updates = append(h.updates, u)
	it := h.items[u.ID]
	if u.Title != nil {
		it.Title = *u.Title
	}
	if u.Text != nil {
		it.Text = *u.Text
	}
	if u.Summary != nil {
		it.Summary = *u.Summary
	}
	return nil
}

func (h *fakeHost) FetchItem(id string) (abi.ItemsFetchOutput, error) {
	if h.fetchErr != nil {
		return abi.ItemsFetchOutput{}, h.fetchErr
	}
	h.items[id].Content = h.fetchBody
	return abi.ItemsFetchOutput{Status: 200, Bytes: len(h.fetchBody)}, nil
}

func (h *fakeHost) ExtractItem(string) (abi.ExtractResult, error) { return h.extracted, h.extractErr }

func (h *fakeHost) WriteChunks(_ string, chunks []abi.ChunkInput) (abi.ChunksWriteOutput, error) {
	h.writes = append(h.writes, chunks)
	return abi.ChunksWriteOutput{Count: len(chunks), EmbeddingModel: "fake/embed"}, nil
}

func (h *fakeHost) LLM(in abi.LLMInput) (abi.LLMOutput, error) {
	h.llmCalls = append(h.llmCalls, in)
	return h.llmOut[in.Task], h.llmErr[in.Task]
}

func (h *fakeHost) Invoke(plugin, function string, in any) error {
	raw, _ := json.Marshal(in)
	h.invoked = append(h.invoked, plugin+"."+function+" "+string(raw))
	return h.invokeErr
}

func (h *fakeHost) Config(key string) (string, bool) { v, ok := h.config[key]; return v, ok }

func (h *fakeHost) Progress(step string, fraction float64, message string) {
	h.progress = append(h.progress, fmt.Sprintf("%s %.1f %s", step, fraction, message))
}

func (h *fakeHost) Log(level, message string, _ map[string]any) {
	h.logs = append(h.logs, level+" "+message)
}

// run calls a node through the ABI adapter, as the host does.
func run(t *testing.T, h *fakeHost, step func(*workflow) func(*runState) (string, error), state runState) (runState, abi.NodeOutput, error) {
	t.Helper()
	w := &workflow{h: h}
	raw, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	out, err := harness.RunNode(w.step(step(w)), abi.NodeInput{RunID: "run_1", Node: "n", Attempt: 1, State: raw})
	var st runState
	if err == nil {
		if err := json.Unmarshal(out.State, &st); err != nil {
			t.Fatalf("node returned bad state %s: %v", out.State, err)
		}
	}
	return st, out, err
}

func fetchStep(w *workflow) func(*runState) (string, error)   { return w.fetch }
func extractStep(w *workflow) func(*runState) (string, error) { return w.extract }
func chunkStep(w *workflow) func(*runState) (string, error)   { return w.chunk }
func indexStep(w *workflow) func(*runState) (string, error)   { return w.index }
func enrichStep(w *workflow) func(*runState) (string, error)  { return w.enrich }
func connectStep(w *workflow) func(*runState) (string, error) { return w.connect }

func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae *abi.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("error %v, want code %q", err, code)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
	if strings.HasPrefix(err.Error(), code+":") {
		t.Errorf("error %q repeats its code", err)
	}
}

func TestNodeState(t *testing.T) {
	w := &workflow{h: newFakeHost()}
	for _, state := range []string{`{}`, `{"item_id": ""}`, `not json`} {
		_, err := harness.RunNode(w.step(w.fetch), abi.NodeInput{State: json.RawMessage(state)})
		wantCode(t, err, abi.ErrInvalid, "")
	}
}

func TestFetch(t *testing.T) {
	t.Run("saved content is kept", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", URL: "https://example.org", Content: "# Saved"})
		st, out, err := run(t, h, fetchStep, runState{ItemID: "i"})
		if err != nil || st.Fetched || out.Next != "" || h.items["i"].Content != "# Saved" {
			t.Fatalf("state %+v, err %v", st, err)
		}
		if len(h.progress) != 1 || !strings.HasPrefix(h.progress[0], "fetch 0.1") {
			t.Errorf("progress %q", h.progress)
		}
	})
	t.Run("empty content is fetched", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", URL: "https://example.org", Content: " \n"})
		h.fetchBody = "<html>page</html>"
		st, _, err := run(t, h, fetchStep, runState{ItemID: "i"})
		if err != nil || !st.Fetched || h.items["i"].Content != h.fetchBody {
			t.Fatalf("state %+v, err %v", st, err)
		}
	})
	t.Run("fetching turned off", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", URL: "https://example.org"})
		h.fetchErr = &abi.Error{Code: abi.ErrDenied, Message: "fetching URLs is turned off (setting fetch_urls)"}
		_, _, err := run(t, h, fetchStep, runState{ItemID: "i"})
		wantCode(t, err, abi.ErrDenied, "no content to process and fetching URLs is turned off")
	})
	t.Run("site down is retried", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", URL: "https://example.org"})
		h.fetchErr = &abi.Error{Code: abi.ErrUnavailable, Message: "503 Service Unavailable"}
		_, _, err := run(t, h, fetchStep, runState{ItemID: "i"})
		wantCode(t, err, abi.ErrUnavailable, "download the page: 503")
	})
	t.Run("empty page", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", URL: "https://example.org"})
		_, _, err := run(t, h, fetchStep, runState{ItemID: "i"})
		wantCode(t, err, abi.ErrInvalid, "the page is empty")
	})
	t.Run("no content and no URL", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", Title: "only a title"})
		_, _, err := run(t, h, fetchStep, runState{ItemID: "i"})
		wantCode(t, err, abi.ErrInvalid, "no content and no URL")
	})
	t.Run("deleted item", func(t *testing.T) {
		_, _, err := run(t, newFakeHost(), fetchStep, runState{ItemID: "gone"})
		wantCode(t, err, abi.ErrNotFound, "read item gone")
	})
}

func TestExtract(t *testing.T) {
	result := abi.ExtractResult{Extractor: "extract-text", Output: abi.ExtractOutput{
		Title: "Heading", Text: "# Heading\n\nBody text.", Byline: "Ann", Language: "en",
		PublishedAt: "2024-01-02", Metadata: map[string]any{"k": "v"}}}
	t.Run("fills an empty title", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", Content: "# Heading\n\nBody text.", ContentType: "text/markdown"})
		h.extracted = result
		st, _, err := run(t, h, extractStep, runState{ItemID: "i", Fetched: true})
		if err != nil {
			t.Fatal(err)
		}
		u := h.updates[0]
		if u.Title == nil || *u.Title != "Heading" || *u.Text != result.Output.Text || *u.Extractor != "extract-text" ||
			*u.Byline != "Ann" || *u.Language != "en" || *u.PublishedAt != "2024-01-02" {
			t.Errorf("update %+v", u)
		}
		want := runState{ItemID: "i", Fetched: true, Extractor: "extract-text", Title: "Heading", Byline: "Ann",
			PublishedAt: "2024-01-02", Language: "en", Metadata: map[string]any{"k": "v"}, TextTokens: 4,
			TextHash: textHash(result.Output.Text)}
		if fmt.Sprint(st) != fmt.Sprint(want) {
			t.Errorf("state\n%+v\nwant\n%+v", st, want)
		}
		if !strings.HasPrefix(h.progress[0], "extract 0.3") {
			t.Errorf("progress %q", h.progress)
		}
	})
	t.Run("names an untitled text after its opening words", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", Content: "x"})
		h.extracted = abi.ExtractResult{Extractor: "extract-html", Output: abi.ExtractOutput{Text: "1. AI has not changed much. More text."}}
		if _, _, err := run(t, h, extractStep, runState{ItemID: "i"}); err != nil {
			t.Fatal(err)
		}
		if u := h.updates[0]; u.Title == nil || *u.Title != "AI has not changed much. More text" {
			t.Errorf("title %v", u.Title)
		}
	})
	t.Run("keeps the user's title", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", Title: "Mine", Content: "x"})
		h.extracted = result
		if _, _, err := run(t, h, extractStep, runState{ItemID: "i"}); err != nil {
			t.Fatal(err)
		}
		if h.updates[0].Title != nil || h.items["i"].Title != "Mine" {
			t.Errorf("title replaced: %v", h.items["i"].Title)
		}
	})
	t.Run("no extractor", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", Content: "x", ContentType: "application/x-thing"})
		h.extractErr = &abi.Error{Code: abi.ErrNotFound, Message: `plugin not found: no extractor matches content type "application/x-thing"`}
		_, _, err := run(t, h, extractStep, runState{ItemID: "i"})
		wantCode(t, err, abi.ErrNotFound, `no extractor handles this item (content type "application/x-thing")`)
	})
	t.Run("no text", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", Content: "<html></html>"})
		h.extracted = abi.ExtractResult{Extractor: "extract-html", Output: abi.ExtractOutput{Title: "T", Text: " \n "}}
		_, _, err := run(t, h, extractStep, runState{ItemID: "i"})
		wantCode(t, err, abi.ErrInvalid, "nothing to index: the extractor found no text")
		if len(h.updates) != 0 {
			t.Errorf("a failed extraction wrote %+v", h.updates)
		}
	})
	t.Run("extractor crashed", func(t *testing.T) {
		h := newFakeHost(abi.Item{ID: "i", Content: "x"})
		h.extractErr = &abi.Error{Code: abi.ErrPluginFailed, Message: "plugin trapped"}
		_, _, err := run(t, h, extractStep, runState{ItemID: "i"})
		wantCode(t, err, abi.ErrPluginFailed, "extract text: plugin trapped")
	})
}

func TestChunkAndIndex(t *testing.T) {
	text := "# Title\n\n" + strings.Repeat("A sentence of six words here. ", 200)
	h := newFakeHost(abi.Item{ID: "i", Text: text})
	h.config["chunk_size"], h.config["chunk_overlap"] = "100", "10"
	st, _, err := run(t, h, chunkStep, runState{ItemID: "i", TextHash: "stale"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ChunkSize != 100 || st.ChunkOverlap != 10 || len(st.Chunks) < 10 || st.TextHash != textHash(text) {
		t.Fatalf("state %+v", st)
	}
	raw, _ := json.Marshal(st)
	if strings.Contains(string(raw), "sentence of six") {
		t.Error("the state carries the text")
	}

	for i := range 2 { // again, as after a crash: the same chunks replace the first set
		after, _, err := run(t, h, indexStep, st)
		if err != nil {
			t.Fatal(err)
		}
		if after.Chunks != nil || after.ChunkCount != len(st.Chunks) || after.EmbeddingModel != "fake/embed" {
			t.Fatalf("state after index %+v", after)
		}
		if !slices.Equal(h.writes[i], h.writes[0]) {
			t.Error("a second run wrote different chunks")
		}
	}
	for i, c := range h.writes[0] {
		if c.Text != text[c.StartOffset:c.EndOffset] || c.Heading != "Title" || c.TokenCount != countTokens(c.Text, 0, len(c.Text)) {
			t.Fatalf("chunk %d: %+v", i, c)
		}
	}
	if len(h.logs) != 0 {
		t.Errorf("logs %q", h.logs)
	}

	// The text changed under the run: index chunks what is there, not stale offsets.
	h.items["i"].Text = "Short new text."
	if _, _, err := run(t, h, indexStep, st); err != nil {
		t.Fatal(err)
	}
	if got := h.writes[2]; len(got) != 1 || got[0].Text != "Short new text." {
		t.Errorf("chunks of the changed text: %+v", got)
	}
	if len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], "warn") {
		t.Errorf("logs %q", h.logs)
	}

	h.items["i"].Text = ""
	_, _, err = run(t, h, indexStep, st)
	wantCode(t, err, abi.ErrInvalid, "nothing to index")
}

func TestChunkParams(t *testing.T) {
	tests := []struct {
		size, overlap         string
		wantSize, wantOverlap int
	}{
		{"", "", 500, 50},
		{"800", "100", 800, 100},
		{"abc", "-3", 500, 50},
		{"10", "40", 50, 25},
		{"100000", "0", 8000, 0},
		{" 300 ", "200", 300, 150},
	}
	for _, tt := range tests {
		h := newFakeHost()
		if tt.size != "" {
			h.config["chunk_size"], h.config["chunk_overlap"] = tt.size, tt.overlap
		}
		if s, o := (&workflow{h: h}).chunkParams(); s != tt.wantSize || o != tt.wantOverlap {
			t.Errorf("chunkParams(%q, %q) = %d, %d, want %d, %d", tt.size, tt.overlap, s, o, tt.wantSize, tt.wantOverlap)
		}
	}
}

func TestEnrich(t *testing.T) {
	text := strings.Repeat("word ", 5000) + "TAIL"
	item := abi.Item{ID: "i", Text: text, Summary: "old summary"}
	t.Run("summary and tags", func(t *testing.T) {
		h := newFakeHost(item)
		h.llmOut[abi.TaskSummarize] = abi.LLMOutput{Content: " A summary. "}
		h.llmOut[abi.TaskTags] = abi.LLMOutput{Tags: []string{"Go", "wasm", "go", " ", "a", "b", "c", "d"}}
		st, _, err := run(t, h, enrichStep, runState{ItemID: "i"})
		if err != nil {
			t.Fatal(err)
		}
		if !st.Summarized || !slices.Equal(st.AITags, []string{"go", "wasm", "a", "b", "c"}) {
			t.Errorf("state %+v", st)
		}
		u := h.updates[0]
		if *u.Summary != "A summary." || !slices.Equal(*u.AITags, st.AITags) {
			t.Errorf("update %+v", u)
		}
		for _, c := range h.llmCalls {
			if strings.Contains(c.Text, "TAIL") || countTokens(c.Text, 0, len(c.Text)) != enrichTokens {
				t.Errorf("%s got %d tokens", c.Task, countTokens(c.Text, 0, len(c.Text)))
			}
		}
		if h.llmCalls[0].MaxItems != 3 || h.llmCalls[1].MaxItems != 5 {
			t.Errorf("calls %+v", h.llmCalls)
		}
		if !strings.HasPrefix(h.progress[0], "enrich 0.9") {
			t.Errorf("progress %q", h.progress)
		}
	})
	t.Run("model down fails the node with the host's error", func(t *testing.T) {
		for _, task := range []string{abi.TaskSummarize, abi.TaskTags} {
			h := newFakeHost(item)
			down := &abi.Error{Code: abi.ErrUnavailable, Message: "ollama is not running"}
			h.llmErr[task] = down
			_, _, err := run(t, h, enrichStep, runState{ItemID: "i"})
			if err != down {
				t.Errorf("%s: got %v, want the host's error unchanged", task, err)
			}
			if len(h.updates) != 0 {
				t.Errorf("%s: wrote %+v", task, h.updates)
			}
		}
	})
	t.Run("other failures only cost the summary", func(t *testing.T) {
		h := newFakeHost(item)
		h.llmErr[abi.TaskSummarize] = &abi.Error{Code: abi.ErrInvalid, Message: "prompt too long"}
		h.llmOut[abi.TaskTags] = abi.LLMOutput{Tags: []string{"x"}}
		st, _, err := run(t, h, enrichStep, runState{ItemID: "i"})
		if err != nil {
			t.Fatal(err)
		}
		if st.Summarized || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "prompt too long") {
			t.Errorf("state %+v", st)
		}
		if h.items["i"].Summary != "old summary" || h.updates[0].Summary != nil {
			t.Errorf("summary touched: %+v", h.updates[0])
		}
		if len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], "warn summary skipped") {
			t.Errorf("logs %q", h.logs)
		}
	})
}

func TestConnect(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		wantErr       bool
		wantConnected bool
		wantWarnings  int
	}{
		{"connected", nil, false, true, 0},
		{"no connections plugin", &abi.Error{Code: abi.ErrNotFound, Message: `plugin not found: "connections"`}, false, false, 0},
		{"model down", &abi.Error{Code: abi.ErrUnavailable, Message: "down"}, true, false, 0},
		{"plugin broke", &abi.Error{Code: abi.ErrPluginFailed, Message: "trap"}, false, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost()
			h.invokeErr = tt.err
			st, out, err := run(t, h, connectStep, runState{ItemID: "i", ChunkCount: 3})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if !slices.Equal(h.invoked, []string{`connections.connect {"item_id":"i"}`}) {
				t.Errorf("invoked %q", h.invoked)
			}
			if err != nil {
				return
			}
			if out.Next != abi.End || st.Connected != tt.wantConnected || len(st.Warnings) != tt.wantWarnings || st.ChunkCount != 3 {
				t.Errorf("next %q, state %+v", out.Next, st)
			}
			if len(h.progress) != 1 || !strings.HasPrefix(h.progress[0], "connect 1.0") {
				t.Errorf("progress %q", h.progress)
			}
		})
	}
}

func TestDescription(t *testing.T) {
	d := description
	g := d.Graph
	if d.Name != "processing" || d.Kind != abi.KindWorkflow || d.Workflow != "processing" || g == nil || !g.Durable ||
		g.Entry != nodeFetch || g.StateSchemaVersion != 1 {
		t.Fatalf("description %+v", d)
	}
	var order []string
	nodes := map[string]abi.Node{}
	for _, n := range g.Nodes {
		nodes[n.Name] = n
		if !slices.Contains(d.Exports, n.Name) {
			t.Errorf("node %s is not exported", n.Name)
		}
	}
	for n := g.Entry; n != ""; n = nodes[n].Next {
		if len(order) > len(g.Nodes) {
			t.Fatalf("the graph loops: %v", order)
		}
		order = append(order, n)
	}
	if want := []string{"fetch", "extract", "chunk", "index", "enrich", "connect"}; !slices.Equal(order, want) {
		t.Errorf("path %v, want %v", order, want)
	}
	if r := nodes[nodeChunk].Retry; r == nil || r.MaxAttempts != 1 {
		t.Errorf("chunk retry %+v, want one attempt", r)
	}
	for _, n := range []string{nodeFetch, nodeIndex, nodeEnrich} {
		if nodes[n].Retry != nil {
			t.Errorf("%s should use the default retry policy", n)
		}
	}
}

func TestTitleFromText(t *testing.T) {
	long := strings.Repeat("word ", 30)
	for _, tc := range []struct{ text, want string }{
		{"", ""},
		{"\n\n  \n", ""},
		{"## Heading line\n\nBody.", "Heading line"},
		{"- first item\n- second", "first item"},
		{"First sentence. Second sentence.", "First sentence. Second sentence"},
		{"Dr. Who returns", "Dr. Who returns"},
		{"1) numbered", "numbered"},
		{"This opening sentence is a fine title. " + long, "This opening sentence is a fine title"},
		{"Dr. Who " + long, "Dr. Who " + strings.TrimSpace(strings.Repeat("word ", 14)) + "…"},
		{"Ends with colon:\nmore", "Ends with colon"},
		{"```go\ncode\n```\nAfter code", "code"},
		{long, strings.TrimSpace(strings.Repeat("word ", 16)) + "…"},
		{strings.Repeat("日本語", 40), strings.Repeat("日本語", 40)[:len(strings.Repeat("日本語", 40))*80/120] + "…"},
	} {
		if got := titleFromText(tc.text); got != tc.want {
			t.Errorf("titleFromText(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
