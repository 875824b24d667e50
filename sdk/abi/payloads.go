package abi

import "encoding/json"

// ExtractInput is what an extractor's extract export receives.
type ExtractInput struct {
	URL         string `json:"url,omitempty"`
	Title       string `json:"title,omitempty"`
	Content     string `json:"content"`
	ContentType string `json:"content_type,omitempty"`
}

// ExtractOutput is what an extractor returns: clean text that keeps headings, lists, code
// blocks and tables readable (Markdown-like), and what it learned about the document.
type ExtractOutput struct {
	Title       string         `json:"title"`
	Text        string         `json:"text"`
	Byline      string         `json:"byline,omitempty"`
	PublishedAt string         `json:"published_at,omitempty"`
	Language    string         `json:"language,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// LogInput is the request of FnLog.
type LogInput struct {
	// Level is debug, info, warn or error.
	Level   string         `json:"level"`
	Message string         `json:"message"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// Event is the request of FnEmit: progress or a custom event on the current run's stream.
type Event struct {
	Type     string          `json:"type"`
	Step     string          `json:"step,omitempty"`
	Progress float64         `json:"progress,omitempty"`
	Message  string          `json:"message,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// ConfigInput is the request of FnConfig; an empty Key asks for every value.
type ConfigInput struct {
	Key string `json:"key,omitempty"`
}

// ConfigOutput answers FnConfig: the plugin's config values from plugins.toml and the
// runtime settings it may read (chunk_size, chunk_overlap, …).
type ConfigOutput struct {
	Value  string            `json:"value,omitempty"`
	Found  bool              `json:"found"`
	Values map[string]string `json:"values,omitempty"`
}

// Item is an item as plugins see it.
type Item struct {
	ID      string `json:"id"`
	URL     string `json:"url,omitempty"`
	Title   string `json:"title"`
	Content string `json:"content,omitempty"`
	// HasContent says whether the item has non-blank raw content, even when the request
	// did not ask for it: a workflow can decide to fetch without reading a whole page.
	HasContent  bool           `json:"has_content"`
	ContentType string         `json:"content_type,omitempty"`
	Source      string         `json:"source"`
	Status      string         `json:"status"`
	Text        string         `json:"text,omitempty"`
	Summary     string         `json:"summary,omitempty"`
	Tags        []string       `json:"tags"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	CreatedAt   string         `json:"created_at"`
}

// ItemsGetInput is the request of FnItemsGet.
type ItemsGetInput struct {
	IDs []string `json:"ids"`
	// WithContent includes the raw content and the extracted text (both can be large).
	WithContent bool `json:"with_content,omitempty"`
	// WithText includes the extracted text but not the raw content: what a node after
	// extraction needs. A saved web page is often ten times its text, and every byte is
	// JSON-decoded inside the sandbox.
	WithText bool `json:"with_text,omitempty"`
}

// ItemsGetOutput answers FnItemsGet; unknown IDs are left out.
type ItemsGetOutput struct {
	Items []Item `json:"items"`
}

// ItemUpdate is the request of FnItemsUpdate. Nil fields are left as they are.
type ItemUpdate struct {
	ID          string  `json:"id"`
	Title       *string `json:"title,omitempty"`
	Text        *string `json:"text,omitempty"`
	Summary     *string `json:"summary,omitempty"`
	Byline      *string `json:"byline,omitempty"`
	Language    *string `json:"language,omitempty"`
	PublishedAt *string `json:"published_at,omitempty"`
	Extractor   *string `json:"extractor,omitempty"`
	ContentType *string `json:"content_type,omitempty"`
	// Content replaces the raw content (a fetched page, for example) without sending the
	// item back to pending.
	Content *string `json:"content,omitempty"`
	// AITags replaces the tags enrichment added; the user's own are never touched.
	AITags   *[]string      `json:"ai_tags,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// ItemsFetchInput is the request of FnItemsFetch: the host downloads the item's URL
// (timeout, size cap, redirects, charset converted to UTF-8) and stores the page as the
// item's content, so the document itself never has to cross into the plugin.
type ItemsFetchInput struct {
	ItemID string `json:"item_id"`
}

// ItemsFetchOutput answers FnItemsFetch.
type ItemsFetchOutput struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Bytes       int    `json:"bytes"`
	FinalURL    string `json:"final_url"`
}

// ChunkInput is one chunk a plugin asks the host to store. Offsets are byte offsets into
// the item's text.
type ChunkInput struct {
	Text        string `json:"text"`
	Heading     string `json:"heading,omitempty"`
	StartOffset int    `json:"start_offset"`
	EndOffset   int    `json:"end_offset"`
	TokenCount  int    `json:"token_count"`
}

// ChunksWriteInput is the request of FnChunksWrite: the item's complete set of chunks.
// The host embeds them with the active embedding model and stores chunks, keyword index
// rows and vectors in one transaction, replacing any earlier set, so writing twice is
// harmless.
type ChunksWriteInput struct {
	ItemID string       `json:"item_id"`
	Chunks []ChunkInput `json:"chunks"`
}

// ChunksWriteOutput answers FnChunksWrite.
type ChunksWriteOutput struct {
	Count          int    `json:"count"`
	EmbeddingModel string `json:"embedding_model"`
}

// ChunksGetInput is the request of FnChunksGet.
type ChunksGetInput struct {
	ItemID string `json:"item_id"`
}

// Chunk is a stored chunk.
type Chunk struct {
	ID          int64  `json:"id"`
	ItemID      string `json:"item_id"`
	Ordinal     int    `json:"ordinal"`
	Text        string `json:"text"`
	Heading     string `json:"heading,omitempty"`
	StartOffset int    `json:"start_offset"`
	EndOffset   int    `json:"end_offset"`
	TokenCount  int    `json:"token_count"`
}

// ChunksGetOutput answers FnChunksGet.
type ChunksGetOutput struct {
	Chunks []Chunk `json:"chunks"`
}

// Embed purposes.
const (
	PurposeDocument = "document"
	PurposeQuery    = "query"
)

// EmbedInput is the request of FnEmbed.
type EmbedInput struct {
	Texts []string `json:"texts"`
	// Purpose is PurposeDocument (default) or PurposeQuery.
	Purpose string `json:"purpose,omitempty"`
}

// EmbedOutput answers FnEmbed.
type EmbedOutput struct {
	Vectors    [][]float32 `json:"vectors"`
	Model      string      `json:"model"`
	Dimensions int         `json:"dimensions"`
}

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Document is a grounding source for an LLM answer, cited as [n] in order.
type Document struct {
	Title string `json:"title,omitempty"`
	Text  string `json:"text"`
}

// LLM tasks. The host turns summarize and tags into the right prompt for a remote model
// and into extractive summaries and keyword tags with the local provider.
const (
	TaskChat      = "chat"
	TaskSummarize = "summarize"
	TaskTags      = "tags"
)

// LLMInput is the request of FnLLMChat. Generated text streams to the current run's event
// stream as it comes; the plugin receives the whole answer.
type LLMInput struct {
	Task      string     `json:"task,omitempty"`
	Messages  []Message  `json:"messages,omitempty"`
	Documents []Document `json:"documents,omitempty"`
	// Text is the input of the summarize and tags tasks.
	Text      string `json:"text,omitempty"`
	MaxTokens int    `json:"max_tokens,omitempty"`
	// MaxItems caps the tags task's answer.
	MaxItems int `json:"max_items,omitempty"`
	// Stream sends tokens to the run's event stream as "token" events.
	Stream bool `json:"stream,omitempty"`
}

// LLMOutput answers FnLLMChat.
type LLMOutput struct {
	Content string   `json:"content"`
	Tags    []string `json:"tags,omitempty"`
	Model   string   `json:"model"`
}

// InvokeInput is the request of FnInvoke: call another plugin's export.
type InvokeInput struct {
	Plugin   string          `json:"plugin"`
	Function string          `json:"function"`
	Input    json.RawMessage `json:"input"`
}

// InvokeOutput answers FnInvoke with the export's output.
type InvokeOutput struct {
	Output json.RawMessage `json:"output"`
}

// ExtractRequest is the request of FnExtract: the host picks the extractor whose match
// rules fit and runs it. With ItemID set the host reads the item's URL, title, content and
// content type itself, so a large page never crosses into the calling plugin.
type ExtractRequest struct {
	ItemID string `json:"item_id,omitempty"`
	ExtractInput
}

// ExtractResult answers FnExtract.
type ExtractResult struct {
	Extractor string        `json:"extractor"`
	Output    ExtractOutput `json:"output"`
}

// KVInput is the request of FnKVGet, FnKVSet and FnKVDelete. Keys are private to the
// plugin.
type KVInput struct {
	Key   string `json:"key"`
	Value []byte `json:"value,omitempty"`
}

// KVOutput answers FnKVGet.
type KVOutput struct {
	Value []byte `json:"value,omitempty"`
	Found bool   `json:"found"`
}

// HTTPRequest is the request of FnHTTPFetch. Only the plugin's allowed hosts are reachable,
// every redirect is checked again, and size and time are capped.
type HTTPRequest struct {
	Method    string            `json:"method,omitempty"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      []byte            `json:"body,omitempty"`
	TimeoutMS int               `json:"timeout_ms,omitempty"`
	MaxBytes  int64             `json:"max_bytes,omitempty"`
}

// HTTPResponse answers FnHTTPFetch.
type HTTPResponse struct {
	Status   int               `json:"status"`
	Headers  map[string]string `json:"headers"`
	Body     []byte            `json:"body"`
	FinalURL string            `json:"final_url"`
}

// SearchFilters narrow keyword and vector search alike. Empty fields do not filter;
// dates are RFC 3339.
type SearchFilters struct {
	Sources       []string `json:"sources,omitempty"`
	ContentTypes  []string `json:"content_types,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	ItemIDs       []string `json:"item_ids,omitempty"`
	CreatedAfter  string   `json:"created_after,omitempty"`
	CreatedBefore string   `json:"created_before,omitempty"`
}

// SearchInput is the request of FnSearchKeyword and FnSearchVector. For keyword search
// the host parses Query (quotes make phrases; operators and punctuation are text); for
// vector search it embeds Query with the model of the active vectors.
type SearchInput struct {
	Query   string        `json:"query"`
	Limit   int           `json:"limit"`
	Filters SearchFilters `json:"filters,omitempty"`
}

// ChunkHit is one chunk found, best first. Score is higher-is-better within one list
// (negated BM25 for keyword hits, cosine similarity for vector hits); compare ranks, not
// scores, across lists.
type ChunkHit struct {
	ChunkID int64   `json:"chunk_id"`
	ItemID  string  `json:"item_id"`
	Ordinal int     `json:"ordinal"`
	Score   float64 `json:"score"`
	// Exact marks keyword hits that contain every identifier and phrase of the query
	// exactly; they lead the keyword list.
	Exact bool `json:"exact,omitempty"`
}

// SearchOutput answers FnSearchKeyword and FnSearchVector.
type SearchOutput struct {
	Hits []ChunkHit `json:"hits"`
	// Terms are the words the keyword search looked for (to mark in snippets).
	Terms []string `json:"terms,omitempty"`
	// Phrases are the quoted phrases it required.
	Phrases []string `json:"phrases,omitempty"`
	// Model names the embedding model of a vector search.
	Model string `json:"model,omitempty"`
}

// SearchChunksInput is the request of FnSearchChunks: the text of chunks found, for
// snippets, fetched only for the results that will be shown.
type SearchChunksInput struct {
	ChunkIDs []int64 `json:"chunk_ids"`
}

// ChunkText is a chunk's text with its item's title.
type ChunkText struct {
	ChunkID int64  `json:"chunk_id"`
	ItemID  string `json:"item_id"`
	Title   string `json:"title"`
	Heading string `json:"heading,omitempty"`
	Text    string `json:"text"`
}

// SearchChunksOutput answers FnSearchChunks, in the order asked; unknown IDs are left out.
type SearchChunksOutput struct {
	Chunks []ChunkText `json:"chunks"`
}
