// Package ollama provides embeddings and chat through an Ollama server, using Ollama's
// own Go client (github.com/ollama/ollama/api) for the wire protocol.
//
// Errors are mapped onto the sentinels of package providers: a server that cannot be
// reached (or answers 5xx) is providers.ErrUnavailable, a model that has not been pulled
// is providers.ErrModelNotFound with the `ollama pull` command to fix it, and a rejected
// request is providers.ErrBadRequest.
package ollama

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/ollama/ollama/api"

	"github.com/cortexhq/cortex/providers"
)

// DefaultHost is where Ollama listens unless told otherwise.
const DefaultHost = "http://127.0.0.1:11434"

// ProviderName is the Provider of the embedding identity.
const ProviderName = "ollama"

// embedBatch is how many texts go into one /api/embed request: large enough to amortise
// the round trip, small enough that one request does not run into a proxy's timeout.
const embedBatch = 32

// Config configures a Client.
type Config struct {
	// Host is the server's base URL, such as "http://127.0.0.1:11434"; "host:port"
	// without a scheme means http. Empty means DefaultHost.
	Host string
	// EmbedModel and ChatModel are Ollama model names, with or without a tag
	// ("nomic-embed-text" means "nomic-embed-text:latest").
	EmbedModel string
	ChatModel  string
	// HTTPClient is used for all requests; nil means a client without an overall
	// timeout, because chat streams last as long as the model talks. Deadlines come
	// from the context passed to each call.
	HTTPClient *http.Client
}

// Client talks to one Ollama server. It is safe for concurrent use.
type Client struct {
	api        *api.Client
	host       string
	embedModel string
	chatModel  string
	docPrefix  string
	queryPref  string

	dims providers.Dimensions // learned from the first embedding response
}

var (
	_ providers.Embedder  = (*Client)(nil)
	_ providers.ChatModel = (*Client)(nil)
)

// New returns a Client for the server in cfg. It does not contact the server; use
// Status or Probe for that.
func New(cfg Config) (*Client, error) {
	base, err := parseHost(cfg.Host)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	doc, query := prefixes(cfg.EmbedModel)
	return &Client{
		api:        api.NewClient(base, hc),
		host:       base.String(),
		embedModel: strings.TrimSpace(cfg.EmbedModel),
		chatModel:  strings.TrimSpace(cfg.ChatModel),
		docPrefix:  doc,
		queryPref:  query,
	}, nil
}

// parseHost accepts what people put in OLLAMA_HOST: a URL, or host:port alone.
func parseHost(host string) (*url.URL, error) {
	host = strings.TrimSpace(host)
	if host == "" {
		host = DefaultHost
	}
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("ollama: invalid host %q: %w", host, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("ollama: invalid host %q: want http://host:port", host)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// prefixes returns the document and query prefixes a model was trained with. Retrieval
// quality drops noticeably when they are missing, and vectors made with and without
// them are not comparable, which is why they are part of the identity.
func prefixes(model string) (doc, query string) {
	base := baseName(model)
	switch {
	case strings.HasPrefix(base, "nomic-embed-text"):
		return "search_document: ", "search_query: "
	case strings.HasPrefix(base, "mxbai-embed-large"):
		return "", "Represent this sentence for searching relevant passages: "
	}
	return "", ""
}

// baseName strips the registry namespace and the tag: "library/nomic-embed-text:v1.5"
// → "nomic-embed-text".
func baseName(model string) string {
	name := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name, _, _ = strings.Cut(name, ":")
	return name
}

// canonicalModel spells a model name the way Ollama lists it, with an explicit tag, so
// that "nomic-embed-text" and "nomic-embed-text:latest" are one identity and match
// the /api/tags listing.
func canonicalModel(model string) string {
	model = strings.TrimSpace(model)
	if model == "" {
		return ""
	}
	name := model
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if !strings.Contains(name, ":") {
		model += ":latest"
	}
	return model
}

// Identity describes the embedding space of the configured model. Dimensions is 0
// until the first successful Embed or Probe.
func (c *Client) Identity() providers.EmbeddingIdentity {
	dims := c.dims.Get()
	return providers.EmbeddingIdentity{
		Provider:    ProviderName,
		Model:       canonicalModel(c.embedModel),
		Dimensions:  dims,
		DocPrefix:   c.docPrefix,
		QueryPrefix: c.queryPref,
	}
}

// Probe embeds a short text to learn the model's dimensions (and to check that the
// server is up and has the model), and returns the complete identity.
func (c *Client) Probe(ctx context.Context) (providers.EmbeddingIdentity, error) {
	if _, err := c.Embed(ctx, []string{"probe"}, providers.PurposeQuery); err != nil {
		return providers.EmbeddingIdentity{}, err
	}
	return c.Identity(), nil
}

// Embed returns one L2-normalised vector per text, with the model's prefix for purpose
// prepended. Texts are sent in batches of 32.
func (c *Client) Embed(ctx context.Context, texts []string, purpose providers.EmbedPurpose) ([][]float32, error) {
	if c.embedModel == "" {
		return nil, fmt.Errorf("ollama embed: no embedding model configured: %w", providers.ErrBadRequest)
	}
	prefix := c.docPrefix
	if purpose == providers.PurposeQuery {
		prefix = c.queryPref
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += embedBatch {
		batch := texts[start:min(start+embedBatch, len(texts))]
		input := make([]string, len(batch))
		for i, t := range batch {
			input[i] = prefix + t
		}
		resp, err := c.api.Embed(ctx, &api.EmbedRequest{Model: c.embedModel, Input: input})
		if err != nil {
			return nil, c.mapError(ctx, "embed", c.embedModel, err)
		}
		if len(resp.Embeddings) != len(batch) {
			return nil, fmt.Errorf("ollama embed %q: got %d embeddings for %d texts", c.embedModel, len(resp.Embeddings), len(batch))
		}
		for i, v := range resp.Embeddings {
			if err := c.dims.Check(len(v)); err != nil {
				return nil, fmt.Errorf("ollama embed %q: %w", c.embedModel, err)
			}
			if !providers.NormalizeL2(v) {
				return nil, fmt.Errorf("ollama embed %q: text %d: embedding is zero or not finite", c.embedModel, start+i)
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// Chat streams the answer of the chat model. Documents are sent as a system message
// (providers.RenderDocuments) after any system messages of the request. The prompt and
// completion token counts are Ollama's prompt_eval_count and eval_count.
//
// A stream that ends without Ollama's final done message (the connection dropped, the
// server died) is an error wrapping providers.ErrUnavailable, never a short answer.
func (c *Client) Chat(ctx context.Context, req providers.ChatRequest, onToken providers.TokenFunc) (providers.ChatResponse, error) {
	if c.chatModel == "" {
		return providers.ChatResponse{}, fmt.Errorf("ollama chat: no chat model configured: %w", providers.ErrBadRequest)
	}
	msgs := make([]api.Message, 0, len(req.Messages)+1)
	docs := providers.RenderDocuments(req.Documents)
	for _, m := range req.Messages {
		if docs != "" && m.Role != providers.RoleSystem {
			msgs = append(msgs, api.Message{Role: providers.RoleSystem, Content: docs})
			docs = ""
		}
		msgs = append(msgs, api.Message{Role: m.Role, Content: m.Content})
	}
	if docs != "" {
		msgs = append(msgs, api.Message{Role: providers.RoleSystem, Content: docs})
	}
	options := map[string]any{}
	if req.MaxTokens > 0 {
		options["num_predict"] = req.MaxTokens
	}
	if req.Temperature != nil {
		options["temperature"] = *req.Temperature
	}
	stream := true
	areq := &api.ChatRequest{Model: c.chatModel, Messages: msgs, Stream: &stream, Options: options}

	var (
		content strings.Builder
		final   api.ChatResponse
		done    bool
		cbErr   error
	)
	err := c.api.Chat(ctx, areq, func(r api.ChatResponse) error {
		if r.Message.Content != "" {
			content.WriteString(r.Message.Content)
			if onToken != nil {
				if err := onToken(r.Message.Content); err != nil {
					cbErr = err
					return err
				}
			}
		}
		if r.Done {
			final, done = r, true
		}
		return nil
	})
	if cbErr != nil {
		return providers.ChatResponse{}, cbErr
	}
	if err != nil {
		return providers.ChatResponse{}, c.mapError(ctx, "chat", c.chatModel, err)
	}
	if !done {
		// The api client treats a stream cut short as a normal end, so the context and
		// the missing done message are the only evidence that it was not.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return providers.ChatResponse{}, c.mapError(ctx, "chat", c.chatModel, ctxErr)
		}
		return providers.ChatResponse{}, fmt.Errorf("ollama chat %q: %w: stream from %s ended before the model finished", c.chatModel, providers.ErrUnavailable, c.host)
	}
	model := final.Model
	if model == "" {
		model = c.chatModel
	}
	return providers.ChatResponse{
		Content:          content.String(),
		Model:            model,
		PromptTokens:     final.PromptEvalCount,
		CompletionTokens: final.EvalCount,
	}, nil
}

// Version returns the server's version.
func (c *Client) Version(ctx context.Context) (string, error) {
	v, err := c.api.Version(ctx)
	if err != nil {
		return "", c.mapError(ctx, "version", "", err)
	}
	return v, nil
}

// ListModels returns the names of the models the server has pulled, as "name:tag".
func (c *Client) ListModels(ctx context.Context) ([]string, error) {
	resp, err := c.api.List(ctx)
	if err != nil {
		return nil, c.mapError(ctx, "list models", "", err)
	}
	names := make([]string, 0, len(resp.Models))
	for _, m := range resp.Models {
		name := m.Name
		if name == "" {
			name = m.Model
		}
		names = append(names, name)
	}
	return names, nil
}

// Status is a health report for the server and the configured models.
type Status struct {
	Host              string   `json:"host"`
	Reachable         bool     `json:"reachable"`
	Version           string   `json:"version,omitempty"`
	Models            []string `json:"models,omitempty"`
	EmbedModel        string   `json:"embed_model,omitempty"`
	EmbedModelPresent bool     `json:"embed_model_present"`
	ChatModel         string   `json:"chat_model,omitempty"`
	ChatModelPresent  bool     `json:"chat_model_present"`
	// Error says what is wrong, including how to fix a missing model; empty when all is well.
	Error string `json:"error,omitempty"`
}

// Status checks the server and whether the configured models are pulled. It never
// fails: problems are reported in the Status.
func (c *Client) Status(ctx context.Context) Status {
	st := Status{Host: c.host, EmbedModel: c.embedModel, ChatModel: c.chatModel}
	v, err := c.Version(ctx)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Reachable, st.Version = true, v
	models, err := c.ListModels(ctx)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Models = models
	st.EmbedModelPresent = hasModel(models, c.embedModel)
	st.ChatModelPresent = hasModel(models, c.chatModel)
	var missing []string
	if c.embedModel != "" && !st.EmbedModelPresent {
		missing = append(missing, c.embedModel)
	}
	if c.chatModel != "" && !st.ChatModelPresent && canonicalModel(c.chatModel) != canonicalModel(c.embedModel) {
		missing = append(missing, c.chatModel)
	}
	if len(missing) > 0 {
		cmds := make([]string, len(missing))
		for i, m := range missing {
			cmds[i] = "ollama pull " + m
		}
		st.Error = fmt.Sprintf("model not pulled on %s: run %s", c.host, strings.Join(cmds, " and "))
	}
	return st
}

// hasModel reports whether want is among the listed models; a name without a tag
// matches its ":latest".
func hasModel(models []string, want string) bool {
	if want == "" {
		return false
	}
	w := canonicalModel(want)
	for _, m := range models {
		if strings.EqualFold(canonicalModel(m), w) {
			return true
		}
	}
	return false
}

// mapError wraps err with the operation and the sentinel of package providers that
// tells the caller what to do about it.
func (c *Client) mapError(ctx context.Context, op, model string, err error) error {
	what := "ollama " + op
	if model != "" {
		what = fmt.Sprintf("ollama %s %q", op, model)
	}

	var status api.StatusError
	var auth api.AuthorizationError
	switch {
	case errors.As(err, &auth):
		return fmt.Errorf("%s: %w: %s answered %d", what, providers.ErrUnauthorized, c.host, auth.StatusCode)
	case errors.As(err, &status):
		msg := strings.TrimSpace(status.ErrorMessage)
		if msg == "" {
			msg = status.Status
		}
		switch {
		case status.StatusCode == http.StatusNotFound || strings.Contains(msg, "try pulling it first"):
			if model == "" {
				// No model involved: the path itself is unknown, so this is not Ollama.
				return fmt.Errorf("%s: %w: %s answered 404 (is it an Ollama server?): %s", what, providers.ErrBadRequest, c.host, msg)
			}
			return fmt.Errorf("%s: %w: %s does not have it; run `ollama pull %s`", what, providers.ErrModelNotFound, c.host, model)
		case status.StatusCode == http.StatusUnauthorized || status.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%s: %w: %s", what, providers.ErrUnauthorized, msg)
		case status.StatusCode == http.StatusTooManyRequests || status.StatusCode >= 500:
			return fmt.Errorf("%s: %w: %s answered %d: %s", what, providers.ErrUnavailable, c.host, status.StatusCode, msg)
		case status.StatusCode >= 400:
			return fmt.Errorf("%s: %w: %s", what, providers.ErrBadRequest, msg)
		}
	}

	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The caller's deadline: the server was too slow, which is unavailability.
			return fmt.Errorf("%s: %w: %s did not answer in time: %w", what, providers.ErrUnavailable, c.host, ctx.Err())
		}
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if isNetworkError(err) {
		return fmt.Errorf("%s: %w: cannot reach %s (is `ollama serve` running?): %w", what, providers.ErrUnavailable, c.host, err)
	}
	if strings.Contains(err.Error(), "try pulling it first") {
		// Reported inside a stream, where the api client keeps only the message.
		return fmt.Errorf("%s: %w: %s does not have it; run `ollama pull %s`", what, providers.ErrModelNotFound, c.host, model)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isNetworkError reports whether err means the server could not be reached or went
// away mid-response: refused or reset connections, DNS failures, timeouts, truncated
// bodies.
func isNetworkError(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	return errors.As(err, &netErr) || errors.As(err, &urlErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
