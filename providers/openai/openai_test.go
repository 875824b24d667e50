package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cortexhq/cortex/providers"
)

const testKey = "sk-test-123"

// fakeOpenAI speaks the parts of the OpenAI API that the client uses, with the JSON and
// SSE shapes of the real service: chat.completion.chunk objects as `data:` events,
// terminated by `data: [DONE]`.
type fakeOpenAI struct {
	t      *testing.T
	models []string

	tokens      []string
	tokenDelay  time.Duration
	endless     bool
	dropAfter   int    // hijack and close the connection after this many content chunks
	noFinish    bool   // end the stream cleanly but without a finish_reason or [DONE]
	errorEvent  bool   // send an error event after the first chunk
	status      int    // answer every request with this status and body
	body        string // raw error body for status
	contentType string // of the error body

	mu      sync.Mutex
	embeds  []embedBody
	chats   []chatBody
	headers []http.Header
}

type embedBody struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
}

type chatBody struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream        bool           `json:"stream"`
	StreamOptions map[string]any `json:"stream_options"`
	MaxTokens     *int           `json:"max_tokens"`
	MaxCompletion *int           `json:"max_completion_tokens"`
	Temperature   *float64       `json:"temperature"`
}

func newFake(t *testing.T) (*fakeOpenAI, *httptest.Server) {
	f := &fakeOpenAI{
		t:      t,
		models: []string{"text-embedding-3-small", "gpt-4o-mini"},
		tokens: []string{"Hel", "lo", " there", "."},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOpenAI) recorded() ([]embedBody, []chatBody, []http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]embedBody(nil), f.embeds...), append([]chatBody(nil), f.chats...), append([]http.Header(nil), f.headers...)
}

func (f *fakeOpenAI) has(model string) bool {
	for _, m := range f.models {
		if m == model {
			return true
		}
	}
	return false
}

func apiError(w http.ResponseWriter, status int, message, typ, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nil, "code": code,
	}})
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	if f.status != 0 {
		if f.contentType != "" {
			w.Header().Set("Content-Type", f.contentType)
		}
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testKey {
		apiError(w, http.StatusUnauthorized, "Incorrect API key provided: sk-bad. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key")
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /v1/models":
		var data []map[string]any
		for _, m := range f.models {
			data = append(data, map[string]any{"id": m, "object": "model", "created": 1686935002, "owned_by": "openai"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
	case "POST /v1/embeddings":
		var req embedBody
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			apiError(w, http.StatusBadRequest, err.Error(), "invalid_request_error", "")
			return
		}
		f.mu.Lock()
		f.embeds = append(f.embeds, req)
		f.mu.Unlock()
		if !f.has(req.Model) {
			apiError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model), "invalid_request_error", "model_not_found")
			return
		}
		// Listed in reverse to check that the client orders by index.
		var data []map[string]any
		for i := len(req.Input) - 1; i >= 0; i-- {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": []float64{float64(len(req.Input[i])), 3, 4}})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"object": "list", "data": data, "model": req.Model,
			"usage": map[string]int{"prompt_tokens": 8, "total_tokens": 8},
		})
	case "POST /v1/chat/completions":
		var req chatBody
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			apiError(w, http.StatusBadRequest, err.Error(), "invalid_request_error", "")
			return
		}
		f.mu.Lock()
		f.chats = append(f.chats, req)
		f.mu.Unlock()
		if !f.has(req.Model) {
			apiError(w, http.StatusNotFound, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model), "invalid_request_error", "model_not_found")
			return
		}
		f.stream(w, r, req.Model)
	default:
		apiError(w, http.StatusNotFound, "Invalid URL ("+r.Method+" "+r.URL.Path+")", "invalid_request_error", "")
	}
}

func (f *fakeOpenAI) stream(w http.ResponseWriter, r *http.Request, model string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	event := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		flusher.Flush()
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{
			"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190,
			"model": model, "system_fingerprint": "fp_44709d6fcb",
			"choices": []map[string]any{{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		}
	}
	event(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for i := 0; f.endless || i < len(f.tokens); i++ {
		if f.dropAfter > 0 && i == f.dropAfter {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				f.t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		if f.errorEvent && i == 1 {
			fmt.Fprint(w, "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\"}}\n\n")
			flusher.Flush()
			return
		}
		if f.tokenDelay > 0 {
			select {
			case <-time.After(f.tokenDelay):
			case <-r.Context().Done():
				return
			}
		}
		event(chunk(map[string]any{"content": f.tokens[i%len(f.tokens)]}, nil))
	}
	if f.noFinish {
		return
	}
	event(chunk(map[string]any{}, "stop"))
	usage := chunk(nil, nil)
	usage["choices"] = []any{}
	usage["usage"] = map[string]int{"prompt_tokens": 26, "completion_tokens": 4, "total_tokens": 30}
	event(usage)
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}

func newClient(t *testing.T, base, key, embed, chat string) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: base, APIKey: key, EmbedModel: embed, ChatModel: chat})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// within fails the test instead of hanging when fn does not return in time.
func within(t *testing.T, fn func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("call did not return: hung")
		return nil
	}
}

func userMsg(s string) providers.ChatRequest {
	return providers.ChatRequest{Messages: []providers.Message{{Role: providers.RoleUser, Content: s}}}
}

func TestEmbed(t *testing.T) {
	f, srv := newFake(t)
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1") // must be ignored
	c := newClient(t, srv.URL+"/v1", testKey, "text-embedding-3-small", "")
	texts := make([]string, 40)
	for i := range texts {
		texts[i] = strings.Repeat("y", i)
	}
	vecs, err := c.Embed(context.Background(), texts, providers.PurposeQuery)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("got %d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		want := []float64{float64(i), 3, 4}
		n := math.Sqrt(want[0]*want[0] + 25)
		for j := range v {
			if math.Abs(float64(v[j])-want[j]/n) > 1e-6 {
				t.Fatalf("vector %d = %v, want %v normalised", i, v, want)
			}
		}
	}
	embeds, _, headers := f.recorded()
	if len(embeds) != 2 || len(embeds[0].Input) != 32 || len(embeds[1].Input) != 8 {
		t.Fatalf("requests %d, want batches of 32 and 8", len(embeds))
	}
	for _, e := range embeds {
		if e.Model != "text-embedding-3-small" || e.EncodingFormat != "float" {
			t.Fatalf("request model %q, encoding %q", e.Model, e.EncodingFormat)
		}
	}
	if got := headers[0].Get("Authorization"); got != "Bearer "+testKey {
		t.Fatalf("Authorization = %q", got)
	}
	want := providers.EmbeddingIdentity{Provider: "openai", Model: "text-embedding-3-small", Dimensions: 3}
	if got := c.Identity(); got != want {
		t.Fatalf("Identity() = %+v, want %+v", got, want)
	}
}

func TestProbe(t *testing.T) {
	_, srv := newFake(t)
	c := newClient(t, srv.URL+"/v1/", testKey, "text-embedding-3-small", "")
	if d := c.Identity().Dimensions; d != 0 {
		t.Fatalf("Dimensions before any call = %d", d)
	}
	id, err := c.Probe(context.Background())
	if err != nil || id.Dimensions != 3 {
		t.Fatalf("Probe() = %+v, %v", id, err)
	}
}

func TestChat(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, srv.URL+"/v1", testKey, "", "gpt-4o-mini")
	temp := 0.3
	req := providers.ChatRequest{
		Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: "You are Cortex."},
			{Role: providers.RoleUser, Content: "When do backups run?"},
			{Role: providers.RoleAssistant, Content: "Nightly."},
			{Role: providers.RoleUser, Content: "At what time?"},
		},
		Documents:   []providers.Document{{Title: "Backups", Text: "Backups run at 02:00."}},
		MaxTokens:   64,
		Temperature: &temp,
	}
	var streamed []string
	resp, err := c.Chat(context.Background(), req, func(tok string) error {
		streamed = append(streamed, tok)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content != "Hello there." || strings.Join(streamed, "|") != "Hel|lo| there|." {
		t.Fatalf("content %q, streamed %q", resp.Content, streamed)
	}
	if resp.PromptTokens != 26 || resp.CompletionTokens != 4 || resp.Model != "gpt-4o-mini" {
		t.Fatalf("response %+v, want usage 26/4 from gpt-4o-mini", resp)
	}

	_, chats, headers := f.recorded()
	got := chats[0]
	if !got.Stream || got.StreamOptions["include_usage"] != true {
		t.Errorf("stream %v, stream_options %v", got.Stream, got.StreamOptions)
	}
	if got.Model != "gpt-4o-mini" || headers[0].Get("Authorization") != "Bearer "+testKey {
		t.Errorf("model %q, Authorization %q", got.Model, headers[0].Get("Authorization"))
	}
	var roles []string
	for _, m := range got.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "system,system,user,assistant,user" {
		t.Fatalf("roles %v, want the documents after the leading system message", roles)
	}
	if got.Messages[1].Content != providers.RenderDocuments(req.Documents) {
		t.Fatalf("documents message %q", got.Messages[1].Content)
	}
	if got.MaxTokens == nil || *got.MaxTokens != 64 || got.MaxCompletion != nil {
		t.Errorf("max_tokens %v, max_completion_tokens %v; want max_tokens 64 for a compatible server", got.MaxTokens, got.MaxCompletion)
	}
	if got.Temperature == nil || *got.Temperature != 0.3 {
		t.Errorf("temperature %v", got.Temperature)
	}
}

func TestChatWithoutKey(t *testing.T) {
	f, srv := newFake(t)
	// A key in the environment must not be picked up: Cortex's configuration says none.
	t.Setenv("OPENAI_API_KEY", testKey)
	c := newClient(t, srv.URL+"/v1", "", "", "gpt-4o-mini")
	_, err := c.Chat(context.Background(), userMsg("hi"), nil)
	if !errors.Is(err, providers.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	if _, _, headers := f.recorded(); headers[0].Get("Authorization") != "" {
		t.Fatalf("sent Authorization %q without a key", headers[0].Get("Authorization"))
	}
}

func TestChatOnTokenError(t *testing.T) {
	_, srv := newFake(t)
	c := newClient(t, srv.URL+"/v1", testKey, "", "gpt-4o-mini")
	errStop := errors.New("stop")
	calls := 0
	_, err := c.Chat(context.Background(), userMsg("hi"), func(string) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want errStop after 1", err, calls)
	}
}

func TestChatSlowStreamCancel(t *testing.T) {
	f, srv := newFake(t)
	f.endless = true
	f.tokenDelay = 20 * time.Millisecond
	c := newClient(t, srv.URL+"/v1", testKey, "", "gpt-4o-mini")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := 0
	err := within(t, func() error {
		_, err := c.Chat(ctx, userMsg("talk forever"), func(string) error {
			got++
			if got == 3 {
				cancel()
			}
			return nil
		})
		return err
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("err = %v, want context.Canceled only", err)
	}
}

func TestChatTruncatedStreams(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*fakeOpenAI)
		streamed string
	}{
		{"dropped connection", func(f *fakeOpenAI) { f.dropAfter = 2 }, "Hello"},
		{"clean end without finish", func(f *fakeOpenAI) { f.noFinish = true }, "Hello there."},
		{"error event", func(f *fakeOpenAI) { f.errorEvent = true }, "Hel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			tt.setup(f)
			c := newClient(t, srv.URL+"/v1", testKey, "", "gpt-4o-mini")
			var streamed strings.Builder
			err := within(t, func() error {
				_, err := c.Chat(context.Background(), userMsg("hi"), func(tok string) error {
					streamed.WriteString(tok)
					return nil
				})
				return err
			})
			if !errors.Is(err, providers.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if streamed.String() != tt.streamed {
				t.Fatalf("streamed %q, want %q", streamed.String(), tt.streamed)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/v1"
	down.Close()

	tests := []struct {
		name        string
		base        string // empty: the fake server
		key         string
		status      int
		body        string
		contentType string
		embed, chat string
		want        error
		contains    []string
	}{
		{name: "bad key", key: "sk-bad", embed: "text-embedding-3-small", chat: "gpt-4o-mini", want: providers.ErrUnauthorized, contains: []string{"401", "Incorrect API key"}},
		{name: "forbidden", status: 403, body: `{"error":{"message":"Project does not have access","type":"invalid_request_error"}}`, contentType: "application/json", embed: "m", chat: "m", want: providers.ErrUnauthorized},
		{name: "unknown embed model", embed: "text-embedding-4", want: providers.ErrModelNotFound, contains: []string{`"text-embedding-4"`, "/v1"}},
		{name: "unknown chat model", chat: "gpt-9", want: providers.ErrModelNotFound, contains: []string{`"gpt-9"`}},
		{name: "bad request", status: 400, body: `{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}`, contentType: "application/json", embed: "m", chat: "m", want: providers.ErrBadRequest, contains: []string{"maximum context length"}},
		{name: "unprocessable", status: 422, body: `{"detail":"bad input"}`, contentType: "application/json", embed: "m", chat: "m", want: providers.ErrBadRequest},
		{name: "rate limited", status: 429, body: `{"error":{"message":"Rate limit reached","type":"requests"}}`, contentType: "application/json", embed: "m", chat: "m", want: providers.ErrUnavailable, contains: []string{"429"}},
		{name: "server error, plain text", status: 500, body: "Internal Server Error", contentType: "text/plain", embed: "m", chat: "m", want: providers.ErrUnavailable, contains: []string{"500"}},
		{name: "bad gateway, html", status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html", embed: "m", chat: "m", want: providers.ErrUnavailable, contains: []string{"502"}},
		{name: "server down", base: downURL, embed: "m", chat: "m", want: providers.ErrUnavailable, contains: []string{downURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.status, f.body, f.contentType = tt.status, tt.body, tt.contentType
			base := tt.base
			if base == "" {
				base = srv.URL + "/v1"
			}
			key := tt.key
			if key == "" {
				key = testKey
			}
			c := newClient(t, base, key, tt.embed, tt.chat)
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, tt.want) {
					t.Fatalf("%s: err = %v, want %v", op, err, tt.want)
				}
				for _, s := range tt.contains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("%s: error %q does not mention %q", op, err, s)
					}
				}
			}
			if tt.embed != "" {
				check("embed", within(t, func() error {
					_, err := c.Embed(context.Background(), []string{"x"}, providers.PurposeDocument)
					return err
				}))
			}
			if tt.chat != "" {
				check("chat", within(t, func() error {
					_, err := c.Chat(context.Background(), userMsg("hi"), nil)
					return err
				}))
			}
		})
	}
}

func TestNoRetries(t *testing.T) {
	f, srv := newFake(t)
	f.status, f.body = 503, "overloaded"
	c := newClient(t, srv.URL+"/v1", testKey, "m", "")
	if _, err := c.Embed(context.Background(), []string{"x"}, providers.PurposeDocument); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if _, _, headers := f.recorded(); len(headers) != 1 {
		t.Fatalf("%d requests for one call: the SDK retried", len(headers))
	}
}

func TestListModels(t *testing.T) {
	_, srv := newFake(t)
	c := newClient(t, srv.URL+"/v1", testKey, "", "")
	models, err := c.ListModels(context.Background())
	if err != nil || strings.Join(models, ",") != "text-embedding-3-small,gpt-4o-mini" {
		t.Fatalf("ListModels = %v, %v", models, err)
	}
	wrongBase := newClient(t, srv.URL, testKey, "", "")
	if _, err := wrongBase.ListModels(context.Background()); !errors.Is(err, providers.ErrBadRequest) || !strings.Contains(err.Error(), "/v1") {
		t.Fatalf("ListModels without /v1: err = %v, want ErrBadRequest with a hint", err)
	}
	bad := newClient(t, srv.URL+"/v1", "sk-bad", "", "")
	if _, err := bad.ListModels(context.Background()); !errors.Is(err, providers.ErrUnauthorized) {
		t.Fatalf("ListModels with a bad key: err = %v", err)
	}
}

func TestMessages(t *testing.T) {
	if _, err := messages(providers.ChatRequest{Messages: []providers.Message{{Role: "tool", Content: "x"}}}); !errors.Is(err, providers.ErrBadRequest) {
		t.Fatalf("unknown role: err = %v, want ErrBadRequest", err)
	}
	// Documents with no user message still reach the model.
	msgs, err := messages(providers.ChatRequest{Messages: []providers.Message{{Role: "system", Content: "s"}}, Documents: []providers.Document{{Text: "d"}}})
	if err != nil || len(msgs) != 2 || msgs[1].OfSystem == nil {
		t.Fatalf("messages = %v, %v", msgs, err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		base string
		ok   bool
	}{
		{"", true},
		{"http://localhost:4000/v1", true},
		{"https://api.openai.com/v1/", true},
		{"localhost:4000", false},
		{"ftp://x/v1", false},
	}
	for _, tt := range tests {
		_, err := New(Config{BaseURL: tt.base})
		if (err == nil) != tt.ok {
			t.Errorf("New(%q) err = %v, want ok=%v", tt.base, err, tt.ok)
		}
	}
	c, _ := New(Config{BaseURL: "https://api.openai.com/v1"})
	if !c.useMaxCompletionTokens {
		t.Error("OpenAI itself should get max_completion_tokens")
	}
}

func TestNoModelConfigured(t *testing.T) {
	c := newClient(t, "", "", "", "")
	if _, err := c.Embed(context.Background(), []string{"x"}, providers.PurposeDocument); !errors.Is(err, providers.ErrBadRequest) {
		t.Errorf("Embed without model: err = %v, want ErrBadRequest", err)
	}
	if _, err := c.Chat(context.Background(), providers.ChatRequest{}, nil); !errors.Is(err, providers.ErrBadRequest) {
		t.Errorf("Chat without model: err = %v, want ErrBadRequest", err)
	}
}
