package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cortexhq/cortex/api"
	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/store"
	"github.com/cortexhq/cortex/store/storetest"
)

type testServer struct {
	*httptest.Server
	api *api.Server
	db  *store.DB
}

type option func(*api.Deps)

func withToken(tok string) option { return func(d *api.Deps) { d.Token = tok } }
func withMaxBody(n int64) option  { return func(d *api.Deps) { d.MaxBodyBytes = n } }
func withSettings(s config.Settings) option {
	return func(d *api.Deps) { d.Settings = config.NewLive(s) }
}

// newTestServer runs the real router over a real SQLite file on a free loopback port.
func newTestServer(t testing.TB, opts ...option) *testServer {
	t.Helper()
	db := storetest.MustOpen(t)
	d := api.Deps{
		Store:      db,
		Settings:   config.NewLive(config.DefaultSettings()),
		Version:    "test",
		ServerInfo: map[string]any{"host": "127.0.0.1", "port": 8742},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&d)
	}
	srv := api.New(d)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, api: srv, db: db}
}

// scenario is one request and what must come back.
type scenario struct {
	name        string
	method      string
	path        string
	body        string
	headers     map[string]string
	wantStatus  int
	wantCode    string // the "error" field of an error response
	wantField   string // the "field" of a validation error
	wantContain []string
}

func (ts *testServer) run(t *testing.T, sc scenario) map[string]any {
	t.Helper()
	var body io.Reader
	if sc.body != "" {
		body = strings.NewReader(sc.body)
	}
	req, err := http.NewRequest(sc.method, ts.URL+sc.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if sc.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range sc.headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != sc.wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body %s", sc.method, sc.path, resp.StatusCode, sc.wantStatus, raw)
	}
	for _, s := range sc.wantContain {
		if !strings.Contains(string(raw), s) {
			t.Errorf("%s %s: body %s lacks %q", sc.method, sc.path, raw, s)
		}
	}
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("response is not a JSON object: %s", raw)
		}
	}
	if resp.StatusCode >= 400 {
		if out["error"] == nil || out["message"] == nil || out["message"] == "" {
			t.Errorf("error response lacks error/message: %s", raw)
		}
		if sc.wantCode != "" && out["error"] != sc.wantCode {
			t.Errorf("error = %v, want %q", out["error"], sc.wantCode)
		}
		if sc.wantField != "" && out["field"] != sc.wantField {
			t.Errorf("field = %v, want %q (%s)", out["field"], sc.wantField, raw)
		}
	}
	return out
}

func TestItemsCRUD(t *testing.T) {
	ts := newTestServer(t)
	created := ts.run(t, scenario{method: "POST", path: "/api/items",
		body:       `{"url":"https://example.com/article","title":"Article Title","content":"<html><body>Hi</body></html>","source":"browser_extension"}`,
		wantStatus: 200})
	id, _ := created["id"].(string)
	if !strings.HasPrefix(id, "item_") || created["status"] != "pending" || created["title"] != "Article Title" {
		t.Fatalf("create response %v", created)
	}
	if ts, err := time.Parse(time.RFC3339, created["created_at"].(string)); err != nil || ts.Location() != time.UTC {
		t.Errorf("created_at %v is not RFC 3339 UTC: %v", created["created_at"], err)
	}
	if created["duplicate"] != false {
		t.Errorf("duplicate = %v on first save", created["duplicate"])
	}

	got := ts.run(t, scenario{method: "GET", path: "/api/items/" + id, wantStatus: 200})
	if got["source"] != "browser_extension" || got["url"] != "https://example.com/article" || got["content"] == "" {
		t.Errorf("get: %v", got)
	}
	ts.run(t, scenario{method: "GET", path: "/api/items/" + id + "/", wantStatus: 200})

	updated := ts.run(t, scenario{method: "PUT", path: "/api/items/" + id,
		body: `{"title":"Renamed","tags":["AI","Notes"]}`, wantStatus: 200})
	if updated["title"] != "Renamed" || len(updated["tags"].([]any)) != 2 {
		t.Errorf("update: %v", updated)
	}
	reprocess := ts.run(t, scenario{method: "PUT", path: "/api/items/" + id, body: `{"content":"new body"}`, wantStatus: 200})
	if reprocess["status"] != "pending" {
		t.Errorf("new content must send the item back to pending: %v", reprocess["status"])
	}

	list := ts.run(t, scenario{method: "GET", path: "/api/items?source=browser_extension&limit=10", wantStatus: 200})
	if list["total"].(float64) != 1 || len(list["items"].([]any)) != 1 {
		t.Errorf("list: %v", list)
	}
	ts.run(t, scenario{method: "GET", path: "/api/items/?status=ready", wantStatus: 200, wantContain: []string{`"items":[]`, `"total":0`}})

	ts.run(t, scenario{method: "DELETE", path: "/api/items/" + id, wantStatus: 200, wantContain: []string{`"deleted":true`}})
	ts.run(t, scenario{method: "GET", path: "/api/items/" + id, wantStatus: 404, wantCode: "item_not_found"})
	ts.run(t, scenario{method: "DELETE", path: "/api/items/" + id, wantStatus: 404, wantCode: "item_not_found"})
}

func TestCreateItemDuplicates(t *testing.T) {
	ts := newTestServer(t)
	first := ts.run(t, scenario{method: "POST", path: "/api/items/", body: `{"url":"https://example.com/a?utm_source=x","title":"A","content":""}`, wantStatus: 200})
	tests := []scenario{
		{name: "normalised url", body: `{"url":"HTTPS://EXAMPLE.com/a/#frag","title":"again"}`},
		{name: "idempotency header", body: `{"title":"note","content":"unique body 1"}`, headers: map[string]string{"Idempotency-Key": "k1"}},
	}
	for _, sc := range tests {
		t.Run(sc.name, func(t *testing.T) {
			sc.method, sc.path, sc.wantStatus = "POST", "/api/items", 200
			a := ts.run(t, sc)
			b := ts.run(t, sc)
			if b["id"] != a["id"] || b["duplicate"] != true {
				t.Errorf("second save: %v; want id %v, duplicate", b, a["id"])
			}
		})
	}
	again := ts.run(t, scenario{method: "POST", path: "/api/items", body: `{"url":"https://example.com/a","title":"x"}`, wantStatus: 200})
	if again["id"] != first["id"] {
		t.Errorf("same URL made a second item")
	}
	list := ts.run(t, scenario{method: "GET", path: "/api/items", wantStatus: 200})
	if list["total"].(float64) != 2 {
		t.Errorf("total = %v; want 2", list["total"])
	}
}

func TestValidationErrors(t *testing.T) {
	ts := newTestServer(t, withMaxBody(1024))
	tests := []scenario{
		{name: "missing title", method: "POST", path: "/api/items", body: `{"content":"x"}`, wantStatus: 422, wantCode: "validation_error", wantField: "title"},
		{name: "null title", method: "POST", path: "/api/items", body: `{"title":null,"content":"x"}`, wantStatus: 422, wantField: "title"},
		{name: "title wrong type", method: "POST", path: "/api/items", body: `{"title":5,"content":"x"}`, wantStatus: 422, wantField: "title"},
		{name: "empty title allowed", method: "POST", path: "/api/items", body: `{"title":"","content":"some text"}`, wantStatus: 200},
		{name: "nothing to process", method: "POST", path: "/api/items", body: `{"title":"t"}`, wantStatus: 422, wantField: "content"},
		{name: "relative url", method: "POST", path: "/api/items", body: `{"title":"t","url":"/a/b"}`, wantStatus: 422, wantField: "url"},
		{name: "javascript url", method: "POST", path: "/api/items", body: `{"title":"t","url":"javascript:alert(1)"}`, wantStatus: 422, wantField: "url"},
		{name: "bad content type", method: "POST", path: "/api/items", body: `{"title":"t","content":"x","content_type":"not a type"}`, wantStatus: 422, wantField: "content_type"},
		{name: "metadata not object", method: "POST", path: "/api/items", body: `{"title":"t","content":"x","metadata":[1]}`, wantStatus: 422, wantField: "metadata"},
		{name: "tags wrong type", method: "POST", path: "/api/items", body: `{"title":"t","content":"x","tags":"a,b"}`, wantStatus: 422, wantField: "tags"},
		{name: "malformed json", method: "POST", path: "/api/items", body: `{"title": "t",`, wantStatus: 400, wantCode: "bad_request"},
		{name: "trailing garbage", method: "POST", path: "/api/items", body: `{"title":"t","content":"x"}}`, wantStatus: 400},
		{name: "array body", method: "POST", path: "/api/items", body: `[1,2]`, wantStatus: 422},
		{name: "empty body", method: "POST", path: "/api/items", body: ` `, wantStatus: 400},
		{name: "too large", method: "POST", path: "/api/items", body: `{"title":"t","content":"` + strings.Repeat("x", 2000) + `"}`, wantStatus: 413, wantCode: "payload_too_large"},
		{name: "wrong media type", method: "POST", path: "/api/items", body: `{"title":"t","content":"x"}`, headers: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415},
		{name: "bad limit", method: "GET", path: "/api/items?limit=0", wantStatus: 422, wantField: "limit"},
		{name: "limit not a number", method: "GET", path: "/api/items?limit=ten", wantStatus: 422, wantField: "limit"},
		{name: "bad status filter", method: "GET", path: "/api/items?status=done", wantStatus: 422, wantField: "status"},
		{name: "update unknown", method: "PUT", path: "/api/items/item_nope", body: `{"title":"x"}`, wantStatus: 404, wantCode: "item_not_found"},
		{name: "unknown route", method: "GET", path: "/api/nothing", wantStatus: 404, wantCode: "not_found"},
		{name: "wrong method", method: "PATCH", path: "/api/health", wantStatus: 405, wantCode: "method_not_allowed"},
	}
	for _, sc := range tests {
		t.Run(sc.name, func(t *testing.T) { ts.run(t, sc) })
	}
}

func TestUpdateURLConflict(t *testing.T) {
	ts := newTestServer(t)
	ts.run(t, scenario{method: "POST", path: "/api/items", body: `{"url":"https://example.com/taken","title":"A"}`, wantStatus: 200})
	b := ts.run(t, scenario{method: "POST", path: "/api/items", body: `{"url":"https://example.com/free","title":"B"}`, wantStatus: 200})
	ts.run(t, scenario{method: "PUT", path: "/api/items/" + b["id"].(string), body: `{"url":"https://example.com/taken/"}`, wantStatus: 409, wantCode: "conflict"})
}

func TestSettings(t *testing.T) {
	ts := newTestServer(t)
	got := ts.run(t, scenario{method: "GET", path: "/api/settings", wantStatus: 200})
	for _, k := range []string{"ai_provider", "ollama_host", "embedding_model", "chat_model", "chunk_size", "chunk_overlap", "max_concurrent_processing", "host", "port"} {
		if _, ok := got[k]; !ok {
			t.Errorf("GET /api/settings lacks %q", k)
		}
	}
	ai := ts.run(t, scenario{method: "PUT", path: "/api/settings/ai", wantStatus: 200,
		body: `{"provider":"openai","openai_api_base":"http://localhost:4000/v1","openai_api_key":"sk-secret-123","chat_model":"llama3.1"}`})
	if ai["provider"] != "openai" || ai["openai_api_key_set"] != true || ai["chat_model"] != "llama3.1" {
		t.Errorf("PUT /api/settings/ai: %v", ai)
	}
	for _, path := range []string{"/api/settings", "/api/settings/ai", "/api/settings/"} {
		body := ts.run(t, scenario{method: "GET", path: path, wantStatus: 200})
		raw, _ := json.Marshal(body)
		if strings.Contains(string(raw), "sk-secret-123") {
			t.Fatalf("GET %s leaked the API key: %s", path, raw)
		}
	}
	// Saved in SQLite, so a restarted server starts with them.
	saved, err := ts.db.Settings(t.Context())
	if err != nil || string(saved["ai_provider"]) != `"openai"` || string(saved["openai_api_key"]) != `"sk-secret-123"` {
		t.Errorf("saved settings: %s %v", saved, err)
	}

	tests := []scenario{
		{name: "unknown key", body: `{"chunk_szie":100}`, wantField: "chunk_szie"},
		{name: "wrong type", body: `{"chunk_size":"big"}`, wantField: "chunk_size"},
		{name: "out of range", body: `{"max_concurrent_processing":0}`, wantField: "max_concurrent_processing"},
		{name: "bad provider", body: `{"ai_provider":"skynet"}`, wantField: "ai_provider"},
		{name: "read-only", body: `{"port":9999}`, wantField: "port"},
	}
	for _, sc := range tests {
		t.Run(sc.name, func(t *testing.T) {
			sc.method, sc.path, sc.wantStatus, sc.wantCode = "PUT", "/api/settings", 422, "validation_error"
			ts.run(t, sc)
		})
	}
	// A refused PUT changes nothing, not even the valid keys beside the bad one.
	ts.run(t, scenario{method: "PUT", path: "/api/settings", body: `{"chunk_size":300,"chunk_overlap":-1}`, wantStatus: 422, wantField: "chunk_overlap"})
	after := ts.run(t, scenario{method: "GET", path: "/api/settings", wantStatus: 200})
	if after["chunk_size"].(float64) != 500 {
		t.Errorf("chunk_size = %v after a refused PUT; want 500", after["chunk_size"])
	}
	// Echoing a GET back is accepted.
	raw, _ := json.Marshal(after)
	ts.run(t, scenario{method: "PUT", path: "/api/settings", body: string(raw), wantStatus: 200})
}

func TestHostCORSAndToken(t *testing.T) {
	ts := newTestServer(t, withToken("tok-1"))
	auth := map[string]string{"Authorization": "Bearer tok-1"}
	tests := []scenario{
		{name: "no token", method: "GET", path: "/api/health", wantStatus: 401, wantCode: "unauthorized"},
		{name: "wrong token", method: "GET", path: "/api/health", headers: map[string]string{"Authorization": "Bearer nope"}, wantStatus: 401},
		{name: "token", method: "GET", path: "/api/health", headers: auth, wantStatus: 200},
		{name: "query token only for websockets", method: "GET", path: "/api/health?token=tok-1", wantStatus: 401},
		{name: "rebinding host", method: "GET", path: "/api/health", headers: map[string]string{"Authorization": "Bearer tok-1", "Host": "evil.example:8742"}, wantStatus: 403, wantCode: "forbidden_host"},
		{name: "localhost host", method: "GET", path: "/api/health", headers: map[string]string{"Authorization": "Bearer tok-1", "Host": "localhost:8742"}, wantStatus: 200},
		{name: "ipv6 loopback host", method: "GET", path: "/api/health", headers: map[string]string{"Authorization": "Bearer tok-1", "Host": "[::1]:8742"}, wantStatus: 200},
	}
	for _, sc := range tests {
		t.Run(sc.name, func(t *testing.T) { ts.run(t, sc) })
	}

	origins := map[string]bool{
		"tauri://localhost":       true,
		"http://tauri.localhost":  true,
		"http://localhost:1420":   true,
		"http://localhost":        true,
		"https://evil.example":    false,
		"http://localhost.evil.x": false,
		"http://localhost:99999x": false,
		"null":                    false,
	}
	for origin, allowed := range origins {
		t.Run("preflight "+origin, func(t *testing.T) {
			req, _ := http.NewRequest("OPTIONS", ts.URL+"/api/items", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if allowed && got != origin {
				t.Errorf("Allow-Origin = %q; want %q", got, origin)
			}
			if !allowed && got != "" {
				t.Errorf("Allow-Origin = %q for a foreign origin", got)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	ts := newTestServer(t)
	h := ts.run(t, scenario{method: "GET", path: "/api/health", wantStatus: 200})
	if h["status"] != "healthy" || h["version"] != "test" {
		t.Errorf("health: %v", h)
	}
	ts.run(t, scenario{method: "GET", path: "/api/health/", wantStatus: 200})
}

func TestOllamaHealth(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/version":
			io.WriteString(w, `{"version":"0.12.3"}`)
		case "/api/tags":
			io.WriteString(w, `{"models":[{"name":"nomic-embed-text:latest","model":"nomic-embed-text:latest","size":274302450,"digest":"0a109f422b47","details":{"family":"nomic-bert"}}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer fake.Close()
	s := config.DefaultSettings()
	s.OllamaHost = fake.URL
	ts := newTestServer(t, withSettings(s))
	got := ts.run(t, scenario{method: "GET", path: "/api/health/ollama", wantStatus: 200})
	if got["status"] != "available" || got["reachable"] != true || got["version"] != "0.12.3" {
		t.Fatalf("ollama health: %v", got)
	}
	emb := got["embedding_model"].(map[string]any)
	chat := got["chat_model"].(map[string]any)
	if emb["present"] != true || chat["present"] != false || chat["pull"] != "ollama pull llama3.2:3b" {
		t.Errorf("models: embedding %v chat %v", emb, chat)
	}

	fake.Close()
	down := ts.run(t, scenario{method: "GET", path: "/api/health/ollama", wantStatus: 200})
	if down["status"] != "unavailable" || down["reachable"] != false || down["error"] == "" {
		t.Errorf("ollama down: %v", down)
	}
}

// TestOpenAPICoversEveryRoute walks the real router: a route added without a description
// fails here.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	doc := ts.run(t, scenario{method: "GET", path: "/api/openapi.json", wantStatus: 200})
	paths := doc["paths"].(map[string]any)
	n := 0
	err := api.WalkRoutes(ts.api, func(method, route string) {
		n++
		ops, ok := paths[route].(map[string]any)
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", method, route)
			return
		}
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("method %s of %s is not in openapi.json", method, route)
		}
	})
	if err != nil || n < 10 {
		t.Fatalf("walked %d routes, err %v", n, err)
	}
	ts.run(t, scenario{method: "GET", path: "/api/docs", wantStatus: 200, wantContain: []string{"/api/items/{id}", "/api/settings/ai"}})
}
