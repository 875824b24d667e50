package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/cortexhq/cortex/host"
	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/store"
)

// Store is the storage the handlers use.
type Store interface {
	CreateItem(ctx context.Context, in store.NewItem) (store.Item, bool, error)
	GetItem(ctx context.Context, id string) (store.Item, error)
	ListItems(ctx context.Context, f store.ItemFilter) ([]store.Item, int, error)
	UpdateItem(ctx context.Context, id string, u store.ItemUpdate) (store.Item, error)
	DeleteItem(ctx context.Context, id string) error
	Chunks(ctx context.Context, itemID string) ([]store.Chunk, error)
	Queue(ctx context.Context) (store.QueueStats, error)
	RetryItems(ctx context.Context, ids []string) ([]string, error)
	RecordQuery(ctx context.Context, query string) error
	Suggest(ctx context.Context, typed string, limit int) ([]string, error)
	PutSettings(ctx context.Context, values map[string]json.RawMessage) error
	Ping(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int, error)
}

// Deps is what the server is built from.
type Deps struct {
	Store    Store
	Settings *config.Live
	// Plugins is the plugin runtime; nil serves an empty list.
	Plugins PluginHost
	// Processing is the background pipeline; nil leaves saved items pending.
	Processing Processing
	// Workflows runs interactive workflows (search); nil answers 503.
	Workflows Workflows
	Version   string
	// Token, when set, is required as a bearer token on every request.
	Token string
	// ExtraHosts are Host names accepted besides loopback ones (the bind address when it
	// is not loopback).
	ExtraHosts []string
	// ServerInfo are read-only values shown by GET /api/settings (host, port, paths).
	ServerInfo map[string]any
	Logger     *slog.Logger
	// MaxBodyBytes caps request bodies; 0 means 32 MiB (a large saved web page fits).
	MaxBodyBytes int64
	Now          func() time.Time
}

// Server is the HTTP API.
type Server struct {
	store      Store
	settings   *config.Live
	plugins    PluginHost
	processing Processing
	workflows  Workflows
	history    chan string
	version    string
	token      string
	extraHosts []string
	serverInfo map[string]any
	log        *slog.Logger
	maxBody    int64
	now        func() time.Time
	started    time.Time
	handler    http.Handler
	endpoints  []endpoint
}

// New builds the server and its router.
func New(d Deps) *Server {
	s := &Server{
		store: d.Store, settings: d.Settings, plugins: d.Plugins, processing: d.Processing, workflows: d.Workflows, version: d.Version, token: d.Token,
		extraHosts: d.ExtraHosts, serverInfo: d.ServerInfo, log: d.Logger,
		maxBody: d.MaxBodyBytes, now: d.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = 32 << 20
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	s.history = make(chan string, 256)
	go s.recordHistory()
	s.endpoints = s.routes()
	s.handler = s.buildRouter()
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// endpoint is one route: how it is served and how the OpenAPI document describes it.
type endpoint struct {
	Method   string
	Path     string
	Summary  string
	Tag      string
	Request  any // a value of the request body type, or nil
	Response any // a value of the 200 response body type, or nil
	Query    []queryParam
	Handler  http.HandlerFunc
}

type queryParam struct {
	Name, Type, Description string
}

func (s *Server) buildRouter() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverJSON, s.logRequests, s.checkHost, corsHandler(), s.requireToken, middleware.StripSlashes)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, &Error{Code: "not_found", Message: "no route for " + r.Method + " " + r.URL.Path})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, &Error{Code: "method_not_allowed", Message: r.Method + " is not allowed on " + r.URL.Path})
	})
	for _, e := range s.endpoints {
		r.Method(e.Method, e.Path, e.Handler)
	}
	return r
}

func (s *Server) routes() []endpoint {
	return []endpoint{
		{Method: "POST", Path: "/api/items", Tag: "items", Summary: "Save an item (answers at once; processing runs in the background)",
			Request: createItemRequest{}, Response: createItemResponse{}, Handler: s.createItem},
		{Method: "GET", Path: "/api/items", Tag: "items", Summary: "List items, newest first",
			Response: listItemsResponse{}, Query: listItemsQuery, Handler: s.listItems},
		{Method: "GET", Path: "/api/items/{id}", Tag: "items", Summary: "Get an item",
			Response: store.Item{}, Handler: s.getItem},
		{Method: "PUT", Path: "/api/items/{id}", Tag: "items", Summary: "Update an item's title, content, URL or tags",
			Request: updateItemRequest{}, Response: store.Item{}, Handler: s.updateItem},
		{Method: "DELETE", Path: "/api/items/{id}", Tag: "items", Summary: "Delete an item and everything derived from it",
			Response: deleteResponse{}, Handler: s.deleteItem},
		{Method: "GET", Path: "/api/items/{id}/chunks", Tag: "items", Summary: "An item's chunks in order (ordinal, text, offsets)",
			Response: chunksResponse{}, Handler: s.itemChunks},

		{Method: "GET", Path: "/api/processing/queue", Tag: "processing", Summary: "Counts per status, what is running now, recent failures, re-embedding progress",
			Response: queueResponse{}, Handler: s.processingQueue},
		{Method: "POST", Path: "/api/processing/retry", Tag: "processing", Summary: "Retry the given item_ids, or every failed item (a failed run resumes at the node that failed)",
			Request: retryRequest{}, Response: retryResponse{}, Handler: s.retryProcessing},
		{Method: "GET", Path: "/api/ws/processing/{item_id}", Tag: "processing", Summary: "WebSocket: progress events {type, step, progress, message}, then one with the item's final status",
			Handler: s.processingWS},
		{Method: "GET", Path: "/api/runs/{id}", Tag: "processing", Summary: "A workflow run: plugin version, status, node-by-node timings, attempts and errors",
			Response: store.Run{}, Handler: s.getRun},

		{Method: "POST", Path: "/api/search", Tag: "search", Summary: "Hybrid search: {query, limit?=10, offset?, mode?, filters?} -> {results:[{item_id, title, snippet, score}], query_type, took_ms}",
			Request: searchRequest{}, Response: searchResponse{}, Handler: s.search},
		{Method: "GET", Path: "/api/search/suggestions", Tag: "search", Summary: "Completions of what the user is typing: recent queries, words, titles, tags",
			Response: suggestionsResponse{}, Query: suggestionsQuery, Handler: s.suggestions},

		{Method: "GET", Path: "/api/settings", Tag: "settings", Summary: "Get all settings (API keys are never returned)",
			Response: map[string]any{}, Handler: s.getSettings},
		{Method: "PUT", Path: "/api/settings", Tag: "settings", Summary: "Change settings (only the keys given)",
			Request: map[string]any{}, Response: map[string]any{}, Handler: s.putSettings},
		{Method: "GET", Path: "/api/settings/ai", Tag: "settings", Summary: "Get the AI provider settings",
			Response: map[string]any{}, Handler: s.getAISettings},
		{Method: "PUT", Path: "/api/settings/ai", Tag: "settings", Summary: "Change the AI provider settings",
			Request: map[string]any{}, Response: map[string]any{}, Handler: s.putAISettings},

		{Method: "GET", Path: "/api/health", Tag: "health", Summary: "Backend health",
			Response: healthResponse{}, Handler: s.health},
		{Method: "GET", Path: "/api/health/ollama", Tag: "health", Summary: "Ollama reachability, version and models",
			Response: ollamaHealthResponse{}, Handler: s.ollamaHealth},

		{Method: "GET", Path: "/api/plugins", Tag: "plugins", Summary: "List plugins: kind, version, hash, source, state, last error, capabilities, stats",
			Response: pluginsResponse{}, Handler: s.listPlugins},
		{Method: "GET", Path: "/api/plugins/{name}", Tag: "plugins", Summary: "One plugin",
			Response: host.PluginInfo{}, Handler: s.getPlugin},
		{Method: "POST", Path: "/api/plugins/{name}/reload", Tag: "plugins", Summary: "Load the plugin again from its file; on failure the old version keeps serving (422)",
			Response: host.PluginInfo{}, Handler: s.reloadPlugin},

		{Method: "GET", Path: "/api/openapi.json", Tag: "meta", Summary: "This API's OpenAPI 3.1 document",
			Response: map[string]any{}, Handler: s.openAPI},
		{Method: "GET", Path: "/api/docs", Tag: "meta", Summary: "Human-readable API documentation (HTML)",
			Handler: s.docs},
	}
}
