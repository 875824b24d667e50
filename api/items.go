package api

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/cortexhq/cortex/store"
)

// Field limits: generous for real use, small enough that one request cannot bloat rows
// that every list reads.
const (
	maxTitleLen  = 2000
	maxURLLen    = 8192
	maxSourceLen = 100
	maxTags      = 100
	maxTagLen    = 100
)

type createItemRequest struct {
	URL         *string         `json:"url,omitempty"`
	Title       *string         `json:"title"`
	Content     *string         `json:"content,omitempty"`
	Source      *string         `json:"source,omitempty"`
	ContentType *string         `json:"content_type,omitempty"`
	Tags        []string        `json:"tags,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	// RequestID makes a retried create idempotent (the Idempotency-Key header does the same).
	RequestID string `json:"request_id,omitempty"`
}

type createItemResponse struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	// Duplicate is true when the URL, content or request ID was already saved and the
	// existing item is returned.
	Duplicate bool `json:"duplicate"`
}

func (s *Server) createItem(w http.ResponseWriter, r *http.Request) {
	var req createItemRequest
	if err := decodeJSON(r, s.maxBody, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := req.validate()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" && in.RequestID == "" {
		in.RequestID = key
	}
	if len(in.RequestID) > 200 {
		s.writeError(w, r, errValidation("request_id", "is longer than 200 characters"))
		return
	}
	item, created, err := s.store.CreateItem(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if created {
		s.wake()
	}
	writeJSON(w, http.StatusOK, createItemResponse{
		ID: item.ID, Title: item.Title, Status: item.Status, CreatedAt: item.CreatedAt, Duplicate: !created,
	})
}

func (req createItemRequest) validate() (store.NewItem, error) {
	if req.Title == nil {
		return store.NewItem{}, errValidation("title", "field required (it may be empty: the extracted title fills it)")
	}
	in := store.NewItem{Title: strings.TrimSpace(*req.Title), Source: "manual", Metadata: req.Metadata, RequestID: req.RequestID}
	if req.URL != nil {
		in.URL = strings.TrimSpace(*req.URL)
	}
	if req.Content != nil {
		in.Content = *req.Content
	}
	if req.Source != nil {
		in.Source = strings.TrimSpace(*req.Source)
		if in.Source == "" {
			in.Source = "manual"
		}
	}
	if req.ContentType != nil {
		in.ContentType = strings.TrimSpace(*req.ContentType)
	}
	in.Tags = req.Tags
	if err := validateItemFields(in.Title, in.URL, in.Source, in.ContentType, in.Tags, in.Metadata); err != nil {
		return store.NewItem{}, err
	}
	if in.URL == "" && strings.TrimSpace(in.Content) == "" {
		return store.NewItem{}, errValidation("content", "field required when no url is given")
	}
	return in, nil
}

func validateItemFields(title, rawURL, source, contentType string, tags []string, metadata json.RawMessage) error {
	if utf8.RuneCountInString(title) > maxTitleLen {
		return errValidation("title", "is longer than %d characters", maxTitleLen)
	}
	if rawURL != "" {
		if len(rawURL) > maxURLLen {
			return errValidation("url", "is longer than %d characters", maxURLLen)
		}
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return errValidation("url", "must be an absolute http or https URL (got %q)", truncate(rawURL, 100))
		}
	}
	if len(source) > maxSourceLen {
		return errValidation("source", "is longer than %d characters", maxSourceLen)
	}
	if contentType != "" {
		if _, _, err := mime.ParseMediaType(contentType); err != nil {
			return errValidation("content_type", "must be a media type such as text/html or text/markdown (got %q)", truncate(contentType, 100))
		}
	}
	if len(tags) > maxTags {
		return errValidation("tags", "has more than %d tags", maxTags)
	}
	for _, t := range tags {
		if utf8.RuneCountInString(t) > maxTagLen {
			return errValidation("tags", "tag %q is longer than %d characters", truncate(t, 20), maxTagLen)
		}
	}
	if len(metadata) > 0 && string(metadata) != "null" {
		var obj map[string]any
		if err := json.Unmarshal(metadata, &obj); err != nil {
			return errValidation("metadata", "must be a JSON object")
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

type listItemsResponse struct {
	Items  []store.Item `json:"items"`
	Total  int          `json:"total"`
	Limit  int          `json:"limit"`
	Offset int          `json:"offset"`
}

var listItemsQuery = []queryParam{
	{"status", "string", "pending, processing, ready or failed"},
	{"source", "string", "only items saved from this source"},
	{"content_type", "string", "only items of this content type"},
	{"tag", "string", "only items with this tag"},
	{"limit", "integer", "page size, 1..200 (default 50)"},
	{"offset", "integer", "items to skip (default 0)"},
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ItemFilter{Status: q.Get("status"), Source: q.Get("source"), ContentType: q.Get("content_type"), Tag: q.Get("tag")}
	switch f.Status {
	case "", store.StatusPending, store.StatusProcessing, store.StatusReady, store.StatusFailed:
	default:
		s.writeError(w, r, errValidation("status", "must be pending, processing, ready or failed (got %q)", truncate(f.Status, 40)))
		return
	}
	var err error
	if f.Limit, err = intParam(q, "limit", 50, 1, 200); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Offset, err = intParam(q, "offset", 0, 0, 1<<31-1); err != nil {
		s.writeError(w, r, err)
		return
	}
	items, total, err := s.store.ListItems(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listItemsResponse{Items: items, Total: total, Limit: f.Limit, Offset: f.Offset})
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, errValidation(name, "must be an integer from %d to %d (got %q)", lo, hi, truncate(raw, 20))
	}
	return n, nil
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) {
	item, err := s.store.GetItem(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, itemError(err, chi.URLParam(r, "id")))
		return
	}
	writeJSON(w, http.StatusOK, item)
}

// itemError gives a missing item the seed design's error code.
func itemError(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("item_not_found", "item %q does not exist", truncate(id, 60))
	}
	return err
}

type updateItemRequest struct {
	Title       *string         `json:"title,omitempty"`
	Content     *string         `json:"content,omitempty"`
	URL         *string         `json:"url,omitempty"`
	ContentType *string         `json:"content_type,omitempty"`
	Tags        *[]string       `json:"tags,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

func (s *Server) updateItem(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var req updateItemRequest
	if err := decodeJSON(r, s.maxBody, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u := store.ItemUpdate{Title: req.Title, Content: req.Content, URL: req.URL, ContentType: req.ContentType, Tags: req.Tags, Metadata: req.Metadata}
	var title, rawURL, contentType string
	var tags []string
	if u.Title != nil {
		t := strings.TrimSpace(*u.Title)
		u.Title, title = &t, t
	}
	if u.URL != nil {
		v := strings.TrimSpace(*u.URL)
		u.URL, rawURL = &v, v
	}
	if u.ContentType != nil {
		contentType = strings.TrimSpace(*u.ContentType)
		u.ContentType = &contentType
	}
	if u.Tags != nil {
		tags = *u.Tags
	}
	if err := validateItemFields(title, rawURL, "", contentType, tags, u.Metadata); err != nil {
		s.writeError(w, r, err)
		return
	}
	item, err := s.store.UpdateItem(r.Context(), id, u)
	if err != nil {
		s.writeError(w, r, itemError(err, id))
		return
	}
	if item.Status == store.StatusPending {
		s.wake()
	}
	writeJSON(w, http.StatusOK, item)
}

type deleteResponse struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := s.store.DeleteItem(r.Context(), id); err != nil {
		s.writeError(w, r, itemError(err, id))
		return
	}
	writeJSON(w, http.StatusOK, deleteResponse{ID: id, Deleted: true})
}
