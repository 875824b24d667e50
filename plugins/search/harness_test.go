//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/providers/local"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
	"github.com/cortexhq/cortex/store"
)

// switchEmbedder is the offline local model that can be made to look down, as Ollama
// does when it is not running.
type switchEmbedder struct {
	*local.Client
	down atomic.Bool
}

func (e *switchEmbedder) Embed(ctx context.Context, texts []string, p providers.EmbedPurpose) ([][]float32, error) {
	if e.down.Load() {
		return nil, fmt.Errorf("connect to ollama: %w", providers.ErrUnavailable)
	}
	return e.Client.Embed(ctx, texts, p)
}

type seedItem struct {
	title   string
	heading string
	chunks  []string
}

// seed stores items with chunks and local-model vectors the way processing's index node
// leaves them, and returns their IDs by title (or heading).
func seed(t *testing.T, p *harness.Plugin, items []seedItem) map[string]string {
	t.Helper()
	ctx := context.Background()
	emb := local.New()
	space, err := p.DB.EnsureSpace(ctx, store.SpaceIdentity{Provider: "local", Model: local.EmbedModelName, Dimensions: local.Dimensions}, 500, 50)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.DB.SetSpaceState(ctx, space.ID, store.SpaceActive); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range items {
		id := p.SeedItem(store.NewItem{Title: it.title, Content: strings.Join(it.chunks, "\n\n")})
		var chunks []store.Chunk
		off := 0
		for _, c := range it.chunks {
			chunks = append(chunks, store.Chunk{Text: c, Heading: it.heading, StartOffset: off, EndOffset: off + len(c),
				TokenCount: len(strings.Fields(c))})
			off += len(c) + 2
		}
		vecs, err := emb.Embed(ctx, it.chunks, providers.PurposeDocument)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DB.ReplaceChunks(ctx, id, chunks, &space, vecs); err != nil {
			t.Fatal(err)
		}
		out[it.title+it.heading] = id
	}
	return out
}

// search runs the four node exports in order through the real host, following each
// node's Next as the engine would, and returns the final state and the nodes that ran.
func search(t *testing.T, p *harness.Plugin, input map[string]any) (searchState, []string) {
	t.Helper()
	state, _ := json.Marshal(input)
	var ran []string
	for _, node := range []string{nodeClassify, nodeRetrieve, nodeFuse, nodeSnippet} {
		var out abi.NodeOutput
		if err := p.Call(node, abi.NodeInput{RunID: "run_test", Node: node, Attempt: 1, State: state}, &out); err != nil {
			t.Fatalf("%s: %v", node, err)
		}
		ran, state = append(ran, node), out.State
		if out.Next == abi.End {
			break
		}
	}
	if strings.Contains(string(state), "keyword_hits") || strings.Contains(string(state), `"terms"`) {
		t.Errorf("final state keeps working fields: %s", state)
	}
	var st searchState
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatalf("state %s: %v", state, err)
	}
	return st, ran
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

func TestHarness(t *testing.T) {
	emb := &switchEmbedder{Client: local.New()}
	p := harness.Load(t, harness.Build(t, "."), harness.Options{Capabilities: []string{abi.CapSearch}, Embedder: emb})
	ids := seed(t, p, []seedItem{
		{title: "Field Guide to Lanternd", chunks: []string{
			"Lanternd is a small daemon that keeps a search index of your notes and rebuilds it nightly.",
			"To install lanternd, download the binary and run lanternd init in your notes folder."}},
		{title: "Sourdough at Home", chunks: []string{
			"A sourdough starter is flour and water fermented by wild yeast and bacteria.",
			"Bake the sourdough loaf in a hot Dutch oven; steam keeps the crust from setting too early."}},
		{title: "Proxy Troubleshooting", chunks: []string{
			"Chrome shows ERR_CONN_RESET when the corporate proxy drops the connection mid-handshake.",
			"Setting the proxy bypass list fixes most of these resets."}},
		{heading: "Spring planting", chunks: []string{ // no title: the heading stands in
			"We planted tomatoes, beans and basil after the last frost."}},
	})

	if !p.DB.HasFTS5() {
		// Built without -tags sqlite_fts5 the store has no keyword index: the search must
		// still answer, from vectors, and say why.
		st, _ := search(t, p, map[string]any{"query": "ERR_CONN_RESET"})
		if !st.Degraded || st.ModeUsed != modeVector || !strings.HasPrefix(st.Notice, "keyword search unavailable (") {
			t.Errorf("without FTS5: %+v", st)
		}
		t.Skip("keyword search needs -tags sqlite_fts5; only the degraded path was checked")
	}

	t.Run("identifier", func(t *testing.T) {
		before := len(p.HostCalls())
		st, ran := search(t, p, map[string]any{"query": "ERR_CONN_RESET", "limit": 2})
		if st.QueryType != typeSimple || st.ModeUsed != modeHybrid || st.Degraded || st.Notice != "" || len(ran) != 4 {
			t.Fatalf("state %+v after %v", st, ran)
		}
		if len(st.Results) == 0 || st.Results[0].ItemID != ids["Proxy Troubleshooting"] || st.Results[0].KeywordRank != 1 {
			t.Fatalf("results %+v", st.Results)
		}
		r := st.Results[0]
		if r.Title != "Proxy Troubleshooting" || r.Score <= 0 || r.Score > 1 ||
			r.Snippet != "Chrome shows <mark>ERR_CONN_RESET</mark> when the corporate proxy drops the connection mid-handshake." {
			t.Errorf("first result %+v", r)
		}
		if len(st.Results) > 2 || st.Total < len(st.Results) {
			t.Errorf("%d results of %d, limit 2", len(st.Results), st.Total)
		}
		var fns []string
		for _, c := range p.HostCalls()[before:] {
			fns = append(fns, c.Function)
		}
		if want := []string{abi.FnSearchKeyword, abi.FnSearchVector, abi.FnConfig, abi.FnSearchChunks}; !slices.Equal(fns, want) {
			t.Errorf("host calls %v, want %v", fns, want)
		}
	})

	t.Run("question", func(t *testing.T) {
		st, _ := search(t, p, map[string]any{"query": "how do I bake sourdough bread?"})
		if st.QueryType != typeQuestion || len(st.Results) == 0 || st.Results[0].ItemID != ids["Sourdough at Home"] {
			t.Fatalf("state %+v", st)
		}
		if !strings.Contains(st.Results[0].Snippet, "<mark>sourdough</mark>") {
			t.Errorf("snippet %q", st.Results[0].Snippet)
		}
		seen := map[string]bool{}
		for _, r := range st.Results {
			if seen[r.ItemID] {
				t.Errorf("item %s appears twice", r.ItemID)
			}
			seen[r.ItemID] = true
		}
		if st.Total != len(st.Results) {
			t.Errorf("total %d, %d results on one page", st.Total, len(st.Results))
		}
	})

	t.Run("filters reach both searches", func(t *testing.T) {
		allowed := []string{ids["Field Guide to Lanternd"], ids["Spring planting"]}
		st, _ := search(t, p, map[string]any{"query": "sourdough starter", "filters": map[string]any{"item_ids": allowed}})
		if len(st.Results) == 0 {
			t.Fatal("no results: the vector side should still find the allowed items")
		}
		for _, r := range st.Results {
			if !slices.Contains(allowed, r.ItemID) {
				t.Errorf("result %s is outside the filter", r.ItemID)
			}
			if r.KeywordRank != 0 {
				t.Errorf("keyword hit %+v: the allowed items do not say sourdough", r)
			}
		}
	})

	t.Run("empty query", func(t *testing.T) {
		before := hostCalls(p, abi.FnSearchKeyword)
		st, ran := search(t, p, map[string]any{"query": " \t "})
		if !slices.Equal(ran, []string{nodeClassify}) || len(st.Results) != 0 || st.Total != 0 || hostCalls(p, abi.FnSearchKeyword) != before {
			t.Errorf("ran %v, state %+v", ran, st)
		}
	})

	t.Run("embedding model down", func(t *testing.T) {
		emb.down.Store(true)
		defer emb.down.Store(false)
		st, _ := search(t, p, map[string]any{"query": "tomatoes and basil"})
		if !st.Degraded || st.ModeUsed != modeKeyword || !strings.HasPrefix(st.Notice, "vector search unavailable (") ||
			!strings.HasSuffix(st.Notice, "); showing keyword results") {
			t.Fatalf("state %+v", st)
		}
		if len(st.Results) != 1 || st.Results[0].ItemID != ids["Spring planting"] || st.Results[0].Title != "Spring planting" ||
			st.Results[0].Score != 1 || !strings.Contains(st.Results[0].Snippet, "<mark>tomatoes</mark>") {
			t.Errorf("results %+v", st.Results)
		}
	})
}
