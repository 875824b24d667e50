package main

import (
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cortexhq/cortex/sdk/abi"
)

// hostAPI is the part of the SDK the nodes use. main.go implements it with the real host
// functions; tests use a fake, so every branch of the nodes runs natively.
type hostAPI interface {
	// GetItem reads an item without its content; withText adds the extracted text.
	GetItem(id string, withText bool) (abi.Item, error)
	UpdateItem(u abi.ItemUpdate) error
	FetchItem(id string) (abi.ItemsFetchOutput, error)
	ExtractItem(id string) (abi.ExtractResult, error)
	WriteChunks(id string, chunks []abi.ChunkInput) (abi.ChunksWriteOutput, error)
	LLM(in abi.LLMInput) (abi.LLMOutput, error)
	Invoke(plugin, function string, in any) error
	Config(key string) (string, bool)
	Progress(step string, fraction float64, message string)
	Log(level, message string, attrs map[string]any)
}

// runState is the workflow's state. Every node reads its predecessor's state and returns
// it with its own fields added; the host checkpoints it after every node.
//
// The extracted text is never in it: extract stores it on the item, and chunk, index and
// enrich read it back from there. A document can be megabytes and the state is written
// to SQLite after every node; the item is the one copy. chunk passes on only the chunk
// boundaries (offsets, heading, token count — a few dozen bytes a chunk) with a hash of
// the text they were cut from; index drops them once the chunks are stored.
type runState struct {
	ItemID string `json:"item_id"`
	// fetch
	Fetched bool `json:"fetched,omitempty"`
	// extract
	Extractor   string         `json:"extractor,omitempty"`
	Title       string         `json:"title,omitempty"`
	Byline      string         `json:"byline,omitempty"`
	PublishedAt string         `json:"published_at,omitempty"`
	Language    string         `json:"language,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	TextTokens  int            `json:"text_tokens,omitempty"`
	// TextHash identifies the text the chunk boundaries refer to.
	TextHash string `json:"text_hash,omitempty"`
	// chunk (Chunks is dropped by index)
	ChunkSize    int    `json:"chunk_size,omitempty"`
	ChunkOverlap int    `json:"chunk_overlap,omitempty"`
	Chunks       []span `json:"chunks,omitempty"`
	// index
	ChunkCount     int    `json:"chunk_count,omitempty"`
	EmbeddingModel string `json:"embedding_model,omitempty"`
	// enrich
	Summarized bool     `json:"summarized,omitempty"`
	AITags     []string `json:"ai_tags,omitempty"`
	// connect
	Connected bool `json:"connected,omitempty"`
	// Warnings are failures that did not fail the run (enrichment, connections).
	Warnings []string `json:"warnings,omitempty"`
}

// Progress fractions rise through the run; each node reports when it is done.
const (
	progressFetch   = 0.1
	progressExtract = 0.3
	progressChunk   = 0.5
	progressIndex   = 0.7
	progressEnrich  = 0.9
	progressConnect = 1.0
)

// Enrichment reads the start of the text: enough for a summary and tags, and a bounded
// prompt however long the document.
const (
	enrichTokens  = 4000
	summaryItems  = 3
	maxTags       = 5
	chunkSizeMin  = 50
	chunkSizeMax  = 8000
	connectPlugin = "connections"
	connectExport = "connect"
)

type workflow struct{ h hostAPI }

// step adapts a node to sdk.HandleNode, which hands it the state already decoded.
func (w *workflow) step(fn func(*runState) (string, error)) func(abi.NodeInput, *runState) (string, error) {
	return func(_ abi.NodeInput, st *runState) (string, error) {
		if st.ItemID == "" {
			return "", abi.Errorf(abi.ErrInvalid, "the state has no item_id")
		}
		return fn(st)
	}
}

// fetch makes sure the item has content: what the user saved, or else the page at its URL.
func (w *workflow) fetch(st *runState) (string, error) {
	it, err := w.item(st.ItemID, false)
	if err != nil {
		return "", err
	}
	if it.HasContent {
		w.h.Progress("fetch", progressFetch, "content already saved")
		return "", nil
	}
	if strings.TrimSpace(it.URL) == "" {
		return "", abi.Errorf(abi.ErrInvalid, "nothing to process: the item has no content and no URL")
	}
	out, err := w.h.FetchItem(st.ItemID)
	if hasCode(err, abi.ErrDenied) {
		return "", abi.Errorf(abi.ErrDenied, "no content to process and fetching URLs is turned off")
	}
	if err != nil {
		// The host's message names the URL and what went wrong with it.
		return "", wrap(err, "download the page")
	}
	if out.Bytes == 0 {
		return "", abi.Errorf(abi.ErrInvalid, "fetch %s: the page is empty", it.URL)
	}
	st.Fetched = true
	w.h.Progress("fetch", progressFetch, fmt.Sprintf("fetched %s (%d bytes)", it.URL, out.Bytes))
	return "", nil
}

// extract has the host run the matching extractor and stores the clean text on the item.
func (w *workflow) extract(st *runState) (string, error) {
	it, err := w.item(st.ItemID, false)
	if err != nil {
		return "", err
	}
	res, err := w.h.ExtractItem(st.ItemID)
	if hasCode(err, abi.ErrNotFound) {
		what := fmt.Sprintf("content type %q", it.ContentType)
		if it.URL != "" {
			what += fmt.Sprintf(", URL %s", it.URL)
		}
		return "", abi.Errorf(abi.ErrNotFound, "no extractor handles this item (%s): %s", what, message(err))
	}
	if err != nil {
		return "", wrap(err, "extract text")
	}
	out := res.Output
	if strings.TrimSpace(out.Text) == "" {
		return "", abi.Errorf(abi.ErrInvalid, "nothing to index: the extractor found no text (%s)", res.Extractor)
	}
	// Every field is written, empty or not, so a re-run on new content leaves nothing of
	// the old extraction behind. The title is the exception: the user's own wins.
	u := abi.ItemUpdate{ID: st.ItemID, Text: &out.Text, Extractor: &res.Extractor, Byline: &out.Byline,
		Language: &out.Language, PublishedAt: &out.PublishedAt}
	title := strings.TrimSpace(out.Title)
	if title == "" {
		// A list needs something to show: a page or note without a title is named
		// after its opening words.
		title = titleFromText(out.Text)
	}
	if strings.TrimSpace(it.Title) == "" && title != "" {
		u.Title = &title
	}
	if err := w.h.UpdateItem(u); err != nil {
		return "", wrap(err, "store extracted text")
	}
	st.Extractor, st.Title, st.Byline = res.Extractor, title, out.Byline
	st.PublishedAt, st.Language, st.Metadata = out.PublishedAt, out.Language, out.Metadata
	st.TextTokens = countTokens(out.Text, 0, len(out.Text))
	st.TextHash = textHash(out.Text)
	w.h.Progress("extract", progressExtract, fmt.Sprintf("extracted %d words with %s", st.TextTokens, res.Extractor))
	return "", nil
}

// chunk decides the chunk boundaries. The state carries the boundaries, not the chunks'
// text, which index cuts from the item's text again.
func (w *workflow) chunk(st *runState) (string, error) {
	text, err := w.text(st.ItemID)
	if err != nil {
		return "", err
	}
	st.ChunkSize, st.ChunkOverlap = w.chunkParams()
	st.Chunks = chunkText(text, st.ChunkSize, st.ChunkOverlap)
	st.TextHash = textHash(text)
	w.h.Progress("chunk", progressChunk, fmt.Sprintf("split into %d chunks", len(st.Chunks)))
	return "", nil
}

// index stores the chunks; the host embeds them and replaces any earlier set.
func (w *workflow) index(st *runState) (string, error) {
	text, err := w.text(st.ItemID)
	if err != nil {
		return "", err
	}
	spans := st.Chunks
	if textHash(text) != st.TextHash || !validSpans(spans, len(text)) {
		// The text is not the one chunk saw (changed since, or a state without chunks):
		// chunk what is there now, which is what chunk would have produced.
		w.h.Log("warn", "item text changed after chunking; chunking it again", map[string]any{"item": st.ItemID})
		if st.ChunkSize == 0 {
			st.ChunkSize, st.ChunkOverlap = w.chunkParams()
		}
		spans = chunkText(text, st.ChunkSize, st.ChunkOverlap)
		st.TextHash = textHash(text)
	}
	chunks := make([]abi.ChunkInput, len(spans))
	for i, sp := range spans {
		chunks[i] = abi.ChunkInput{Text: text[sp.Start:sp.End], Heading: sp.Heading,
			StartOffset: sp.Start, EndOffset: sp.End, TokenCount: sp.Tokens}
	}
	res, err := w.h.WriteChunks(st.ItemID, chunks)
	if err != nil {
		return "", wrap(err, "store %d chunks", len(chunks))
	}
	st.Chunks = nil
	st.ChunkCount, st.EmbeddingModel = res.Count, res.EmbeddingModel
	w.h.Progress("index", progressIndex, fmt.Sprintf("indexed %d chunks with %s", res.Count, res.EmbeddingModel))
	return "", nil
}

// enrich adds a summary and tags. A model that is down fails the node so the host retries
// later; any other failure only costs the item its summary or tags.
func (w *workflow) enrich(st *runState) (string, error) {
	text, err := w.text(st.ItemID)
	if err != nil {
		return "", err
	}
	sample := text[:prefixEnd(text, enrichTokens)]
	u := abi.ItemUpdate{ID: st.ItemID}
	st.Summarized, st.AITags = false, nil

	sum, err := w.h.LLM(abi.LLMInput{Task: abi.TaskSummarize, Text: sample, MaxItems: summaryItems})
	switch {
	case hasCode(err, abi.ErrUnavailable):
		return "", err
	case err != nil:
		st.warn(w.h, "summary skipped", err)
	default:
		s := strings.TrimSpace(sum.Content)
		u.Summary, st.Summarized = &s, s != ""
	}

	tags, err := w.h.LLM(abi.LLMInput{Task: abi.TaskTags, Text: sample, MaxItems: maxTags})
	switch {
	case hasCode(err, abi.ErrUnavailable):
		return "", err
	case err != nil:
		st.warn(w.h, "tags skipped", err)
	default:
		t := cleanTags(tags.Tags, maxTags)
		u.AITags, st.AITags = &t, t
	}

	if u.Summary != nil || u.AITags != nil {
		if err := w.h.UpdateItem(u); err != nil {
			return "", wrap(err, "store summary and tags")
		}
	}
	w.h.Progress("enrich", progressEnrich, fmt.Sprintf("summary: %t, %d tags", st.Summarized, len(st.AITags)))
	return "", nil
}

// connect runs the connections workflow for the item when one is installed, and ends the
// run. Connections are a bonus: only a model that is down fails the node (to be retried).
func (w *workflow) connect(st *runState) (string, error) {
	err := w.h.Invoke(connectPlugin, connectExport, map[string]string{"item_id": st.ItemID})
	st.Connected = err == nil
	msg := "connected"
	switch {
	case err == nil:
	case hasCode(err, abi.ErrNotFound):
		msg = "no connections plugin installed"
	case hasCode(err, abi.ErrUnavailable):
		return "", err
	default:
		st.warn(w.h, "connections skipped", err)
		msg = "connections skipped"
	}
	w.h.Progress("connect", progressConnect, msg)
	return abi.End, nil
}

// item reads one item; a deleted item fails the run for good.
func (w *workflow) item(id string, withText bool) (abi.Item, error) {
	it, err := w.h.GetItem(id, withText)
	if err != nil {
		return abi.Item{}, wrap(err, "read item %s", id)
	}
	return it, nil
}

// text reads the item's extracted text, which every node after extract works from.
func (w *workflow) text(id string) (string, error) {
	it, err := w.item(id, true)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(it.Text) == "" {
		return "", abi.Errorf(abi.ErrInvalid, "nothing to index: item %s has no extracted text", id)
	}
	return it.Text, nil
}

// chunkParams reads chunk_size and chunk_overlap, falling back to the defaults when a
// value is missing or not a number, and keeping them in the range the settings allow.
func (w *workflow) chunkParams() (size, overlap int) {
	size, overlap = defaultChunkSize, defaultChunkOverlap
	if v, ok := w.h.Config("chunk_size"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			size = max(chunkSizeMin, min(n, chunkSizeMax))
		}
	}
	if v, ok := w.h.Config("chunk_overlap"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			overlap = n
		}
	}
	return size, min(overlap, size/2)
}

func (st *runState) warn(h hostAPI, what string, err error) {
	h.Log("warn", what, map[string]any{"item": st.ItemID, "err": err.Error()})
	st.Warnings = append(st.Warnings, what+": "+err.Error())
}

// titleMax is the longest title made from a text's opening words, in runes.
const titleMax = 80

// titleFromText names a text after its first line, without Markdown markers. A line too
// long for a title is cut at its first sentence end, or else at a word boundary.
func titleFromText(text string) string {
	var line string
	for l := range strings.SplitSeq(text, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "#>*-+ \t"))
		l = orderedMarkerRE.ReplaceAllString(l, "")
		if l == "" || strings.HasPrefix(l, "```") || strings.HasPrefix(l, "|") {
			continue
		}
		line = l
		break
	}
	const trim = ".:;, "
	if utf8.RuneCountInString(line) <= titleMax {
		return strings.TrimRight(line, trim)
	}
	// A short first "sentence" is more likely an abbreviation ("Dr. Who") than a title.
	if i := strings.Index(line, ". "); i > 0 && utf8.RuneCountInString(line[:i]) >= 20 &&
		utf8.RuneCountInString(line[:i]) <= titleMax {
		return line[:i]
	}
	cut := string([]rune(line)[:titleMax])
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, trim) + "…"
}

var orderedMarkerRE = regexp.MustCompile(`^\d{1,3}[.)]\s+`)

func validSpans(spans []span, n int) bool {
	prev := 0
	for _, sp := range spans {
		if sp.Start < 0 || sp.Start >= sp.End || sp.End > n || sp.End < prev {
			return false
		}
		prev = sp.End
	}
	return len(spans) > 0
}

// cleanTags trims, lower-cases and de-duplicates tags, keeping at most k.
func cleanTags(tags []string, k int) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || seen[t] || len(out) == k {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

func textHash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 16)
}

// wrap adds context to a host function's error and keeps its code.
func wrap(err error, format string, args ...any) error {
	ctx := fmt.Sprintf(format, args...)
	var ae *abi.Error
	if errors.As(err, &ae) {
		return abi.Errorf(ae.Code, "%s: %s", ctx, ae.Message)
	}
	return fmt.Errorf("%s: %w", ctx, err)
}

func hasCode(err error, code string) bool {
	var ae *abi.Error
	return errors.As(err, &ae) && ae.Code == code
}

func message(err error) string {
	var ae *abi.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}
