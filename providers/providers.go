// Package providers holds the contract shared by Cortex's embedding and chat model providers:
// the request and response types, the identity of an embedding space and the sentinel errors
// callers branch on. Each implementation lives in a subpackage with a type named Client:
// local (offline, deterministic, always available), ollama and openai (any OpenAI-compatible
// endpoint).
//
// Consumers define the small interfaces they need (host.Embedder, for example); the
// interfaces here document the shape every Client satisfies.
package providers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Sentinel errors. Implementations wrap them with context, so callers use errors.Is.
var (
	// ErrUnavailable means the provider could not be reached (connection refused, DNS,
	// timeout, 5xx). It is temporary: work that needs the provider should wait and retry.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrModelNotFound means the provider is up but does not have the model. The wrapped
	// message says how to get it (for Ollama, the `ollama pull` command).
	ErrModelNotFound = errors.New("model not found")
	// ErrUnauthorized means the provider refused the credentials.
	ErrUnauthorized = errors.New("provider refused credentials")
	// ErrBadRequest means the provider rejected the request itself (invalid input,
	// context too long); retrying the same request will not help.
	ErrBadRequest = errors.New("provider rejected request")
)

// EmbedPurpose says what a text will be used for. Some models (nomic-embed-text) embed
// documents and queries with different prefixes; a query must be embedded as a query.
type EmbedPurpose int

const (
	// PurposeDocument embeds stored text (chunks).
	PurposeDocument EmbedPurpose = iota
	// PurposeQuery embeds a search query.
	PurposeQuery
)

// EmbeddingIdentity names an embedding space. Two vectors are comparable only when their
// identities are equal: same provider, model, dimensions and prefix scheme.
type EmbeddingIdentity struct {
	Provider    string `json:"provider"`
	Model       string `json:"model"`
	Dimensions  int    `json:"dimensions"`
	DocPrefix   string `json:"doc_prefix,omitempty"`
	QueryPrefix string `json:"query_prefix,omitempty"`
}

// Embedder turns texts into vectors of one embedding space.
type Embedder interface {
	// Embed returns one L2-normalised vector per text, in order.
	Embed(ctx context.Context, texts []string, purpose EmbedPurpose) ([][]float32, error)
	// Identity describes the space the vectors live in. For remote providers the
	// dimensions are known only after the first successful call (or Probe).
	Identity() EmbeddingIdentity
}

// Role of a chat message.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Document is a grounding source for a chat answer. Documents are cited as [1]..[n] in
// the order given.
type Document struct {
	Title string `json:"title,omitempty"`
	Text  string `json:"text"`
}

// ChatRequest asks a chat model for the next assistant message.
type ChatRequest struct {
	Messages []Message
	// Documents, when present, are the sources the answer must be grounded in. Remote
	// providers receive them rendered into a system message by RenderDocuments; the local
	// provider composes its answer from them directly.
	Documents []Document
	// MaxTokens caps the answer length; 0 means the provider's default.
	MaxTokens int
	// Temperature; nil means the provider's default.
	Temperature *float64
}

// ChatResponse is the complete answer once streaming has finished.
type ChatResponse struct {
	Content string `json:"content"`
	Model   string `json:"model"`
	// PromptTokens and CompletionTokens are as reported by the provider (0 when unknown).
	PromptTokens     int `json:"prompt_tokens,omitempty"`
	CompletionTokens int `json:"completion_tokens,omitempty"`
}

// TokenFunc receives streamed answer text as it is generated. Returning an error stops
// the generation and is returned from Chat.
type TokenFunc func(token string) error

// ChatModel generates answers, streaming them token by token.
type ChatModel interface {
	// Chat streams the answer to onToken (which may be nil) and returns it whole.
	Chat(ctx context.Context, req ChatRequest, onToken TokenFunc) (ChatResponse, error)
}

// RenderDocuments formats grounding sources as the text of a system message for remote
// chat models: the sources numbered [1]..[n] in the order given, preceded by an instruction
// to answer only from them and to cite with those numbers. The numbering must match the
// order of ChatRequest.Documents because callers map [n] back to their items. It returns
// "" when there are no documents, so callers can skip the message.
func RenderDocuments(docs []Document) string {
	if len(docs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Answer the user's question using only the numbered sources below. ")
	b.WriteString("After each statement, cite the sources it comes from with their numbers in square brackets, like [1] or [2][3]. ")
	b.WriteString("If the sources do not contain the answer, say so plainly; do not invent facts or citations.\n\nSources:\n")
	for i, d := range docs {
		fmt.Fprintf(&b, "\n[%d]", i+1)
		if t := strings.TrimSpace(d.Title); t != "" {
			// Titles are single-line labels; a newline in one would blur where the text begins.
			b.WriteByte(' ')
			b.WriteString(strings.Join(strings.Fields(t), " "))
		}
		b.WriteByte('\n')
		b.WriteString(strings.TrimSpace(d.Text))
		b.WriteByte('\n')
	}
	return b.String()
}

// NormalizeL2 scales v in place to unit length and reports whether it could: a zero
// vector, or one holding NaN or ±Inf, is left unchanged and reported false. Remote
// providers do not all return normalised vectors, and the store compares by dot product.
func NormalizeL2(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return false
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return true
}
