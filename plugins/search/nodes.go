package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cortexhq/cortex/sdk/abi"
)

// hostAPI is the part of the SDK the nodes use. main.go implements it with the real host
// functions; tests use a fake, so every branch of the nodes runs natively.
type hostAPI interface {
	KeywordSearch(in abi.SearchInput) (abi.SearchOutput, error)
	VectorSearch(in abi.SearchInput) (abi.SearchOutput, error)
	SearchChunks(ids []int64) ([]abi.ChunkText, error)
	// ConfigAll returns the plugin's config and the settings the host shares.
	ConfigAll() map[string]string
	Log(level, message string, attrs map[string]any)
}

// Search modes.
const (
	modeKeyword = "keyword"
	modeVector  = "vector"
	modeHybrid  = "hybrid"
)

// modeByType is the mode a query type runs in when the request names none. Hybrid for
// all measured best (robust for every type); the table is here so the lead can try
// otherwise with the evaluator.
var modeByType = map[string]string{
	typeSimple:   modeHybrid,
	typeSemantic: modeHybrid,
	typeQuestion: modeHybrid,
}

// Paging and candidates. Each list brings candidateFactor chunks per result up to the end
// of the page (several chunks of one item collapse into one result), at least
// minCandidates so RRF has an overlap to work with, at most the host's cap.
const (
	defaultLimit    = 10
	maxLimit        = 100
	minCandidates   = 50
	candidateFactor = 5
	maxCandidates   = 1000
)

// searchState is the workflow's state. The API starts a run with the request fields and
// returns the final state to the client, so the JSON names are a contract.
type searchState struct {
	// The request.
	Query   string            `json:"query"`
	Limit   int               `json:"limit"`
	Offset  int               `json:"offset"`
	Mode    string            `json:"mode"`
	Filters abi.SearchFilters `json:"filters"`
	Tuning  *tuning           `json:"tuning,omitempty"`
	// NoSnippets skips the snippet node's work (the evaluator needs only the ranking).
	NoSnippets bool `json:"no_snippets,omitempty"`

	// The answer.
	QueryType string   `json:"query_type"`
	ModeUsed  string   `json:"mode_used"`
	Degraded  bool     `json:"degraded"`
	Notice    string   `json:"notice"`
	Results   []result `json:"results"`
	Total     int      `json:"total"`

	// Between nodes only, and gone from the final state: the candidates (IDs, ranked, no
	// text), and the words the keyword search looked for, to mark in snippets.
	KeywordHits []hitRef `json:"keyword_hits,omitempty"`
	VectorHits  []hitRef `json:"vector_hits,omitempty"`
	Terms       []string `json:"terms,omitempty"`
	Phrases     []string `json:"phrases,omitempty"`
}

// tuning overrides the fusion settings for one search (the evaluator sweeps them).
// Pointers, so that 0 is a weight and not "unset".
type tuning struct {
	RRFK          *float64 `json:"rrf_k,omitempty"`
	KeywordWeight *float64 `json:"keyword_weight,omitempty"`
	VectorWeight  *float64 `json:"vector_weight,omitempty"`
	Candidates    int      `json:"candidates,omitempty"`
}

// result is one item found. Ranks are those of its best chunk in each list, 0 when that
// list did not find the chunk; with the weights they reproduce Score.
type result struct {
	ItemID      string  `json:"item_id"`
	Title       string  `json:"title"`
	Snippet     string  `json:"snippet"`
	Score       float64 `json:"score"`
	ChunkID     int64   `json:"chunk_id"`
	KeywordRank int     `json:"keyword_rank"`
	VectorRank  int     `json:"vector_rank"`
}

type workflow struct{ h hostAPI }

// step adapts a node to sdk.HandleNode, which hands it the state already decoded.
func (w *workflow) step(fn func(*searchState) (string, error)) func(abi.NodeInput, *searchState) (string, error) {
	return func(_ abi.NodeInput, st *searchState) (string, error) {
		next, err := fn(st)
		if err == nil && st.Results == nil {
			st.Results = []result{} // clients get [], never null
		}
		return next, err
	}
}

// classify checks the request, fills in its defaults and labels the query. An empty
// query has nothing to search: the run ends with no results.
func (w *workflow) classify(st *searchState) (string, error) {
	if err := st.normalise(); err != nil {
		return "", err
	}
	// The answer fields start clean, so a state passed through twice cannot carry an old
	// answer.
	st.ModeUsed, st.Degraded, st.Notice, st.Results, st.Total = "", false, "", nil, 0
	st.KeywordHits, st.VectorHits, st.Terms, st.Phrases = nil, nil, nil, nil
	if st.Query == "" {
		st.QueryType = typeSimple
		st.ModeUsed = resolveMode(st.Mode, st.QueryType)
		return abi.End, nil
	}
	st.QueryType = classify(st.Query)
	return "", nil
}

// normalise trims the query and applies the request's defaults and bounds. The API
// validates too; this keeps other callers (the evaluator, tests) from breaking a search.
func (st *searchState) normalise() error {
	st.Query = strings.TrimSpace(st.Query)
	if st.Limit <= 0 {
		st.Limit = defaultLimit
	}
	st.Limit = min(st.Limit, maxLimit)
	st.Offset = max(st.Offset, 0)
	st.Mode = strings.ToLower(strings.TrimSpace(st.Mode))
	switch st.Mode {
	case "", modeKeyword, modeVector, modeHybrid:
	default:
		return abi.Errorf(abi.ErrInvalid, "search mode %q: want keyword, vector, hybrid or none", st.Mode)
	}
	if t := st.Tuning; t != nil {
		for name, v := range map[string]*float64{"rrf_k": t.RRFK, "keyword_weight": t.KeywordWeight, "vector_weight": t.VectorWeight} {
			if v != nil && !validSetting(*v) {
				return abi.Errorf(abi.ErrInvalid, "tuning %s = %v: want a finite number ≥ 0", name, *v)
			}
		}
		if t.Candidates < 0 {
			return abi.Errorf(abi.ErrInvalid, "tuning candidates = %d: want ≥ 0", t.Candidates)
		}
	}
	return nil
}

func validSetting(v float64) bool { return v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// resolveMode is the explicit mode, else the query type's.
func resolveMode(explicit, queryType string) string {
	if explicit != "" {
		return explicit
	}
	if m, ok := modeByType[queryType]; ok {
		return m
	}
	return modeHybrid
}

// candidates is how many chunks each list brings.
func (st *searchState) candidates() int {
	if st.Tuning != nil && st.Tuning.Candidates > 0 {
		return min(st.Tuning.Candidates, maxCandidates)
	}
	return min(max(minCandidates, candidateFactor*(min(st.Offset, maxCandidates)+st.Limit)), maxCandidates)
}

// retrieve gets the candidates. One side failing — the embedding model down, the keyword
// index missing — does not fail the search: it goes on with the other side and says why.
// A single-side mode falls back to the other side the same way. Only when neither side
// answers does the search fail.
func (w *workflow) retrieve(st *searchState) (string, error) {
	mode := resolveMode(st.Mode, st.QueryType)
	in := abi.SearchInput{Query: st.Query, Limit: st.candidates(), Filters: st.Filters}
	var kw, vec abi.SearchOutput
	var kwErr, vecErr error
	askedKw, askedVec := mode != modeVector, mode != modeKeyword
	if askedKw {
		kw, kwErr = w.h.KeywordSearch(in)
	}
	if askedVec {
		vec, vecErr = w.h.VectorSearch(in)
	}
	if !askedVec && kwErr != nil {
		askedVec = true
		vec, vecErr = w.h.VectorSearch(in)
	}
	if !askedKw && vecErr != nil {
		askedKw = true
		kw, kwErr = w.h.KeywordSearch(in)
	}
	kwOK, vecOK := askedKw && kwErr == nil, askedVec && vecErr == nil
	if !kwOK && !vecOK {
		return "", bothFailed(kwErr, vecErr)
	}
	// A failed call's output is not trusted, whatever it holds.
	if kwErr != nil {
		kw = abi.SearchOutput{}
		w.degrade(st, "keyword", "vector", kwErr)
	}
	if vecErr != nil {
		vec = abi.SearchOutput{}
		w.degrade(st, "vector", "keyword", vecErr)
	}
	switch {
	case kwOK && vecOK:
		st.ModeUsed = modeHybrid
	case kwOK:
		st.ModeUsed = modeKeyword
	default:
		st.ModeUsed = modeVector
	}
	st.KeywordHits, st.VectorHits = refs(kw.Hits, in.Limit), refs(vec.Hits, in.Limit)
	st.Terms, st.Phrases = kw.Terms, kw.Phrases
	return "", nil
}

// degrade records that one side failed and the search shows the other's results.
func (w *workflow) degrade(st *searchState, failed, shown string, err error) {
	code, msg := abi.ErrInternal, err.Error()
	var ae *abi.Error
	if errors.As(err, &ae) {
		code, msg = ae.Code, ae.Message
	}
	level := "warn"
	if code != abi.ErrUnavailable {
		level = "error" // not a provider being down: a bug or a broken index worth a look
	}
	w.h.Log(level, failed+" search failed; showing "+shown+" results", map[string]any{"code": code, "err": msg, "query_type": st.QueryType})
	st.Degraded = true
	st.addNotice(fmt.Sprintf("%s search unavailable (%s); showing %s results", failed, msg, shown))
}

func (st *searchState) addNotice(n string) {
	if st.Notice != "" {
		st.Notice += "; "
	}
	st.Notice += n
}

// bothFailed keeps the keyword side's code (the vector side's when the keyword side has
// none), so "unavailable" still reads as "try again later".
func bothFailed(kwErr, vecErr error) error {
	code := abi.ErrInternal
	for _, err := range []error{vecErr, kwErr} {
		var ae *abi.Error
		if errors.As(err, &ae) {
			code = ae.Code
		}
	}
	return abi.Errorf(code, "search failed: keyword search: %s; vector search: %s", message(kwErr), message(vecErr))
}

func refs(hits []abi.ChunkHit, limit int) []hitRef {
	if len(hits) == 0 {
		return nil
	}
	out := make([]hitRef, 0, min(len(hits), limit))
	for _, h := range hits[:min(len(hits), limit)] {
		out = append(out, hitRef{ChunkID: h.ChunkID, ItemID: h.ItemID, Exact: h.Exact})
	}
	return out
}

// fuse ranks items by weighted RRF over both lists and cuts the page. An empty page ends
// the run: there is nothing to fetch snippets for.
func (w *workflow) fuse(st *searchState) (string, error) {
	f := w.fusion(st)
	items := fuse(st.KeywordHits, st.VectorHits, f)
	st.KeywordHits, st.VectorHits = nil, nil
	st.Total = len(items)
	pg := page(items, st.Offset, st.Limit)
	st.Results = make([]result, len(pg))
	for i, it := range pg {
		st.Results[i] = result{ItemID: it.ItemID, ChunkID: it.ChunkID, Score: f.normalise(it.Score),
			KeywordRank: it.KeywordRank, VectorRank: it.VectorRank}
	}
	if len(pg) == 0 {
		st.Terms, st.Phrases = nil, nil
		return abi.End, nil
	}
	return "", nil
}

// fusion is the settings for this search: the defaults for its query type, then the
// plugin's config (rrf_k, weight_<type>_keyword, weight_<type>_vector), then the request's
// tuning.
func (w *workflow) fusion(st *searchState) fusion {
	cfg := w.h.ConfigAll() // one host call for every setting below
	d := defaultsFor(cfg["ai_provider"])
	f := fusion{K: d.K, W: d.W[st.QueryType], UseKeyword: st.ModeUsed != modeVector, UseVector: st.ModeUsed != modeKeyword}
	if _, ok := d.W[st.QueryType]; !ok {
		f.W = d.W[typeSemantic]
	}
	w.configFloat(cfg, "rrf_k", &f.K)
	w.configFloat(cfg, "weight_"+st.QueryType+"_keyword", &f.W.Keyword)
	w.configFloat(cfg, "weight_"+st.QueryType+"_vector", &f.W.Vector)
	if t := st.Tuning; t != nil {
		for _, o := range []struct {
			v   *float64
			dst *float64
		}{{t.RRFK, &f.K}, {t.KeywordWeight, &f.W.Keyword}, {t.VectorWeight, &f.W.Vector}} {
			if o.v != nil {
				*o.dst = *o.v
			}
		}
	}
	return f
}

// configFloat reads a number from the plugin's config into dst; a value that is not a
// finite number ≥ 0 is logged and ignored, since a typo in plugins.toml must not break
// search.
func (w *workflow) configFloat(cfg map[string]string, key string, dst *float64) {
	raw, ok := cfg[key]
	if !ok {
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || !validSetting(v) {
		w.h.Log("warn", "ignoring search config "+key+": want a finite number ≥ 0", map[string]any{"value": raw})
		return
	}
	*dst = v
}

// snippet fetches the page's best chunks in one call and cuts their snippets. If that
// fails the results still stand, without snippets.
func (w *workflow) snippet(st *searchState) (string, error) {
	terms, phrases := st.Terms, st.Phrases
	st.Terms, st.Phrases = nil, nil
	if len(st.Results) == 0 || st.NoSnippets {
		return abi.End, nil
	}
	ids := make([]int64, len(st.Results))
	for i, r := range st.Results {
		ids[i] = r.ChunkID
	}
	texts, err := w.h.SearchChunks(ids)
	if err != nil {
		w.h.Log("error", "search snippets failed; showing results without them", map[string]any{"err": err.Error()})
		st.addNotice("snippets unavailable (" + message(err) + ")")
		return abi.End, nil
	}
	byID := make(map[int64]abi.ChunkText, len(texts))
	for _, c := range texts {
		byID[c.ChunkID] = c
	}
	// The keyword search's own words are what it matched; without them (vector only) the
	// query's words stand in, and stemming finds their other forms.
	if len(terms) == 0 && len(phrases) == 0 {
		terms = queryWords(st.Query)
	}
	m := newMatcher(terms, phrases)
	for i := range st.Results {
		c, ok := byID[st.Results[i].ChunkID]
		if !ok {
			continue // re-chunked since retrieval: the item is still there, the API may fill the title
		}
		st.Results[i].Title = strings.TrimSpace(c.Title)
		if st.Results[i].Title == "" {
			st.Results[i].Title = strings.TrimSpace(c.Heading)
		}
		st.Results[i].Snippet = snippet(c.Text, m)
	}
	return abi.End, nil
}

func message(err error) string {
	if err == nil {
		return "not asked"
	}
	var ae *abi.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}
