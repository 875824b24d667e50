package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	extism "github.com/extism/go-sdk"

	"github.com/cortexhq/cortex/host/internal/safehttp"
	"github.com/cortexhq/cortex/providers"
	"github.com/cortexhq/cortex/providers/local"
	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/store"
)

// Store is the storage host functions use.
type Store interface {
	GetItem(ctx context.Context, id string) (store.Item, error)
	UpdateItemDerived(ctx context.Context, id string, u store.DerivedUpdate) error
	ReplaceChunks(ctx context.Context, itemID string, chunks []store.Chunk, space *store.Space, vectors [][]float32) ([]int64, error)
	Chunks(ctx context.Context, itemID string) ([]store.Chunk, error)
	EnsureSpace(ctx context.Context, id store.SpaceIdentity, chunkSize, chunkOverlap int) (store.Space, error)
	ActiveSpace(ctx context.Context) (store.Space, error)
	SetSpaceState(ctx context.Context, spaceID int64, state string) error
	KVGet(ctx context.Context, plugin, key string) ([]byte, bool, error)
	KVSet(ctx context.Context, plugin, key string, value []byte) error
	KVDelete(ctx context.Context, plugin, key string) error
}

// Services back the host functions. Any may be nil; a host function whose service is
// missing answers "unavailable".
type Services struct {
	Store  Store
	Models *Models
	// Settings are runtime settings plugins may read through cortex_config (chunk_size,
	// chunk_overlap, fetch_urls, …).
	Settings func() map[string]string
	// OnHostCall, when set, sees every host function call (the plugin harness records them).
	OnHostCall func(HostCall)
}

// HostCall records one host function call.
type HostCall struct {
	Plugin   string          `json:"plugin"`
	Function string          `json:"function"`
	Request  json.RawMessage `json:"request"`
	Result   json.RawMessage `json:"result"`
	Took     time.Duration   `json:"took"`
}

// Host function limits: enough for real use, small enough that one call cannot hog the
// host.
const (
	maxKVKey        = 512
	maxKVValue      = 1 << 20
	maxItemsPerGet  = 1000
	maxEmbedTexts   = 2048
	maxInvokeDepth  = 4
	maxChunksPerSet = 20000
)

type hostFn func(ctx context.Context, ci *callInfo, req []byte) (any, error)

// hostFunctions builds the host functions v was granted. Ungranted ones are not even
// linked: checkImports has already refused a module that imports one.
func (h *Host) hostFunctions(v *version) []extism.HostFunction {
	impls := map[string]hostFn{
		abi.FnLog:           h.fnLog,
		abi.FnEmit:          h.fnEmit,
		abi.FnConfig:        h.fnConfig,
		abi.FnItemsGet:      h.fnItemsGet,
		abi.FnItemsUpdate:   h.fnItemsUpdate,
		abi.FnItemsFetch:    h.fnItemsFetch,
		abi.FnChunksWrite:   h.fnChunksWrite,
		abi.FnChunksGet:     h.fnChunksGet,
		abi.FnEmbed:         h.fnEmbed,
		abi.FnSearchKeyword: h.fnSearchKeyword,
		abi.FnSearchVector:  h.fnSearchVector,
		abi.FnSearchChunks:  h.fnSearchChunks,
		abi.FnLLMChat:       h.fnLLM,
		abi.FnInvoke:        h.fnInvoke,
		abi.FnExtract:       h.fnExtract,
		abi.FnKVGet:         h.fnKVGet,
		abi.FnKVSet:         h.fnKVSet,
		abi.FnKVDelete:      h.fnKVDelete,
		abi.FnHTTPFetch:     h.fnHTTPFetch(v),
	}
	var out []extism.HostFunction
	for name, capability := range abi.HostFunctions {
		impl, ok := impls[name]
		if !ok || !v.spec.granted(capability) {
			continue
		}
		out = append(out, h.wrap(name, capability, impl))
	}
	return out
}

// wrap adapts a hostFn to the Extism calling convention: read the JSON request, answer
// with a JSON envelope. Only an ABI violation (an unreadable offset) traps.
func (h *Host) wrap(name, capability string, fn hostFn) extism.HostFunction {
	f := extism.NewHostFunctionWithStack(name, func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
		req, err := p.ReadBytes(stack[0])
		if err != nil {
			panic(fmt.Errorf("%s: read request: %w", name, err))
		}
		ci := callInfoFrom(ctx)
		start := time.Now()
		var res []byte
		switch {
		case ci == nil:
			res = envelope(nil, fmt.Errorf("%w: %s called outside a plugin call", ErrDenied, name))
		case !ci.v.spec.granted(capability):
			// checkImports makes this unreachable; kept so a future linking change cannot
			// silently widen what a plugin may do.
			res = envelope(nil, fmt.Errorf("%w: %s needs the %q capability", ErrDenied, name, capability))
		default:
			res = h.callJournalled(ctx, name, ci, req, fn)
		}
		if h.services.OnHostCall != nil && ci != nil {
			h.services.OnHostCall(HostCall{Plugin: ci.v.spec.Name, Function: name, Request: json.RawMessage(req), Result: res, Took: time.Since(start)})
		}
		off, werr := p.WriteBytes(res)
		if werr != nil {
			panic(fmt.Errorf("%s: write result: %w", name, werr))
		}
		stack[0] = off
	}, []extism.ValueType{extism.ValueTypeI64}, []extism.ValueType{extism.ValueTypeI64})
	f.SetNamespace(abi.HostNamespace)
	return f
}

// callJournalled answers a host call. In a durable run's node, a side-effecting call that
// the same node attempt already made (before a crash) gets its recorded answer instead of
// being made again; a successful new one is recorded.
func (h *Host) callJournalled(ctx context.Context, name string, ci *callInfo, req []byte, fn hostFn) []byte {
	key, journal := ci.journalKey(name)
	if journal {
		if recorded, ok := h.replay(ctx, ci, key, name, req); ok {
			return recorded
		}
	}
	data, err := h.callHostFn(ctx, name, ci, req, fn)
	res := envelope(data, err)
	if journal && err == nil {
		h.record(ctx, key, name, req, res)
	}
	return res
}

// callHostFn runs a host function and turns a panic in it (a host bug, say in a provider
// on text nobody foresaw) into an internal error for this one call. Left to wazero, the
// panic would trap the guest and read as the plugin's fault.
func (h *Host) callHostFn(ctx context.Context, name string, ci *callInfo, req []byte, fn hostFn) (data any, err error) {
	defer func() {
		if r := recover(); r != nil {
			h.log.Error("host function panicked", "function", name, "plugin", ci.v.spec.Name, "panic", r, "stack", string(debug.Stack()))
			data, err = nil, fmt.Errorf("host function %s failed: %v", name, r)
		}
	}()
	return fn(ctx, ci, req)
}

func envelope(data any, err error) []byte {
	var res abi.Result
	if err != nil {
		res.Error = &abi.Error{Code: errorCode(err), Message: err.Error()}
	} else {
		res.OK = true
		if data != nil {
			raw, merr := marshal(data)
			if merr != nil {
				res = abi.Result{Error: &abi.Error{Code: abi.ErrInternal, Message: "encode result: " + merr.Error()}}
			} else {
				res.Data = raw
			}
		}
	}
	out, _ := marshal(res)
	return out
}

func errorCode(err error) string {
	var abiErr *abi.Error
	switch {
	case errors.As(err, &abiErr):
		return abiErr.Code
	case errors.Is(err, errInvalidRequest), errors.Is(err, store.ErrInvalid), errors.Is(err, safehttp.ErrBadRequest):
		return abi.ErrInvalid
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrNotFound), errors.Is(err, ErrNoExport):
		return abi.ErrNotFound
	case errors.Is(err, ErrDenied), errors.Is(err, safehttp.ErrHostNotAllowed), errors.Is(err, safehttp.ErrPrivateAddress):
		return abi.ErrDenied
	case errors.Is(err, providers.ErrUnavailable), errors.Is(err, providers.ErrModelNotFound),
		errors.Is(err, providers.ErrUnauthorized), errors.Is(err, context.DeadlineExceeded):
		return abi.ErrUnavailable
	case errors.Is(err, ErrLimit), errors.Is(err, safehttp.ErrTooLarge), errors.Is(err, safehttp.ErrRateLimited):
		return abi.ErrLimit
	case errors.Is(err, ErrPluginFailed), errors.Is(err, ErrTrap), errors.Is(err, ErrTimeout), errors.Is(err, ErrBadOutput), errors.Is(err, ErrNotReady):
		return abi.ErrPluginFailed
	default:
		return abi.ErrInternal
	}
}

var errInvalidRequest = errors.New("invalid request")

func decode(req []byte, v any) error {
	if err := json.Unmarshal(req, v); err != nil {
		return fmt.Errorf("%w: %v", errInvalidRequest, err)
	}
	return nil
}

func (h *Host) fnLog(_ context.Context, ci *callInfo, req []byte) (any, error) {
	var in abi.LogInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(in.Level))
	attrs := make([]any, 0, 2*len(in.Attrs)+2)
	for k, v := range in.Attrs {
		attrs = append(attrs, k, v)
	}
	if ci.run.RunID != "" {
		attrs = append(attrs, "run", ci.run.RunID)
	}
	ci.v.log.Log(context.Background(), level, in.Message, attrs...)
	return nil, nil
}

func (h *Host) fnEmit(_ context.Context, ci *callInfo, req []byte) (any, error) {
	var ev abi.Event
	if err := decode(req, &ev); err != nil {
		return nil, err
	}
	if ev.Type == "" {
		return nil, fmt.Errorf("%w: event type is required", errInvalidRequest)
	}
	ci.emit(ev)
	return nil, nil
}

func (h *Host) fnConfig(_ context.Context, ci *callInfo, req []byte) (any, error) {
	var in abi.ConfigInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	values := map[string]string{}
	if h.services.Settings != nil {
		for k, v := range h.services.Settings() {
			values[k] = v
		}
	}
	for k, v := range ci.v.spec.Config {
		values[k] = v
	}
	if in.Key == "" {
		return abi.ConfigOutput{Found: true, Values: values}, nil
	}
	v, ok := values[in.Key]
	return abi.ConfigOutput{Value: v, Found: ok}, nil
}

func (h *Host) needStore() (Store, error) {
	if h.services.Store == nil {
		return nil, &abi.Error{Code: abi.ErrUnavailable, Message: "no store in this host"}
	}
	return h.services.Store, nil
}

func toABIItem(it store.Item, withContent, withText bool) abi.Item {
	out := abi.Item{
		ID: it.ID, URL: it.URL, Title: it.Title, ContentType: it.ContentType, Source: it.Source,
		Status: it.Status, Summary: it.Summary, Tags: it.Tags, CreatedAt: it.CreatedAt.Format(time.RFC3339),
		HasContent: strings.TrimSpace(it.Content) != "",
	}
	if withContent {
		out.Content = it.Content
	}
	if withContent || withText {
		out.Text = it.Text
	}
	_ = json.Unmarshal(it.Metadata, &out.Metadata)
	return out
}

func (h *Host) fnItemsGet(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	st, err := h.needStore()
	if err != nil {
		return nil, err
	}
	var in abi.ItemsGetInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if len(in.IDs) > maxItemsPerGet {
		return nil, fmt.Errorf("%w: at most %d ids per call", ErrLimit, maxItemsPerGet)
	}
	out := abi.ItemsGetOutput{Items: []abi.Item{}}
	for _, id := range in.IDs {
		it, err := st.GetItem(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, toABIItem(it, in.WithContent, in.WithText))
	}
	return out, nil
}

func (h *Host) fnItemsUpdate(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	st, err := h.needStore()
	if err != nil {
		return nil, err
	}
	var in abi.ItemUpdate
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	u := store.DerivedUpdate{
		Title: in.Title, Text: in.Text, Summary: in.Summary, Byline: in.Byline, Language: in.Language,
		PublishedAt: in.PublishedAt, Extractor: in.Extractor, ContentType: in.ContentType, Content: in.Content,
		AITags: in.AITags, Metadata: in.Metadata,
	}
	if in.Text != nil {
		n := len(strings.Fields(*in.Text))
		u.WordCount = &n
	}
	return nil, st.UpdateItemDerived(ctx, in.ID, u)
}

func (h *Host) fnChunksWrite(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	st, err := h.needStore()
	if err != nil {
		return nil, err
	}
	var in abi.ChunksWriteInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if len(in.Chunks) > maxChunksPerSet {
		return nil, fmt.Errorf("%w: at most %d chunks per item", ErrLimit, maxChunksPerSet)
	}
	chunks := make([]store.Chunk, len(in.Chunks))
	texts := make([]string, len(in.Chunks))
	for i, c := range in.Chunks {
		chunks[i] = store.Chunk{Text: c.Text, Heading: c.Heading, StartOffset: c.StartOffset, EndOffset: c.EndOffset, TokenCount: c.TokenCount}
		texts[i] = embedText(c.Heading, c.Text)
	}
	if h.services.Models == nil {
		return nil, &abi.Error{Code: abi.ErrUnavailable, Message: "no embedding model in this host"}
	}
	emb := h.services.Models.Embedder()
	var vecs [][]float32
	if len(texts) > 0 {
		if vecs, err = emb.Embed(ctx, texts, providers.PurposeDocument); err != nil {
			return nil, fmt.Errorf("embed chunks: %w", err)
		}
	}
	id := emb.Identity()
	out := abi.ChunksWriteOutput{Count: len(chunks), EmbeddingModel: id.Provider + "/" + id.Model}
	if len(vecs) == 0 {
		_, err = st.ReplaceChunks(ctx, in.ItemID, chunks, nil, nil)
		return out, err
	}
	size, overlap := h.chunkParams()
	space, err := st.EnsureSpace(ctx, store.SpaceIdentity(id), size, overlap)
	if err != nil {
		return nil, err
	}
	if space.State == store.SpaceBuilding {
		// The first space ever becomes active at once; a later one is switched to by the
		// re-embedding job when it is complete.
		if _, err := st.ActiveSpace(ctx); errors.Is(err, store.ErrNotFound) {
			if err := st.SetSpaceState(ctx, space.ID, store.SpaceActive); err != nil {
				return nil, err
			}
		}
	}
	if _, err := st.ReplaceChunks(ctx, in.ItemID, chunks, &space, vecs); err != nil {
		return nil, err
	}
	model := out.EmbeddingModel
	return out, st.UpdateItemDerived(ctx, in.ItemID, store.DerivedUpdate{EmbeddingModel: &model})
}

func (h *Host) chunkParams() (size, overlap int) {
	size, overlap = 500, 50
	if h.services.Settings == nil {
		return size, overlap
	}
	s := h.services.Settings()
	if n, err := strconv.Atoi(s["chunk_size"]); err == nil {
		size = n
	}
	if n, err := strconv.Atoi(s["chunk_overlap"]); err == nil {
		overlap = n
	}
	return size, overlap
}

func (h *Host) fnChunksGet(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	st, err := h.needStore()
	if err != nil {
		return nil, err
	}
	var in abi.ChunksGetInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	chunks, err := st.Chunks(ctx, in.ItemID)
	if err != nil {
		return nil, err
	}
	out := abi.ChunksGetOutput{Chunks: make([]abi.Chunk, len(chunks))}
	for i, c := range chunks {
		out.Chunks[i] = abi.Chunk{ID: c.ID, ItemID: c.ItemID, Ordinal: c.Ordinal, Text: c.Text, Heading: c.Heading,
			StartOffset: c.StartOffset, EndOffset: c.EndOffset, TokenCount: c.TokenCount}
	}
	return out, nil
}

func (h *Host) fnEmbed(ctx context.Context, _ *callInfo, req []byte) (any, error) {
	var in abi.EmbedInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if len(in.Texts) > maxEmbedTexts {
		return nil, fmt.Errorf("%w: at most %d texts per call", ErrLimit, maxEmbedTexts)
	}
	if h.services.Models == nil {
		return nil, &abi.Error{Code: abi.ErrUnavailable, Message: "no embedding model in this host"}
	}
	purpose := providers.PurposeDocument
	if in.Purpose == abi.PurposeQuery {
		purpose = providers.PurposeQuery
	}
	emb := h.services.Models.Embedder()
	vecs, err := emb.Embed(ctx, in.Texts, purpose)
	if err != nil {
		return nil, err
	}
	id := emb.Identity()
	return abi.EmbedOutput{Vectors: vecs, Model: id.Provider + "/" + id.Model, Dimensions: id.Dimensions}, nil
}

func (h *Host) fnLLM(ctx context.Context, ci *callInfo, req []byte) (any, error) {
	var in abi.LLMInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if h.services.Models == nil {
		return nil, &abi.Error{Code: abi.ErrUnavailable, Message: "no chat model in this host"}
	}
	chat := h.services.Models.Chat()
	isLocal := h.services.Models.isLocal(chat)
	model := "local/" + local.ChatModelName
	switch in.Task {
	case abi.TaskSummarize:
		if isLocal {
			return abi.LLMOutput{Content: local.Summarize(in.Text, max(2, in.MaxItems)), Model: model}, nil
		}
		in.Messages = []abi.Message{
			{Role: providers.RoleSystem, Content: "You write short, faithful summaries. Answer with the summary only: 2 to 3 sentences, no preamble."},
			{Role: providers.RoleUser, Content: "Summarize this document:\n\n" + clip(in.Text, 12000)},
		}
	case abi.TaskTags:
		k := in.MaxItems
		if k <= 0 {
			k = 5
		}
		if isLocal {
			return abi.LLMOutput{Tags: local.Keywords(in.Text, k), Model: model}, nil
		}
		in.Messages = []abi.Message{
			{Role: providers.RoleSystem, Content: fmt.Sprintf("You tag documents. Answer with at most %d short lower-case topic tags, comma-separated, nothing else.", k)},
			{Role: providers.RoleUser, Content: clip(in.Text, 8000)},
		}
	case "", abi.TaskChat:
	default:
		return nil, fmt.Errorf("%w: unknown task %q", errInvalidRequest, in.Task)
	}
	creq := providers.ChatRequest{MaxTokens: in.MaxTokens}
	for _, m := range in.Messages {
		creq.Messages = append(creq.Messages, providers.Message{Role: m.Role, Content: m.Content})
	}
	for _, d := range in.Documents {
		creq.Documents = append(creq.Documents, providers.Document{Title: d.Title, Text: d.Text})
	}
	var onToken providers.TokenFunc
	if in.Stream {
		onToken = func(tok string) error {
			ci.emit(abi.Event{Type: "token", Message: tok})
			return nil
		}
	}
	resp, err := chat.Chat(ctx, creq, onToken)
	if err != nil {
		return nil, err
	}
	out := abi.LLMOutput{Content: resp.Content, Model: resp.Model}
	if in.Task == abi.TaskTags {
		out.Tags = splitTags(resp.Content, in.MaxItems)
	}
	return out, nil
}

func (h *Host) fnInvoke(ctx context.Context, ci *callInfo, req []byte) (any, error) {
	var in abi.InvokeInput
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if ci.depth >= maxInvokeDepth {
		return nil, fmt.Errorf("%w: invoke nested deeper than %d", ErrLimit, maxInvokeDepth)
	}
	out, err := h.Call(ctx, in.Plugin, in.Function, in.Input)
	if err != nil {
		return nil, err
	}
	return abi.InvokeOutput{Output: out}, nil
}

func (h *Host) fnExtract(ctx context.Context, ci *callInfo, req []byte) (any, error) {
	var in abi.ExtractRequest
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if ci.depth >= maxInvokeDepth {
		return nil, fmt.Errorf("%w: invoke nested deeper than %d", ErrLimit, maxInvokeDepth)
	}
	if in.ItemID != "" {
		st, err := h.needStore()
		if err != nil {
			return nil, err
		}
		it, err := st.GetItem(ctx, in.ItemID)
		if err != nil {
			return nil, err
		}
		in.ExtractInput = abi.ExtractInput{URL: it.URL, Title: it.Title, Content: it.Content, ContentType: it.ContentType}
	}
	return h.Extract(ctx, in.ExtractInput)
}

func (h *Host) fnKVGet(ctx context.Context, ci *callInfo, req []byte) (any, error) {
	st, in, err := h.kvRequest(req)
	if err != nil {
		return nil, err
	}
	v, found, err := st.KVGet(ctx, ci.v.spec.Name, in.Key)
	return abi.KVOutput{Value: v, Found: found}, err
}

func (h *Host) fnKVSet(ctx context.Context, ci *callInfo, req []byte) (any, error) {
	st, in, err := h.kvRequest(req)
	if err != nil {
		return nil, err
	}
	if len(in.Value) > maxKVValue {
		return nil, fmt.Errorf("%w: values are at most %d bytes", ErrLimit, maxKVValue)
	}
	return nil, st.KVSet(ctx, ci.v.spec.Name, in.Key, in.Value)
}

func (h *Host) fnKVDelete(ctx context.Context, ci *callInfo, req []byte) (any, error) {
	st, in, err := h.kvRequest(req)
	if err != nil {
		return nil, err
	}
	return nil, st.KVDelete(ctx, ci.v.spec.Name, in.Key)
}

func (h *Host) kvRequest(req []byte) (Store, abi.KVInput, error) {
	var in abi.KVInput
	st, err := h.needStore()
	if err != nil {
		return nil, in, err
	}
	if err := decode(req, &in); err != nil {
		return nil, in, err
	}
	if in.Key == "" || len(in.Key) > maxKVKey {
		return nil, in, fmt.Errorf("%w: key must be 1 to %d bytes", errInvalidRequest, maxKVKey)
	}
	return st, in, nil
}

// fnHTTPFetch gives each version its own client, so the allowed hosts and the rate limit
// are the plugin's own.
func (h *Host) fnHTTPFetch(v *version) hostFn {
	client := safehttp.New(safehttp.Policy{
		AllowedHosts:      v.spec.AllowedHosts,
		RequestsPerMinute: v.spec.Limits.withDefaults().HTTPPerMinute,
	})
	return func(ctx context.Context, _ *callInfo, req []byte) (any, error) {
		var in abi.HTTPRequest
		if err := decode(req, &in); err != nil {
			return nil, err
		}
		return client.Fetch(ctx, in)
	}
}
