package host

import (
	"fmt"
	"sync"

	"github.com/cortexhq/cortex/internal/config"
	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/providers/local"
	"github.com/cortexhq/cortex/providers/ollama"
	"github.com/cortexhq/cortex/providers/openai"
)

// Models holds the embedding and chat models the current settings select. Apply swaps
// them when the settings change; callers take the current ones per use.
type Models struct {
	mu       sync.RWMutex
	emb      providers.Embedder
	chat     providers.ChatModel
	local    *local.Client
	settings config.Settings
	// older keeps embedders of other identities built on demand (the previous model's,
	// while its vectors still answer queries during a switch).
	older map[string]providers.Embedder
}

// NewModels builds the models for s.
func NewModels(s config.Settings) (*Models, error) {
	m := &Models{local: local.New()}
	if err := m.Apply(s); err != nil {
		return nil, err
	}
	return m, nil
}

// NewModelsWith uses the given models, for tests and the plugin harness.
func NewModelsWith(emb providers.Embedder, chat providers.ChatModel) *Models {
	return &Models{emb: emb, chat: chat, local: local.New()}
}

// Apply selects models for s: local, ollama, openai, or hybrid (Ollama embeddings and
// OpenAI-compatible chat).
func (m *Models) Apply(s config.Settings) error {
	var emb providers.Embedder
	var chat providers.ChatModel
	newOllama := func() (*ollama.Client, error) {
		return ollama.New(ollama.Config{Host: s.OllamaHost, EmbedModel: s.EmbeddingModel, ChatModel: s.ChatModel})
	}
	newOpenAI := func() (*openai.Client, error) {
		return openai.New(openai.Config{BaseURL: s.OpenAIBaseURL, APIKey: s.OpenAIAPIKey,
			EmbedModel: s.OpenAIEmbeddingModel, ChatModel: s.OpenAIChatModel})
	}
	switch s.Provider {
	case config.ProviderLocal:
		emb, chat = m.local, m.local
	case config.ProviderOllama:
		c, err := newOllama()
		if err != nil {
			return fmt.Errorf("ollama: %w", err)
		}
		emb, chat = c, c
	case config.ProviderOpenAI:
		c, err := newOpenAI()
		if err != nil {
			return fmt.Errorf("openai: %w", err)
		}
		emb, chat = c, c
	case config.ProviderHybrid:
		o, err := newOllama()
		if err != nil {
			return fmt.Errorf("ollama: %w", err)
		}
		c, err := newOpenAI()
		if err != nil {
			return fmt.Errorf("openai: %w", err)
		}
		emb, chat = o, c
	default:
		return fmt.Errorf("unknown provider %q", s.Provider)
	}
	m.mu.Lock()
	m.emb, m.chat, m.settings, m.older = emb, chat, s, nil
	m.mu.Unlock()
	return nil
}

// EmbedderFor returns an embedder that produces vectors of identity id: the current one
// when it matches, else one built for that model with the current hosts and keys (so the
// previous model keeps answering queries until its replacement is complete).
func (m *Models) EmbedderFor(id providers.EmbeddingIdentity) (providers.Embedder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.emb.Identity()
	if cur.Provider == id.Provider && cur.Model == id.Model && cur.DocPrefix == id.DocPrefix && cur.QueryPrefix == id.QueryPrefix {
		return m.emb, nil
	}
	key := id.Provider + "/" + id.Model
	if e, ok := m.older[key]; ok {
		return e, nil
	}
	var e providers.Embedder
	var err error
	s := m.settings
	switch id.Provider {
	case local.ProviderName:
		e = m.local
	case ollama.ProviderName:
		e, err = ollama.New(ollama.Config{Host: s.OllamaHost, EmbedModel: id.Model})
	case openai.ProviderName:
		e, err = openai.New(openai.Config{BaseURL: s.OpenAIBaseURL, APIKey: s.OpenAIAPIKey, EmbedModel: id.Model})
	default:
		return nil, fmt.Errorf("%w: no provider %q for the stored vectors", providers.ErrUnavailable, id.Provider)
	}
	if err != nil {
		return nil, err
	}
	if m.older == nil {
		m.older = map[string]providers.Embedder{}
	}
	m.older[key] = e
	return e, nil
}

// Embedder is the current embedding model.
func (m *Models) Embedder() providers.Embedder {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.emb
}

// Chat is the current chat model.
func (m *Models) Chat() providers.ChatModel {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.chat
}

// isLocal reports whether the chat model is the offline extractive one, which summarises
// and tags directly instead of through a prompt.
func (m *Models) isLocal(chat providers.ChatModel) bool {
	_, ok := chat.(*local.Client)
	return ok
}
