//go:build wasip1

package sdk

import (
	"encoding/json"
	"fmt"

	"github.com/cortexhq/cortex/sdk/abi"
)

// Log writes a message to the host's log, tagged with the plugin's name.
func Log(level, message string, attrs map[string]any) {
	_ = call(hostLog, abi.LogInput{Level: level, Message: message, Attrs: attrs}, nil)
}

// Logf logs a formatted message at info level.
func Logf(format string, args ...any) { Log("info", fmt.Sprintf(format, args...), nil) }

// Emit sends an event to the current run's stream (progress, or anything the front end
// may show).
func Emit(ev abi.Event) error { return call(hostEmit, ev, nil) }

// Progress emits a progress event for step, with progress between 0 and 1.
func Progress(step string, progress float64, message string) error {
	return Emit(abi.Event{Type: "progress", Step: step, Progress: progress, Message: message})
}

// Config returns a config value: the plugin's own from plugins.toml, or a runtime setting
// the host shares (chunk_size, chunk_overlap, fetch_urls).
func Config(key string) (string, bool) {
	var out abi.ConfigOutput
	if err := call(hostConfig, abi.ConfigInput{Key: key}, &out); err != nil {
		return "", false
	}
	return out.Value, out.Found
}

// ConfigAll returns every config value the plugin can read, in one host call.
func ConfigAll() map[string]string {
	var out abi.ConfigOutput
	if err := call(hostConfig, abi.ConfigInput{}, &out); err != nil || out.Values == nil {
		return map[string]string{}
	}
	return out.Values
}

// GetItems returns the items with these IDs (capability items).
func GetItems(ids []string, withContent bool) ([]abi.Item, error) {
	var out abi.ItemsGetOutput
	err := call(hostItemsGet, abi.ItemsGetInput{IDs: ids, WithContent: withContent}, &out)
	return out.Items, err
}

// GetItemsText returns the items with these IDs with their extracted text but not their
// raw content, which can be many times larger (capability items).
func GetItemsText(ids []string) ([]abi.Item, error) {
	var out abi.ItemsGetOutput
	err := call(hostItemsGet, abi.ItemsGetInput{IDs: ids, WithText: true}, &out)
	return out.Items, err
}

// UpdateItem changes an item's derived fields (capability items).
func UpdateItem(u abi.ItemUpdate) error { return call(hostItemsUpdate, u, nil) }

// FetchItem has the host download the item's URL into its content (capability items).
func FetchItem(itemID string) (abi.ItemsFetchOutput, error) {
	var out abi.ItemsFetchOutput
	err := call(hostItemsFetch, abi.ItemsFetchInput{ItemID: itemID}, &out)
	return out, err
}

// WriteChunks replaces an item's chunks; the host embeds and indexes them (capability
// chunks).
func WriteChunks(itemID string, chunks []abi.ChunkInput) (abi.ChunksWriteOutput, error) {
	var out abi.ChunksWriteOutput
	err := call(hostChunksWrite, abi.ChunksWriteInput{ItemID: itemID, Chunks: chunks}, &out)
	return out, err
}

// GetChunks lists an item's stored chunks in order (capability chunks).
func GetChunks(itemID string) ([]abi.Chunk, error) {
	var out abi.ChunksGetOutput
	err := call(hostChunksGet, abi.ChunksGetInput{ItemID: itemID}, &out)
	return out.Chunks, err
}

// KeywordSearch ranks chunks by BM25 for what the user typed (capability search).
func KeywordSearch(in abi.SearchInput) (abi.SearchOutput, error) {
	var out abi.SearchOutput
	err := call(hostSearchKeyword, in, &out)
	return out, err
}

// VectorSearch finds the chunks nearest the query's embedding (capability search). When
// the embedding model is unavailable the error's code is "unavailable".
func VectorSearch(in abi.SearchInput) (abi.SearchOutput, error) {
	var out abi.SearchOutput
	err := call(hostSearchVector, in, &out)
	return out, err
}

// SearchChunks returns the text and item title of chunks (capability search).
func SearchChunks(ids []int64) ([]abi.ChunkText, error) {
	var out abi.SearchChunksOutput
	err := call(hostSearchChunks, abi.SearchChunksInput{ChunkIDs: ids}, &out)
	return out.Chunks, err
}

// Embed returns vectors for texts from the active embedding model (capability embed).
func Embed(texts []string, purpose string) (abi.EmbedOutput, error) {
	var out abi.EmbedOutput
	err := call(hostEmbed, abi.EmbedInput{Texts: texts, Purpose: purpose}, &out)
	return out, err
}

// LLM asks the active chat model (capability llm).
func LLM(in abi.LLMInput) (abi.LLMOutput, error) {
	var out abi.LLMOutput
	err := call(hostLLMChat, in, &out)
	return out, err
}

// Invoke calls another plugin's export with in as JSON input and decodes its output into
// out (capability invoke).
func Invoke(plugin, function string, in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	var res abi.InvokeOutput
	if err := call(hostInvoke, abi.InvokeInput{Plugin: plugin, Function: function, Input: raw}, &res); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res.Output, out)
}

// Extract has the host pick the extractor whose match rules fit and run it (capability
// invoke).
func Extract(in abi.ExtractInput) (abi.ExtractResult, error) {
	var out abi.ExtractResult
	err := call(hostExtract, abi.ExtractRequest{ExtractInput: in}, &out)
	return out, err
}

// ExtractItem runs the matching extractor on a stored item's content without copying the
// content into this plugin (capability invoke).
func ExtractItem(itemID string) (abi.ExtractResult, error) {
	var out abi.ExtractResult
	err := call(hostExtract, abi.ExtractRequest{ItemID: itemID}, &out)
	return out, err
}

// KVGet reads a value from the plugin's private key/value store (capability kv).
func KVGet(key string) ([]byte, bool, error) {
	var out abi.KVOutput
	err := call(hostKVGet, abi.KVInput{Key: key}, &out)
	return out.Value, out.Found, err
}

// KVSet writes a value (capability kv).
func KVSet(key string, value []byte) error {
	return call(hostKVSet, abi.KVInput{Key: key, Value: value}, nil)
}

// KVDelete removes a key (capability kv).
func KVDelete(key string) error { return call(hostKVDelete, abi.KVInput{Key: key}, nil) }

// Fetch makes an HTTP request to one of the plugin's allowed hosts (capability http).
func Fetch(req abi.HTTPRequest) (abi.HTTPResponse, error) {
	var out abi.HTTPResponse
	err := call(hostHTTPFetch, req, &out)
	return out, err
}
