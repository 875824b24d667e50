package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/sdk/abi"
)

// Workflows runs workflow plugins (search, chat) interactively.
type Workflows interface {
	Execute(ctx context.Context, workflow string, input json.RawMessage, opts host.RunOptions) (host.Result, error)
}

const (
	maxQueryLen     = 1000
	maxSearchLimit  = 100
	maxSearchOffset = 10000
	searchTimeout   = 30 * time.Second
)

type searchRequest struct {
	Query   *string           `json:"query"`
	Limit   *int              `json:"limit,omitempty"`
	Offset  int               `json:"offset,omitempty"`
	Mode    string            `json:"mode,omitempty"`
	Filters abi.SearchFilters `json:"filters,omitempty"`
}

// searchResult is one item found, as the seed design shows it, with the best chunk.
type searchResult struct {
	ItemID  string  `json:"item_id"`
	Title   string  `json:"title"`
	Snippet string  `json:"snippet"`
	Score   float64 `json:"score"`
	ChunkID int64   `json:"chunk_id,omitempty"`
}

type searchResponse struct {
	Results   []searchResult `json:"results"`
	QueryType string         `json:"query_type"`
	TookMS    int64          `json:"took_ms"`
	Total     int            `json:"total"`
	Limit     int            `json:"limit"`
	Offset    int            `json:"offset"`
	// Mode is how the search ran: keyword, vector or hybrid.
	Mode string `json:"mode"`
	// Degraded is true when one side could not run (the embedding model is down); Notice
	// says why.
	Degraded bool   `json:"degraded"`
	Notice   string `json:"notice,omitempty"`
}

// searchState is the search workflow's state: what the API sends in, what comes back.
type searchState struct {
	Query     string            `json:"query"`
	Limit     int               `json:"limit"`
	Offset    int               `json:"offset"`
	Mode      string            `json:"mode,omitempty"`
	Filters   abi.SearchFilters `json:"filters"`
	QueryType string            `json:"query_type,omitempty"`
	ModeUsed  string            `json:"mode_used,omitempty"`
	Degraded  bool              `json:"degraded,omitempty"`
	Notice    string            `json:"notice,omitempty"`
	Results   []searchResult    `json:"results,omitempty"`
	Total     int               `json:"total,omitempty"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req searchRequest
	if err := decodeJSON(r, maxSettingsBody, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := req.validate()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := searchResponse{Results: []searchResult{}, Limit: in.Limit, Offset: in.Offset, QueryType: "simple", Mode: in.Mode}
	if strings.TrimSpace(in.Query) != "" {
		out, err := s.runSearch(r.Context(), in)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		resp.QueryType, resp.Mode, resp.Degraded, resp.Notice, resp.Total = out.QueryType, out.ModeUsed, out.Degraded, out.Notice, out.Total
		if out.Results != nil {
			resp.Results = out.Results
		}
		s.recordQuery(in.Query)
	}
	if resp.Mode == "" {
		resp.Mode = "hybrid"
	}
	resp.TookMS = time.Since(start).Milliseconds()
	writeJSON(w, http.StatusOK, resp)
}

func (req searchRequest) validate() (searchState, error) {
	if req.Query == nil {
		return searchState{}, errValidation("query", "field required")
	}
	st := searchState{Query: *req.Query, Limit: 10, Offset: req.Offset, Mode: req.Mode, Filters: req.Filters}
	if utf8.RuneCountInString(st.Query) > maxQueryLen {
		return st, errValidation("query", "is longer than %d characters", maxQueryLen)
	}
	if req.Limit != nil {
		st.Limit = *req.Limit
	}
	if st.Limit < 1 || st.Limit > maxSearchLimit {
		return st, errValidation("limit", "must be from 1 to %d (got %d)", maxSearchLimit, st.Limit)
	}
	if st.Offset < 0 || st.Offset > maxSearchOffset {
		return st, errValidation("offset", "must be from 0 to %d (got %d)", maxSearchOffset, st.Offset)
	}
	switch st.Mode {
	case "", "keyword", "vector", "hybrid":
	default:
		return st, errValidation("mode", "must be keyword, vector or hybrid (got %q)", truncate(st.Mode, 20))
	}
	for field, d := range map[string]string{"filters.created_after": req.Filters.CreatedAfter, "filters.created_before": req.Filters.CreatedBefore} {
		if d == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, d); err != nil {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return st, errValidation(field, "must be an RFC 3339 date (got %q)", truncate(d, 40))
			}
		}
	}
	return st, nil
}

func (s *Server) runSearch(ctx context.Context, in searchState) (searchState, error) {
	if s.workflows == nil {
		return searchState{}, &Error{Status: http.StatusServiceUnavailable, Code: "search_unavailable", Message: "search is not available in this server"}
	}
	ctx, cancel := context.WithTimeout(ctx, searchTimeout)
	defer cancel()
	raw, _ := json.Marshal(in)
	res, err := s.workflows.Execute(ctx, "search", raw, host.RunOptions{})
	if err != nil {
		if errors.Is(err, host.ErrNotFound) || errors.Is(err, host.ErrNotReady) {
			return searchState{}, &Error{Status: http.StatusServiceUnavailable, Code: "search_unavailable",
				Message: "the search plugin is not loaded: " + err.Error()}
		}
		return searchState{}, &Error{Status: http.StatusServiceUnavailable, Code: "search_failed", Message: err.Error()}
	}
	var out searchState
	if err := json.Unmarshal(res.State, &out); err != nil {
		return searchState{}, &Error{Status: http.StatusInternalServerError, Code: "search_failed", Message: "the search plugin returned an unreadable result"}
	}
	return out, nil
}

// recordQuery remembers a search for suggestions without making the search wait for the
// database's single writer.
func (s *Server) recordQuery(q string) {
	select {
	case s.history <- q:
	default: // a burst of searches: dropping a suggestion source is fine
	}
}

func (s *Server) recordHistory() {
	for q := range s.history {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.store.RecordQuery(ctx, q); err != nil {
			s.log.Warn("record search history", "err", err)
		}
		cancel()
	}
}

type suggestionsResponse struct {
	Suggestions []string `json:"suggestions"`
}

var suggestionsQuery = []queryParam{
	{"q", "string", "what the user has typed so far"},
	{"limit", "integer", "at most this many, 1..50 (default 8)"},
}

func (s *Server) suggestions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typed := q.Get("q")
	if utf8.RuneCountInString(typed) > maxQueryLen {
		s.writeError(w, r, errValidation("q", "is longer than %d characters", maxQueryLen))
		return
	}
	limit, err := intParam(q, "limit", 8, 1, 50)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.store.Suggest(r.Context(), typed, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, suggestionsResponse{Suggestions: out})
}
