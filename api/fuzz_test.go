package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestDecoding throws arbitrary bodies at the real handlers over a real store:
// whatever arrives, the answer is a JSON object and never a 5xx.
func FuzzRequestDecoding(f *testing.F) {
	for _, seed := range []string{
		`{"title":"t","content":"c"}`, `{"title":5}`, `[]`, `{"url":"https://x.y/?utm_source=1","title":""}`,
		`{"title":"t","content":"c","metadata":{"a":[1,{}]},"tags":["x"]}`, `{"chunk_size":"9"}`, `{`, "\x00", `{"title":"\ud800"}`,
	} {
		f.Add(seed)
	}
	ts := newTestServer(f)
	handler := ts.api
	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range []struct{ method, path string }{
			{"POST", "/api/items"}, {"PUT", "/api/items/item_x"}, {"PUT", "/api/settings"}, {"PUT", "/api/settings/ai"},
		} {
			req := httptest.NewRequest(target.method, target.path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: status %d %s", target.method, target.path, body, rec.Code, rec.Body)
			}
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("%s %s %q: response is not JSON: %s", target.method, target.path, body, rec.Body)
			}
			if rec.Code >= 400 && (out["error"] == nil || out["message"] == nil) {
				t.Fatalf("error without error/message: %s", rec.Body)
			}
			if rec.Code == http.StatusOK && target.path == "/api/items" && out["id"] == nil {
				t.Fatalf("200 without id: %s", rec.Body)
			}
		}
	})
}
