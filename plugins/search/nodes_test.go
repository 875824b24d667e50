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

// fakeHost is hostAPI in memory: canned hit lists and chunk texts, knobs for failures,
// and a record of what the nodes asked.
type fakeHost struct {
	keyword abi.SearchOutput
	vector  abi.SearchOutput
	chunks  map[int64]abi.ChunkText
	config  map[string]string

	keywordErr, vectorErr, chunksErr error

	keywordCalls, vectorCalls []abi.SearchInput
	chunkCalls                [][]int64
	logs                      []string
}

func newFakeHost() *fakeHost {
	return &fakeHost{chunks: map[int64]abi.ChunkText{}, config: map[string]string{}}
}

func (h *fakeHost) KeywordSearch(in abi.SearchInput) (abi.SearchOutput, error) {
	h.keywordCalls = append(h.keywordCalls, in)
	return h.keyword, h.keywordErr
}

func (h *fakeHost) VectorSearch(in abi.SearchInput) (abi.SearchOutput, error) {
	h.vectorCalls = append(h.vectorCalls, in)
	return h.vector, h.vectorErr
}

func (h *fakeHost) SearchChunks(ids []int64) ([]abi.ChunkText, error) {
	h.chunkCalls = append(h.chunkCalls, ids)
	if h.chunksErr != nil {
		return nil, h.chunksErr
	}
	var out []abi.ChunkText
	for _, id := range ids {
		if c, ok := h.chunks[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (h *fakeHost) ConfigAll() map[string]string {
	out := map[string]string{}
	for k, v := range h.config {
		out[k] = v
	}
	return out
}

func (h *fakeHost) Log(level, message string, attrs map[string]any) {
	h.logs = append(h.logs, fmt.Sprintf("%s: %s %v", level, message, attrs))
}

// hits builds a hit list from "chunkID:itemID" pairs.
func hits(pairs ...string) []abi.ChunkHit {
	var out []abi.ChunkHit
	for _, p := range pairs {
		var id int64
		var item string
		if _, err := fmt.Sscanf(strings.Replace(p, ":", " ", 1), "%d %s", &id, &item); err != nil {
			panic(p)
		}
		out = append(out, abi.ChunkHit{ChunkID: id, ItemID: item})
	}
	return out
}

// run drives the graph the way the engine does: from the entry, each node's Next or its
// default edge, until the end. It returns the final state and the nodes that ran.
func run(t *testing.T, h hostAPI, input string) (searchState, []string, error) {
	t.Helper()
	w := &workflow{h: h}
	steps := map[string]func(*searchState) (string, error){
		nodeClassify: w.classify, nodeRetrieve: w.retrieve, nodeFuse: w.fuse, nodeSnippet: w.snippet,
	}
	g := description.Graph
	state, next := json.RawMessage(input), g.Entry
	var ran []string
	for next != "" && next != abi.End {
		i := slices.IndexFunc(g.Nodes, func(n abi.Node) bool { return n.Name == next })
		if i < 0 {
			t.Fatalf("node %q is not in the graph", next)
		}
		ran = append(ran, next)
		out, err := harness.RunNode(w.step(steps[next]), abi.NodeInput{RunID: "run_test", Node: next, Attempt: 1, State: state})
		if err != nil {
			return searchState{}, ran, err
		}
		state = out.State
		if next = out.Next; next == "" {
			next = g.Nodes[i].Next
		}
	}
	// The final state is the API's contract: nothing of the working fields may be left.
	var raw map[string]any
	if err := json.Unmarshal(state, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"keyword_hits", "vector_hits", "terms", "phrases"} {
		if _, ok := raw[k]; ok {
			t.Errorf("final state still has %q: %s", k, state)
		}
	}
	for _, k := range []string{"query", "limit", "offset", "mode", "filters", "query_type", "mode_used", "degraded", "notice", "results", "total"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("final state lacks %q: %s", k, state)
		}
	}
	var st searchState
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatal(err)
	}
	return st, ran, nil
}

func mustRun(t *testing.T, h hostAPI, input string) searchState {
	t.Helper()
	st, _, err := run(t, h, input)
	if err != nil {
		t.Fatalf("search %s: %v", input, err)
	}
	return st
}

func ids(rs []result) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ItemID)
	}
	return strings.Join(out, ",")
}

func TestDescription(t *testing.T) {
	g := description.Graph
	if description.Name != "search" || description.Kind != abi.KindWorkflow || description.Workflow != "search" ||
		g == nil || g.Entry != nodeClassify || g.Durable || g.StateSchemaVersion != 1 {
		t.Fatalf("description %+v", description)
	}
	var chain []string
	for _, n := range g.Nodes {
		chain = append(chain, n.Name+"→"+n.Next)
		if n.Retry == nil || n.Retry.MaxAttempts != 1 {
			t.Errorf("node %s retries: %+v", n.Name, n.Retry)
		}
		if !slices.Contains(description.Exports, n.Name) {
			t.Errorf("node %s is not exported", n.Name)
		}
	}
	if got := strings.Join(chain, " "); got != "classify→retrieve retrieve→fuse fuse→snippet snippet→" {
		t.Errorf("graph %s", got)
	}
}

func TestSearchHybrid(t *testing.T) {
	h := newFakeHost()
	h.config["ai_provider"] = "ollama" // the hand-computed scores below use the k = 60 defaults
	h.keyword = abi.SearchOutput{Hits: hits("1:A", "2:B", "3:A"), Terms: []string{"lanternd", "index"}}
	h.vector = abi.SearchOutput{Hits: hits("3:A", "4:C")}
	h.chunks[3] = abi.ChunkText{ChunkID: 3, ItemID: "A", Title: "Field guide", Text: "The lanternd daemon keeps an index."}
	h.chunks[2] = abi.ChunkText{ChunkID: 2, ItemID: "B", Heading: "Indexing", Text: "Indexes are rebuilt nightly."}
	h.chunks[4] = abi.ChunkText{ChunkID: 4, ItemID: "C", Text: "Unrelated & nearby <text>."}

	st := mustRun(t, h, `{"query":"  lanternd index  ","filters":{"tags":["work"]}}`)
	if st.Query != "lanternd index" || st.Limit != 10 || st.Offset != 0 || st.QueryType != typeSimple ||
		st.ModeUsed != modeHybrid || st.Degraded || st.Notice != "" || st.Total != 3 {
		t.Errorf("state %+v", st)
	}
	want := []result{
		{ItemID: "A", Title: "Field guide", Snippet: "The <mark>lanternd</mark> daemon keeps an <mark>index</mark>.",
			Score: 0.9813, ChunkID: 3, KeywordRank: 3, VectorRank: 1},
		{ItemID: "B", Title: "Indexing", Snippet: "<mark>Indexes</mark> are rebuilt nightly.", Score: 0.5787, ChunkID: 2, KeywordRank: 2},
		{ItemID: "C", Title: "", Snippet: "Unrelated &amp; nearby &lt;text&gt;.", Score: 0.4051, ChunkID: 4, VectorRank: 2},
	}
	if !slices.Equal(st.Results, want) {
		t.Errorf("results\n%+v\nwant\n%+v", st.Results, want)
	}
	// Candidates: max(50, 5 × (0 + 10)); the filters go to both searches unchanged.
	if len(h.keywordCalls) != 1 || len(h.vectorCalls) != 1 {
		t.Fatalf("%d keyword and %d vector calls", len(h.keywordCalls), len(h.vectorCalls))
	}
	for _, in := range []abi.SearchInput{h.keywordCalls[0], h.vectorCalls[0]} {
		if in.Query != "lanternd index" || in.Limit != 50 || !slices.Equal(in.Filters.Tags, []string{"work"}) {
			t.Errorf("search input %+v", in)
		}
	}
	if len(h.chunkCalls) != 1 || fmt.Sprint(h.chunkCalls[0]) != "[3 2 4]" {
		t.Errorf("chunk calls %v, want one for the page's best chunks", h.chunkCalls)
	}
	if len(h.logs) != 0 {
		t.Errorf("logged %q on a healthy search", h.logs)
	}
}

func TestSearchPaging(t *testing.T) {
	h := newFakeHost()
	var kw []string
	for i := range 30 { // 30 chunks of 15 items, two each
		kw = append(kw, fmt.Sprintf("%d:item%02d", i+1, i/2))
	}
	h.keyword = abi.SearchOutput{Hits: hits(kw...)}
	st := mustRun(t, h, `{"query":"what is paging?","limit":4,"offset":12}`)
	if st.Total != 15 || ids(st.Results) != "item12,item13,item14" || st.QueryType != typeQuestion {
		t.Errorf("total %d, page %s (%s)", st.Total, ids(st.Results), st.QueryType)
	}
	// max(50, 5 × (12 + 4)) = 80.
	if h.keywordCalls[0].Limit != 80 || h.vectorCalls[0].Limit != 80 {
		t.Errorf("candidates %d / %d, want 80", h.keywordCalls[0].Limit, h.vectorCalls[0].Limit)
	}
	// Results carry the best chunk of each item: the earlier one, ranked higher.
	if r := st.Results[0]; r.ChunkID != 25 || r.KeywordRank != 25 {
		t.Errorf("first result %+v", r)
	}

	st, ran, err := run(t, h, `{"query":"what is paging?","limit":4,"offset":15}`)
	if err != nil || st.Total != 15 || len(st.Results) != 0 || st.Results == nil {
		t.Errorf("past the end: %+v, %v", st, err)
	}
	if slices.Contains(ran, nodeSnippet) {
		t.Errorf("an empty page fetched snippets: ran %v", ran)
	}

	st = mustRun(t, h, `{"query":"x","limit":1000,"offset":-3}`)
	if st.Limit != maxLimit || st.Offset != 0 || len(st.Results) != 15 {
		t.Errorf("limit %d offset %d, %d results", st.Limit, st.Offset, len(st.Results))
	}
	if h.keywordCalls[len(h.keywordCalls)-1].Limit != 500 {
		t.Errorf("candidates %d, want 500", h.keywordCalls[len(h.keywordCalls)-1].Limit)
	}
	st = mustRun(t, h, `{"query":"x","offset":100000}`)
	if n := h.keywordCalls[len(h.keywordCalls)-1].Limit; n != maxCandidates || len(st.Results) != 0 {
		t.Errorf("huge offset: %d candidates, %d results", n, len(st.Results))
	}
}

func TestEmptyQuery(t *testing.T) {
	for _, q := range []string{`""`, `"   \n\t "`} {
		h := newFakeHost()
		st, ran, err := run(t, h, `{"query":`+q+`}`)
		if err != nil || len(st.Results) != 0 || st.Results == nil || st.Total != 0 || st.QueryType != typeSimple ||
			st.ModeUsed != modeHybrid {
			t.Errorf("query %s: %+v, %v", q, st, err)
		}
		if !slices.Equal(ran, []string{nodeClassify}) || len(h.keywordCalls)+len(h.vectorCalls) != 0 {
			t.Errorf("query %s: ran %v and searched", q, ran)
		}
	}
}

func TestBadRequest(t *testing.T) {
	for input, want := range map[string]string{
		`{"query":"x","mode":"fuzzy"}`:                         `search mode "fuzzy"`,
		`{"query":"x","tuning":{"rrf_k":-1}}`:                  "tuning rrf_k = -1",
		`{"query":"x","tuning":{"vector_weight":-0.5}}`:        "tuning vector_weight = -0.5",
		`{"query":"x","tuning":{"candidates":-5}}`:             "tuning candidates = -5",
		`{"query":"x","limit":"ten"}`:                          "decode node state",
		`{"query":"x","filters":{"tags":"not-a-list"},"x":1}`:  "decode node state",
		`{"query":"x","mode":"HYBRID","tuning":{"rrf_k":1e9}}`: "",
	} {
		_, _, err := run(t, newFakeHost(), input)
		var ae *abi.Error
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", input, err)
		case want != "" && (!errors.As(err, &ae) || ae.Code != abi.ErrInvalid || !strings.Contains(ae.Message, want)):
			t.Errorf("%s: error %v, want invalid saying %q", input, err, want)
		}
	}
}

func TestModes(t *testing.T) {
	h := newFakeHost()
	h.keyword = abi.SearchOutput{Hits: hits("1:K")}
	h.vector = abi.SearchOutput{Hits: hits("2:V")}

	st := mustRun(t, h, `{"query":"notes","mode":"keyword"}`)
	if st.ModeUsed != modeKeyword || ids(st.Results) != "K" || len(h.vectorCalls) != 0 || st.Results[0].Score != 1 {
		t.Errorf("keyword mode: %+v, %d vector calls", st, len(h.vectorCalls))
	}
	st = mustRun(t, h, `{"query":"notes","mode":"vector"}`)
	if st.ModeUsed != modeVector || ids(st.Results) != "V" || len(h.keywordCalls) != 1 || st.Results[0].Score != 1 {
		t.Errorf("vector mode: %+v, %d keyword calls", st, len(h.keywordCalls))
	}
	for qtype := range neuralDefaults.W {
		if modeByType[qtype] != modeHybrid {
			t.Errorf("type %s runs %s by default", qtype, modeByType[qtype])
		}
	}
}

func TestDegradedVector(t *testing.T) {
	h := newFakeHost()
	h.keyword = abi.SearchOutput{Hits: hits("1:A", "2:B"), Terms: []string{"notes"}}
	h.vector = abi.SearchOutput{Hits: hits("9:Z")} // must not be used
	h.vectorErr = &abi.Error{Code: abi.ErrUnavailable, Message: "connect to ollama: connection refused"}
	h.chunks[1] = abi.ChunkText{ChunkID: 1, ItemID: "A", Title: "A", Text: "My notes."}

	st := mustRun(t, h, `{"query":"my notes about gardening in spring"}`)
	if !st.Degraded || st.ModeUsed != modeKeyword || ids(st.Results) != "A,B" || st.Total != 2 {
		t.Errorf("state %+v", st)
	}
	if want := "vector search unavailable (connect to ollama: connection refused); showing keyword results"; st.Notice != want {
		t.Errorf("notice %q, want %q", st.Notice, want)
	}
	// Normalised against what ran: keyword #1 is the best possible.
	if st.Results[0].Score != 1 || st.Results[0].Snippet != "My <mark>notes</mark>." {
		t.Errorf("first result %+v", st.Results[0])
	}
	if len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], "warn: vector search failed") {
		t.Errorf("logs %q", h.logs)
	}

	// Explicitly vector, with the model down: keyword results, said so.
	st = mustRun(t, h, `{"query":"notes","mode":"vector"}`)
	if !st.Degraded || st.ModeUsed != modeKeyword || ids(st.Results) != "A,B" || !strings.HasPrefix(st.Notice, "vector search unavailable") {
		t.Errorf("vector mode, model down: %+v", st)
	}
}

func TestDegradedKeyword(t *testing.T) {
	h := newFakeHost()
	h.keywordErr = errors.New("sqlite built without FTS5")
	h.vector = abi.SearchOutput{Hits: hits("7:V", "8:W")}
	h.chunks[7] = abi.ChunkText{ChunkID: 7, ItemID: "V", Text: "Gardeners plant in spring; the garden wakes."}

	st := mustRun(t, h, `{"query":"gardening","mode":"keyword"}`)
	if !st.Degraded || st.ModeUsed != modeVector || ids(st.Results) != "V,W" ||
		st.Notice != "keyword search unavailable (sqlite built without FTS5); showing vector results" {
		t.Errorf("state %+v", st)
	}
	// Vector only: the query's own words, in other forms, are marked.
	if got := st.Results[0].Snippet; got != "<mark>Gardeners</mark> plant in spring; the <mark>garden</mark> wakes." {
		t.Errorf("snippet %q", got)
	}
	if len(h.logs) != 1 || !strings.HasPrefix(h.logs[0], "error: keyword search failed") {
		t.Errorf("logs %q", h.logs)
	}
}

func TestBothSidesFail(t *testing.T) {
	h := newFakeHost()
	h.keywordErr = &abi.Error{Code: abi.ErrUnavailable, Message: "database is locked"}
	h.vectorErr = &abi.Error{Code: abi.ErrUnavailable, Message: "model down"}
	_, ran, err := run(t, h, `{"query":"anything"}`)
	var ae *abi.Error
	if !errors.As(err, &ae) || ae.Code != abi.ErrUnavailable ||
		ae.Message != "search failed: keyword search: database is locked; vector search: model down" {
		t.Errorf("error %v", err)
	}
	if !slices.Equal(ran, []string{nodeClassify, nodeRetrieve}) {
		t.Errorf("ran %v", ran)
	}
	h.keywordErr = &abi.Error{Code: abi.ErrInvalid, Message: `date "yesterday" is not RFC 3339`}
	h.vectorErr = h.keywordErr
	if _, _, err := run(t, h, `{"query":"anything","mode":"keyword"}`); !errors.As(err, &ae) || ae.Code != abi.ErrInvalid {
		t.Errorf("bad filter: %v", err)
	}
}

func TestSnippetsUnavailable(t *testing.T) {
	h := newFakeHost()
	h.keyword = abi.SearchOutput{Hits: hits("1:A")}
	h.chunksErr = &abi.Error{Code: abi.ErrInternal, Message: "disk I/O error"}
	st := mustRun(t, h, `{"query":"notes"}`)
	if ids(st.Results) != "A" || st.Results[0].Snippet != "" || st.Notice != "snippets unavailable (disk I/O error)" {
		t.Errorf("state %+v", st)
	}
	// A chunk gone since retrieval (the item re-chunked) leaves its result bare.
	h.chunksErr = nil
	st = mustRun(t, h, `{"query":"notes"}`)
	if ids(st.Results) != "A" || st.Results[0].Snippet != "" || st.Results[0].Title != "" || st.Notice != "" {
		t.Errorf("state %+v", st)
	}
}

// TestFusionSettings: defaults by query type, then the plugin's config, then the request's
// tuning; a bad config value is ignored with a warning.
func TestFusionSettings(t *testing.T) {
	h := newFakeHost()
	w := &workflow{h: h}
	st := &searchState{QueryType: typeQuestion, ModeUsed: modeHybrid}
	if f := w.fusion(st); f.K != 10 || f.W != (weights{1.0, 0.5}) || !f.UseKeyword || !f.UseVector {
		t.Errorf("local defaults %+v", f)
	}
	h.config = map[string]string{"ai_provider": "ollama"}
	if f := w.fusion(st); f.K != 60 || f.W != (weights{0.8, 1.0}) {
		t.Errorf("neural defaults %+v", f)
	}
	h.config = map[string]string{"ai_provider": "ollama", "rrf_k": " 20 ", "weight_question_vector": "2", "weight_question_keyword": "lots",
		"weight_simple_keyword": "5"}
	if f := w.fusion(st); f.K != 20 || f.W != (weights{0.8, 2}) {
		t.Errorf("config %+v", f)
	}
	if len(h.logs) != 1 || !strings.Contains(h.logs[0], "weight_question_keyword") {
		t.Errorf("logs %q", h.logs)
	}
	zero, k := 0.0, 10.0
	st.Tuning = &tuning{RRFK: &k, KeywordWeight: &zero}
	if f := w.fusion(st); f.K != 10 || f.W != (weights{0, 2}) {
		t.Errorf("tuning %+v", f)
	}
	st.ModeUsed = modeKeyword
	if f := w.fusion(st); !f.UseKeyword || f.UseVector {
		t.Errorf("keyword-only %+v", f)
	}
}

// TestTuningChangesOrder runs the evaluator's kind of request end to end: the weights
// decide which list's #1 wins.
func TestTuningChangesOrder(t *testing.T) {
	h := newFakeHost()
	h.keyword = abi.SearchOutput{Hits: hits("1:K")}
	h.vector = abi.SearchOutput{Hits: hits("2:V")}
	// In order: the last case's candidate count is checked below.
	for _, tc := range []struct{ tuning, want string }{
		{`{"rrf_k":10,"keyword_weight":1,"vector_weight":0.5}`, "K,V"},
		{`{"rrf_k":10,"keyword_weight":0.5,"vector_weight":1}`, "V,K"},
		{`{"keyword_weight":0,"candidates":7}`, "V,K"},
	} {
		st := mustRun(t, h, `{"query":"notes","mode":"hybrid","tuning":`+tc.tuning+`}`)
		if ids(st.Results) != tc.want {
			t.Errorf("tuning %s: %s, want %s", tc.tuning, ids(st.Results), tc.want)
		}
	}
	if n := h.keywordCalls[len(h.keywordCalls)-1].Limit; n != 7 {
		t.Errorf("tuned candidates: asked for %d", n)
	}
}
