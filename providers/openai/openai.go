// Package openai provides embeddings and chat through any OpenAI-compatible endpoint —
// OpenAI itself, LiteLLM, vLLM, llama.cpp's server, Ollama's /v1 — using the official
// client (github.com/openai/openai-go/v3), which also parses the SSE stream.
//
// The client is built without the SDK's environment defaults (OPENAI_API_KEY,
// OPENAI_BASE_URL, OPENAI_ORG_ID, …): Cortex's configuration decides where requests go
// and with which key, not whatever happens to be set in the shell. The SDK's own retries
// are off because Cortex's job queue retries, and retrying in two places multiplies waits.
//
// Errors are mapped onto the sentinels of package providers by HTTP status: 401/403 are
// providers.ErrUnauthorized, 404 providers.ErrModelNotFound, 400/422
// providers.ErrBadRequest, and 429, 5xx and network failures providers.ErrUnavailable.
package openai

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

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/cortexhq/cortex/providers"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// ProviderName is the Provider of the embedding identity.
const ProviderName = "openai"

// embedBatch is how many texts go into one /embeddings request. OpenAI accepts far more,
// but compatible servers often cap batches, and small batches keep a failure cheap.
const embedBatch = 32

// Config configures a Client.
type Config struct {
	// BaseURL is the API root including the version, such as "https://api.openai.com/v1"
	// or "http://localhost:4000/v1". Empty means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends no Authorization header, which is
	// what local servers without authentication expect.
	APIKey     string
	EmbedModel string
	ChatModel  string
	// HTTPClient is used for all requests; nil means a client without an overall timeout
	// (chat streams last as long as the model talks). Deadlines come from the context.
	HTTPClient *http.Client
}

// Client talks to one OpenAI-compatible endpoint. It is safe for concurrent use.
type Client struct {
	embeddings sdk.EmbeddingService
	chat       sdk.ChatCompletionService
	models     sdk.ModelService
	baseURL    string
	embedModel string
	chatModel  string
	// useMaxCompletionTokens: OpenAI's newer models reject max_tokens, while many
	// compatible servers know only max_tokens.
	useMaxCompletionTokens bool

	dims providers.Dimensions // learned from the first embedding response
}

var (
	_ providers.Embedder  = (*Client)(nil)
	_ providers.ChatModel = (*Client)(nil)
)

// New returns a Client for the endpoint in cfg. It does not contact the endpoint; use
// Probe or ListModels for that.
func New(cfg Config) (*Client, error) {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: invalid base URL %q: want http(s)://host/v1", base)
	}
	base = strings.TrimRight(base, "/")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	// The services are built directly rather than through sdk.NewClient, which would
	// layer the OPENAI_* environment variables under these options.
	return &Client{
		embeddings:             sdk.NewEmbeddingService(opts...),
		chat:                   sdk.NewChatCompletionService(opts...),
		models:                 sdk.NewModelService(opts...),
		baseURL:                base,
		embedModel:             strings.TrimSpace(cfg.EmbedModel),
		chatModel:              strings.TrimSpace(cfg.ChatModel),
		useMaxCompletionTokens: u.Hostname() == "api.openai.com",
	}, nil
}

// Identity describes the embedding space of the configured model. Dimensions is 0 until
// the first successful Embed or Probe. The endpoint is not part of the identity: the
// same model name is taken to mean the same model wherever it is served.
func (c *Client) Identity() providers.EmbeddingIdentity {
	dims := c.dims.Get()
	return providers.EmbeddingIdentity{Provider: ProviderName, Model: c.embedModel, Dimensions: dims}
}

// Probe embeds a short text to learn the model's dimensions (and to check the endpoint,
// the key and the model), and returns the complete identity.
func (c *Client) Probe(ctx context.Context) (providers.EmbeddingIdentity, error) {
	if _, err := c.Embed(ctx, []string{"probe"}, providers.PurposeQuery); err != nil {
		return providers.EmbeddingIdentity{}, err
	}
	return c.Identity(), nil
}

// Embed returns one L2-normalised vector per text, in order. Texts are sent in batches
// of 32. purpose is ignored: OpenAI-style embedding models take no prefixes.
func (c *Client) Embed(ctx context.Context, texts []string, _ providers.EmbedPurpose) ([][]float32, error) {
	if c.embedModel == "" {
		return nil, fmt.Errorf("openai embed: no embedding model configured: %w", providers.ErrBadRequest)
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += embedBatch {
		batch := texts[start:min(start+embedBatch, len(texts))]
		var raw *http.Response
		resp, err := c.embeddings.New(ctx, sdk.EmbeddingNewParams{
			Model:          c.embedModel,
			Input:          sdk.EmbeddingNewParamsInputUnion{OfArrayOfStrings: batch},
			EncodingFormat: sdk.EmbeddingNewParamsEncodingFormatFloat,
		}, option.WithResponseInto(&raw))
		if err != nil {
			return nil, c.mapError(ctx, "embed", c.embedModel, raw, err)
		}
		vecs, err := c.collect(resp, len(batch))
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// collect puts the embeddings of one response in input order — the data carries an
// index, and nothing promises it arrives sorted — and normalises them.
func (c *Client) collect(resp *sdk.CreateEmbeddingResponse, n int) ([][]float32, error) {
	if len(resp.Data) != n {
		return nil, fmt.Errorf("openai embed %q: got %d embeddings for %d texts", c.embedModel, len(resp.Data), n)
	}
	vecs := make([][]float32, n)
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= int64(n) || vecs[d.Index] != nil {
			return nil, fmt.Errorf("openai embed %q: bad or repeated embedding index %d", c.embedModel, d.Index)
		}
		if err := c.dims.Check(len(d.Embedding)); err != nil {
			return nil, fmt.Errorf("openai embed %q: %w", c.embedModel, err)
		}
		v := make([]float32, len(d.Embedding))
		for i, x := range d.Embedding {
			v[i] = float32(x)
		}
		if !providers.NormalizeL2(v) {
			return nil, fmt.Errorf("openai embed %q: embedding %d is zero or not finite", c.embedModel, d.Index)
		}
		vecs[d.Index] = v
	}
	return vecs, nil
}

// Chat streams a chat completion. Documents are sent as a system message
// (providers.RenderDocuments) after any leading system messages of the request. Usage is
// requested with stream_options and reported when the server sends it.
//
// A stream that ends without a finish_reason (the connection dropped, the server died
// mid-answer) is an error wrapping providers.ErrUnavailable, never a short answer.
func (c *Client) Chat(ctx context.Context, req providers.ChatRequest, onToken providers.TokenFunc) (providers.ChatResponse, error) {
	if c.chatModel == "" {
		return providers.ChatResponse{}, fmt.Errorf("openai chat: no chat model configured: %w", providers.ErrBadRequest)
	}
	msgs, err := messages(req)
	if err != nil {
		return providers.ChatResponse{}, fmt.Errorf("openai chat %q: %w", c.chatModel, err)
	}
	params := sdk.ChatCompletionNewParams{
		Model:         c.chatModel,
		Messages:      msgs,
		StreamOptions: sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)},
	}
	if req.MaxTokens > 0 {
		if c.useMaxCompletionTokens {
			params.MaxCompletionTokens = sdk.Int(int64(req.MaxTokens))
		} else {
			params.MaxTokens = sdk.Int(int64(req.MaxTokens))
		}
	}
	if req.Temperature != nil {
		params.Temperature = sdk.Float(*req.Temperature)
	}

	var raw *http.Response
	stream := c.chat.NewStreaming(ctx, params, option.WithResponseInto(&raw))
	defer stream.Close()

	var (
		content  strings.Builder
		resp     = providers.ChatResponse{Model: c.chatModel}
		finished bool
	)
	for stream.Next() {
		chunk := stream.Current()
		if chunk.Model != "" {
			resp.Model = chunk.Model
		}
		if chunk.JSON.Usage.Valid() {
			resp.PromptTokens = int(chunk.Usage.PromptTokens)
			resp.CompletionTokens = int(chunk.Usage.CompletionTokens)
		}
		for _, choice := range chunk.Choices {
			if choice.Index != 0 {
				continue
			}
			if delta := choice.Delta.Content; delta != "" {
				content.WriteString(delta)
				if onToken != nil {
					if err := onToken(delta); err != nil {
						return providers.ChatResponse{}, err
					}
				}
			}
			if choice.FinishReason != "" {
				finished = true
			}
		}
	}
	if err := stream.Err(); err != nil {
		return providers.ChatResponse{}, c.mapError(ctx, "chat", c.chatModel, raw, err)
	}
	if !finished {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return providers.ChatResponse{}, c.mapError(ctx, "chat", c.chatModel, nil, ctxErr)
		}
		return providers.ChatResponse{}, fmt.Errorf("openai chat %q: %w: stream from %s ended before the model finished", c.chatModel, providers.ErrUnavailable, c.baseURL)
	}
	resp.Content = content.String()
	return resp, nil
}

// messages converts the request's conversation, inserting the rendered documents after
// the leading system messages so that the model's instructions still come first.
func messages(req providers.ChatRequest) ([]sdk.ChatCompletionMessageParamUnion, error) {
	out := make([]sdk.ChatCompletionMessageParamUnion, 0, len(req.Messages)+1)
	docs := providers.RenderDocuments(req.Documents)
	for _, m := range req.Messages {
		if docs != "" && m.Role != providers.RoleSystem {
			out = append(out, sdk.SystemMessage(docs))
			docs = ""
		}
		switch m.Role {
		case providers.RoleSystem:
			out = append(out, sdk.SystemMessage(m.Content))
		case providers.RoleUser:
			out = append(out, sdk.UserMessage(m.Content))
		case providers.RoleAssistant:
			out = append(out, sdk.AssistantMessage(m.Content))
		default:
			return nil, fmt.Errorf("%w: unknown message role %q", providers.ErrBadRequest, m.Role)
		}
	}
	if docs != "" {
		out = append(out, sdk.SystemMessage(docs))
	}
	return out, nil
}

// ListModels returns the IDs of the models the endpoint serves.
func (c *Client) ListModels(ctx context.Context) ([]string, error) {
	var raw *http.Response
	page, err := c.models.List(ctx, option.WithResponseInto(&raw))
	if err != nil {
		return nil, c.mapError(ctx, "list models", "", raw, err)
	}
	ids := make([]string, 0, len(page.Data))
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// mapError wraps err with the operation and the sentinel of package providers that tells
// the caller what to do about it. raw is the HTTP response when one arrived: it carries
// the status even when the error body was not the JSON the SDK expects.
func (c *Client) mapError(ctx context.Context, op, model string, raw *http.Response, err error) error {
	what := "openai " + op
	if model != "" {
		what = fmt.Sprintf("openai %s %q", op, model)
	}

	status, msg := 0, ""
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		status, msg = apiErr.StatusCode, apiErr.Message
	} else if raw != nil && raw.StatusCode >= 400 {
		status = raw.StatusCode
	}
	if msg == "" && status != 0 {
		msg = http.StatusText(status)
	}
	msg = truncate(strings.TrimSpace(msg), 300)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s: %w: %s answered %d: %s", what, providers.ErrUnauthorized, c.baseURL, status, msg)
	case status == http.StatusNotFound:
		if model == "" {
			// No model involved: the path itself is unknown, so the base URL is wrong.
			return fmt.Errorf("%s: %w: %s answered 404 (does the base URL end in /v1?): %s", what, providers.ErrBadRequest, c.baseURL, msg)
		}
		return fmt.Errorf("%s: %w: %s has no model %q (check the model name, and that the base URL ends in /v1): %s", what, providers.ErrModelNotFound, c.baseURL, model, msg)
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("%s: %w: %s answered %d: %s", what, providers.ErrUnavailable, c.baseURL, status, msg)
	case status >= 400:
		return fmt.Errorf("%s: %w: %s", what, providers.ErrBadRequest, msg)
	}

	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			// The caller's deadline: the server was too slow, which is unavailability.
			return fmt.Errorf("%s: %w: %s did not answer in time: %w", what, providers.ErrUnavailable, c.baseURL, ctxErr)
		}
		return fmt.Errorf("%s: %w", what, ctxErr)
	}
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		// An error event in the middle of a stream: the server gave up on this answer.
		return fmt.Errorf("%s: %w: %s", what, providers.ErrUnavailable, truncate(streamErr.Message, 300))
	}
	if isNetworkError(err) {
		return fmt.Errorf("%s: %w: connection to %s failed: %w", what, providers.ErrUnavailable, c.baseURL, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// isNetworkError reports whether err means the server could not be reached or went away
// mid-response: refused or reset connections, DNS failures, timeouts, truncated bodies.
func isNetworkError(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	return errors.As(err, &netErr) || errors.As(err, &urlErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
