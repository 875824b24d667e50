package ollama

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cortexhq/cortex/providers"
)

// fakeOllama speaks the parts of Ollama's HTTP API that the client uses, with the JSON
// shapes of the real server (see github.com/ollama/ollama/api/types.go).
type fakeOllama struct {
	t      *testing.T
	models []string // pulled models, as /api/tags lists them

	// chat behaviour
	tokens     []string
	tokenDelay time.Duration // pause before each token
	endless    bool          // keep sending tokens until the client goes away
	dropAfter  int           // hijack and close the connection after this many tokens (0: never)
	status     int           // answer every request with this status and an error body (0: normal)
	statusMsg  string

	mu        sync.Mutex
	embedReqs []embedRequest
	chatReqs  []chatRequest
}

type embedRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream  *bool          `json:"stream"`
	Options map[string]any `json:"options"`
}

func newFake(t *testing.T) (*fakeOllama, *httptest.Server) {
	f := &fakeOllama{
		t:      t,
		models: []string{"nomic-embed-text:latest", "llama3.2:3b", "mxbai-embed-large:latest"},
		tokens: []string{"Hel", "lo", " there", "."},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOllama) embeds() []embedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]embedRequest(nil), f.embedReqs...)
}

func (f *fakeOllama) chats() []chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chatRequest(nil), f.chatReqs...)
}

func (f *fakeOllama) has(model string) bool {
	for _, m := range f.models {
		if m == model || m == model+":latest" {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, model string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("model %q not found, try pulling it first", model)})
}

func (f *fakeOllama) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.status != 0 {
		writeJSON(w, f.status, map[string]string{"error": f.statusMsg})
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /api/version":
		writeJSON(w, http.StatusOK, map[string]string{"version": "0.17.4"})
	case "GET /api/tags":
		type model struct {
			Name       string    `json:"name"`
			Model      string    `json:"model"`
			ModifiedAt time.Time `json:"modified_at"`
			Size       int64     `json:"size"`
			Digest     string    `json:"digest"`
		}
		var list struct {
			Models []model `json:"models"`
		}
		for _, m := range f.models {
			list.Models = append(list.Models, model{Name: m, Model: m, ModifiedAt: time.Now(), Size: 274302450, Digest: "0a109f422b47"})
		}
		writeJSON(w, http.StatusOK, list)
	case "POST /api/embed":
		var req embedRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		f.mu.Lock()
		f.embedReqs = append(f.embedReqs, req)
		f.mu.Unlock()
		if !f.has(req.Model) {
			notFound(w, req.Model)
			return
		}
		// Unnormalised vectors that encode the input length, so tests can check both
		// normalisation and order.
		embs := make([][]float32, len(req.Input))
		for i, in := range req.Input {
			embs[i] = []float32{float32(len(in)), 3, 4}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"model": req.Model, "embeddings": embs,
			"total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": 8,
		})
	case "POST /api/chat":
		var req chatRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		f.mu.Lock()
		f.chatReqs = append(f.chatReqs, req)
		f.mu.Unlock()
		if !f.has(req.Model) {
			notFound(w, req.Model)
			return
		}
		f.streamChat(w, r, req.Model)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeOllama) streamChat(w http.ResponseWriter, r *http.Request, model string) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	flusher := w.(http.Flusher)
	send := func(content string, done bool) {
		line := map[string]any{
			"model":      model,
			"created_at": time.Now().UTC().Format(time.RFC3339Nano),
			"message":    map[string]string{"role": "assistant", "content": content},
			"done":       done,
		}
		if done {
			line["done_reason"] = "stop"
			line["total_duration"] = 5589157167
			line["load_duration"] = 3013701500
			line["prompt_eval_count"] = 26
			line["prompt_eval_duration"] = 325953000
			line["eval_count"] = 290
			line["eval_duration"] = 2242912000
		}
		_ = enc.Encode(line)
		flusher.Flush()
	}
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
		if f.tokenDelay > 0 {
			select {
			case <-time.After(f.tokenDelay):
			case <-r.Context().Done():
				return
			}
		}
		send(f.tokens[i%len(f.tokens)], false)
	}
	send("", true)
}

func newClient(t *testing.T, host, embed, chat string) *Client {
	t.Helper()
	c, err := New(Config{Host: host, EmbedModel: embed, ChatModel: chat})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// within fails the test instead of hanging when fn does not return in time.
func within[T any](t *testing.T, fn func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("call did not return: hung")
		var zero T
		return zero
	}
}

func TestEmbed(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, srv.URL, "nomic-embed-text", "")
	if d := c.Identity().Dimensions; d != 0 {
		t.Fatalf("Dimensions before any call = %d, want 0", d)
	}
	texts := make([]string, 70)
	for i := range texts {
		texts[i] = strings.Repeat("x", i)
	}
	vecs, err := c.Embed(context.Background(), texts, providers.PurposeDocument)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("got %d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		want := []float64{float64(len("search_document: ") + i), 3, 4}
		n := math.Sqrt(want[0]*want[0] + want[1]*want[1] + want[2]*want[2])
		for j := range v {
			if math.Abs(float64(v[j])-want[j]/n) > 1e-6 {
				t.Fatalf("vector %d = %v, want %v normalised", i, v, want)
			}
		}
	}
	var sizes []int
	for _, r := range f.embeds() {
		sizes = append(sizes, len(r.Input))
		if r.Model != "nomic-embed-text" {
			t.Errorf("request model %q", r.Model)
		}
		for _, in := range r.Input {
			if !strings.HasPrefix(in, "search_document: ") {
				t.Fatalf("document input %q lacks the nomic document prefix", in)
			}
		}
	}
	if fmt.Sprint(sizes) != "[32 32 6]" {
		t.Fatalf("batch sizes %v, want [32 32 6]", sizes)
	}
	want := providers.EmbeddingIdentity{Provider: "ollama", Model: "nomic-embed-text:latest", Dimensions: 3, DocPrefix: "search_document: ", QueryPrefix: "search_query: "}
	if got := c.Identity(); got != want {
		t.Fatalf("Identity() = %+v, want %+v", got, want)
	}

	if _, err := c.Embed(context.Background(), []string{"what is cortex"}, providers.PurposeQuery); err != nil {
		t.Fatal(err)
	}
	if reqs := f.embeds(); reqs[len(reqs)-1].Input[0] != "search_query: what is cortex" {
		t.Fatalf("query input %q, want the nomic query prefix", reqs[len(reqs)-1].Input[0])
	}
}

func TestEmbedEmpty(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, srv.URL, "nomic-embed-text", "")
	vecs, err := c.Embed(context.Background(), nil, providers.PurposeDocument)
	if err != nil || len(vecs) != 0 || len(f.embeds()) != 0 {
		t.Fatalf("Embed(nil) = %v, %v after %d requests; want no vectors and no request", vecs, err, len(f.embeds()))
	}
}

func TestPrefixes(t *testing.T) {
	tests := []struct {
		model, doc, query string
	}{
		{"nomic-embed-text", "search_document: ", "search_query: "},
		{"nomic-embed-text:latest", "search_document: ", "search_query: "},
		{"nomic-embed-text:v1.5", "search_document: ", "search_query: "},
		{"library/nomic-embed-text:latest", "search_document: ", "search_query: "},
		{"mxbai-embed-large", "", "Represent this sentence for searching relevant passages: "},
		{"mxbai-embed-large:335m", "", "Represent this sentence for searching relevant passages: "},
		{"all-minilm", "", ""},
		{"bge-m3:latest", "", ""},
	}
	for _, tt := range tests {
		doc, query := prefixes(tt.model)
		if doc != tt.doc || query != tt.query {
			t.Errorf("prefixes(%q) = %q, %q; want %q, %q", tt.model, doc, query, tt.doc, tt.query)
		}
	}
}

func TestProbe(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, srv.URL, "mxbai-embed-large", "")
	id, err := c.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := providers.EmbeddingIdentity{Provider: "ollama", Model: "mxbai-embed-large:latest", Dimensions: 3, QueryPrefix: "Represent this sentence for searching relevant passages: "}
	if id != want {
		t.Fatalf("Probe() = %+v, want %+v", id, want)
	}
	if n := len(f.embeds()); n != 1 {
		t.Fatalf("Probe made %d requests, want 1", n)
	}
}

func TestChat(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, srv.URL, "", "llama3.2:3b")
	temp := 0.2
	req := providers.ChatRequest{
		Messages: []providers.Message{
			{Role: providers.RoleSystem, Content: "You are Cortex."},
			{Role: providers.RoleUser, Content: "When do backups run?"},
		},
		Documents:   []providers.Document{{Title: "Backups", Text: "Backups run nightly."}},
		MaxTokens:   128,
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
	if resp.PromptTokens != 26 || resp.CompletionTokens != 290 || resp.Model != "llama3.2:3b" {
		t.Fatalf("response %+v, want 26 prompt and 290 completion tokens from llama3.2:3b", resp)
	}

	got := f.chats()[0]
	if got.Stream == nil || !*got.Stream {
		t.Error("request did not ask for a stream")
	}
	var roles []string
	for _, m := range got.Messages {
		roles = append(roles, m.Role)
	}
	if strings.Join(roles, ",") != "system,system,user" {
		t.Fatalf("message roles %v, want the documents after the request's system message", roles)
	}
	if got.Messages[1].Content != providers.RenderDocuments(req.Documents) {
		t.Fatalf("documents message %q", got.Messages[1].Content)
	}
	if got.Options["num_predict"] != float64(128) || got.Options["temperature"] != 0.2 {
		t.Fatalf("options %v, want num_predict 128 and temperature 0.2", got.Options)
	}
}

func TestChatOnTokenError(t *testing.T) {
	_, srv := newFake(t)
	c := newClient(t, srv.URL, "", "llama3.2:3b")
	errStop := errors.New("stop")
	calls := 0
	_, err := c.Chat(context.Background(), providers.ChatRequest{Messages: []providers.Message{{Role: "user", Content: "hi"}}}, func(string) error {
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
	c := newClient(t, srv.URL, "", "llama3.2:3b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := 0
	err := within(t, func() error {
		_, err := c.Chat(ctx, providers.ChatRequest{Messages: []providers.Message{{Role: "user", Content: "talk forever"}}}, func(string) error {
			got++
			if got == 3 {
				cancel()
			}
			return nil
		})
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("err = %v: a cancelled call is not an unavailable provider", err)
	}
}

func TestChatDroppedConnection(t *testing.T) {
	f, srv := newFake(t)
	f.dropAfter = 2
	c := newClient(t, srv.URL, "", "llama3.2:3b")
	var streamed strings.Builder
	err := within(t, func() error {
		_, err := c.Chat(context.Background(), providers.ChatRequest{Messages: []providers.Message{{Role: "user", Content: "hi"}}}, func(tok string) error {
			streamed.WriteString(tok)
			return nil
		})
		return err
	})
	if !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if streamed.String() != "Hello" {
		t.Fatalf("streamed %q before the drop, want %q", streamed.String(), "Hello")
	}
}

func TestErrors(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	tests := []struct {
		name     string
		status   int
		msg      string
		host     string // empty: the fake server
		embed    string
		chat     string
		want     error
		contains []string
	}{
		{name: "embed model missing", embed: "bge-m3", want: providers.ErrModelNotFound, contains: []string{"ollama pull bge-m3"}},
		{name: "chat model missing", chat: "qwen3:8b", want: providers.ErrModelNotFound, contains: []string{"ollama pull qwen3:8b"}},
		{name: "server error", status: 500, msg: "llama runner process has terminated", embed: "nomic-embed-text", chat: "llama3.2:3b", want: providers.ErrUnavailable, contains: []string{"500", "llama runner"}},
		{name: "bad request", status: 400, msg: "input exceeds maximum context length", embed: "nomic-embed-text", chat: "llama3.2:3b", want: providers.ErrBadRequest, contains: []string{"maximum context length"}},
		{name: "unauthorized", status: 401, msg: "unauthorized", embed: "nomic-embed-text", chat: "llama3.2:3b", want: providers.ErrUnauthorized},
		{name: "server down", host: downURL, embed: "nomic-embed-text", chat: "llama3.2:3b", want: providers.ErrUnavailable, contains: []string{downURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.status, f.statusMsg = tt.status, tt.msg
			host := tt.host
			if host == "" {
				host = srv.URL
			}
			c := newClient(t, host, tt.embed, tt.chat)
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
				_, err := c.Embed(context.Background(), []string{"x"}, providers.PurposeDocument)
				check("embed", err)
			}
			if tt.chat != "" {
				err := within(t, func() error {
					_, err := c.Chat(context.Background(), providers.ChatRequest{Messages: []providers.Message{{Role: "user", Content: "hi"}}}, nil)
					return err
				})
				check("chat", err)
			}
		})
	}
}

func TestEmbedDimensionChange(t *testing.T) {
	_, srv := newFake(t)
	c := newClient(t, srv.URL, "nomic-embed-text", "")
	c.dims.Check(768) // as if an earlier response had come from a different model
	if _, err := c.Embed(context.Background(), []string{"x"}, providers.PurposeDocument); err == nil || !strings.Contains(err.Error(), "768") {
		t.Fatalf("err = %v, want a dimension mismatch", err)
	}
}

func TestStatus(t *testing.T) {
	_, srv := newFake(t)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	tests := []struct {
		name                      string
		host, embed, chat         string
		reachable                 bool
		embedPresent, chatPresent bool
		errContains               string
	}{
		{"all present", srv.URL, "nomic-embed-text", "llama3.2:3b", true, true, true, ""},
		{"explicit latest tag", srv.URL, "nomic-embed-text:latest", "llama3.2:3b", true, true, true, ""},
		{"wrong tag", srv.URL, "nomic-embed-text", "llama3.2", true, true, false, "ollama pull llama3.2"},
		{"both missing", srv.URL, "bge-m3", "qwen3", true, false, false, "ollama pull bge-m3 and ollama pull qwen3"},
		{"unreachable", downURL, "nomic-embed-text", "llama3.2:3b", false, false, false, downURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newClient(t, tt.host, tt.embed, tt.chat).Status(context.Background())
			if st.Reachable != tt.reachable || st.EmbedModelPresent != tt.embedPresent || st.ChatModelPresent != tt.chatPresent {
				t.Fatalf("Status = %+v", st)
			}
			if tt.reachable && (st.Version != "0.17.4" || len(st.Models) != 3) {
				t.Fatalf("Status = %+v, want version and models", st)
			}
			if st.EmbedModel != tt.embed || st.ChatModel != tt.chat {
				t.Fatalf("Status names %q, %q", st.EmbedModel, st.ChatModel)
			}
			if tt.errContains == "" && st.Error != "" || !strings.Contains(st.Error, tt.errContains) {
				t.Fatalf("Status.Error = %q, want it to contain %q", st.Error, tt.errContains)
			}
		})
	}
}

func TestListModelsAndVersion(t *testing.T) {
	_, srv := newFake(t)
	c := newClient(t, srv.URL, "", "")
	models, err := c.ListModels(context.Background())
	if err != nil || strings.Join(models, ",") != "nomic-embed-text:latest,llama3.2:3b,mxbai-embed-large:latest" {
		t.Fatalf("ListModels = %v, %v", models, err)
	}
	v, err := c.Version(context.Background())
	if err != nil || v != "0.17.4" {
		t.Fatalf("Version = %q, %v", v, err)
	}
}

func TestNotOllama(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL, "", "").Version(context.Background())
	if !errors.Is(err, providers.ErrBadRequest) || errors.Is(err, providers.ErrModelNotFound) {
		t.Fatalf("err = %v, want ErrBadRequest", err)
	}
}

func TestNoModelConfigured(t *testing.T) {
	c := newClient(t, "", "", "")
	if _, err := c.Embed(context.Background(), []string{"x"}, providers.PurposeDocument); !errors.Is(err, providers.ErrBadRequest) {
		t.Errorf("Embed without model: err = %v, want ErrBadRequest", err)
	}
	if _, err := c.Chat(context.Background(), providers.ChatRequest{}, nil); !errors.Is(err, providers.ErrBadRequest) {
		t.Errorf("Chat without model: err = %v, want ErrBadRequest", err)
	}
}

func TestParseHost(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "http://127.0.0.1:11434", true},
		{"localhost:11434", "http://localhost:11434", true},
		{"http://gpu-box:11434/", "http://gpu-box:11434", true},
		{"https://ollama.example.com/proxy/", "https://ollama.example.com/proxy", true},
		{"ftp://host", "", false},
		{"http://", "", false},
	}
	for _, tt := range tests {
		u, err := parseHost(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseHost(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && u.String() != tt.want {
			t.Errorf("parseHost(%q) = %q, want %q", tt.in, u, tt.want)
		}
	}
}
