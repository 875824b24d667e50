// Package abi is the contract between the Cortex host and its WebAssembly plugins: the
// names of the host functions and the capability each belongs to, the exports a plugin
// provides, and every JSON payload that crosses the boundary. Host and guests both import
// it; it depends on nothing but the standard library, so it never pulls cgo or SQLite into
// a guest.
//
// # Calling convention
//
// Plugins follow the Extism ABI. Every export takes JSON input and produces JSON output.
// Every host function lives in the Extism user namespace (HostNamespace), takes one
// argument — the offset of a JSON request in Extism memory — and returns the offset of a
// JSON Result envelope: {"ok":true,"data":…} or {"ok":false,"error":{"code","message"}}.
// Host functions never trap for an ordinary failure; a trap means the plugin broke the
// ABI (an unreadable offset, for example).
package abi

import (
	"encoding/json"
	"fmt"
)

// Version is the ABI version. A plugin's Description states the version it was built
// against; the host refuses plugins built for a version it does not speak.
const Version = 1

// HostNamespace is the Wasm import module of every Cortex host function.
const HostNamespace = "extism:host/user"

// Plugin kinds.
const (
	// KindWorkflow plugins implement one workflow (processing, search, chat, connections,
	// digest) as a graph of exported nodes. One plugin per workflow name is active.
	KindWorkflow = "workflow"
	// KindExtractor plugins turn saved content into clean text. Many may be installed; the
	// host picks one per item by match rules.
	KindExtractor = "extractor"
)

// Exports every plugin or every plugin of a kind provides.
const (
	// ExportDescribe returns the plugin's Description. Every plugin exports it.
	ExportDescribe = "describe"
	// ExportExtract turns ExtractInput into ExtractOutput. Every extractor exports it.
	ExportExtract = "extract"
)

// Capabilities group host functions. A plugin is granted capabilities in plugins.toml and
// may import only the host functions of the groups it was granted (plus the ones every
// plugin gets: log, emit, config).
const (
	CapItems  = "items"
	CapChunks = "chunks"
	CapSearch = "search"
	CapEmbed  = "embed"
	CapLLM    = "llm"
	CapInvoke = "invoke"
	CapKV     = "kv"
	CapHTTP   = "http"
)

// Capabilities lists every capability group.
var Capabilities = []string{CapItems, CapChunks, CapSearch, CapEmbed, CapLLM, CapInvoke, CapKV, CapHTTP}

// Host function names.
const (
	FnLog    = "cortex_log"
	FnEmit   = "cortex_emit"
	FnConfig = "cortex_config"

	FnItemsGet    = "cortex_items_get"
	FnItemsUpdate = "cortex_items_update"
	FnItemsFetch  = "cortex_items_fetch"

	FnChunksWrite = "cortex_chunks_write"
	FnChunksGet   = "cortex_chunks_get"

	FnSearchKeyword = "cortex_search_keyword"
	FnSearchVector  = "cortex_search_vector"
	FnSearchChunks  = "cortex_search_chunks"

	FnEmbed = "cortex_embed"

	FnLLMChat = "cortex_llm_chat"

	FnInvoke  = "cortex_invoke"
	FnExtract = "cortex_extract"

	FnKVGet    = "cortex_kv_get"
	FnKVSet    = "cortex_kv_set"
	FnKVDelete = "cortex_kv_delete"

	FnHTTPFetch = "cortex_http_fetch"
)

// HostFunctions maps every host function to the capability that grants it; "" means every
// plugin may import it.
var HostFunctions = map[string]string{
	FnLog:    "",
	FnEmit:   "",
	FnConfig: "",

	FnItemsGet:    CapItems,
	FnItemsUpdate: CapItems,
	FnItemsFetch:  CapItems,

	FnChunksWrite: CapChunks,
	FnChunksGet:   CapChunks,

	FnSearchKeyword: CapSearch,
	FnSearchVector:  CapSearch,
	FnSearchChunks:  CapSearch,

	FnEmbed: CapEmbed,

	FnLLMChat: CapLLM,

	FnInvoke:  CapInvoke,
	FnExtract: CapInvoke,

	FnKVGet:    CapKV,
	FnKVSet:    CapKV,
	FnKVDelete: CapKV,

	FnHTTPFetch: CapHTTP,
}

// ConfigMemoryLimitMB is the Extism config key in which the host tells every plugin its
// memory limit, so a guest runtime can size its garbage collection to it.
const ConfigMemoryLimitMB = "cortex.memory_limit_mb"

// Result is the envelope every host function answers with.
type Result struct {
	OK    bool            `json:"ok"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *Error          `json:"error,omitempty"`
}

// Error is a failure reported by a host function.
type Error struct {
	// Code is one of the Err* codes.
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns a plugin's own failure with an error code, so the host (and the workflow
// engine deciding whether a retry can help) sees the code: invalid, not_found and denied
// are permanent, unavailable means wait and retry. It reads as its message alone, and
// errors.As finds it as an *Error, the form the SDK sends it to the host in.
func Errorf(code, format string, args ...any) error {
	return &codedError{code: code, msg: fmt.Sprintf(format, args...)}
}

type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

func (e *codedError) As(target any) bool {
	if t, ok := target.(**Error); ok {
		*t = &Error{Code: e.code, Message: e.msg}
		return true
	}
	return false
}

// Error codes a host function may answer with.
const (
	ErrInvalid      = "invalid"       // the request is malformed or out of range
	ErrNotFound     = "not_found"     // an ID names nothing
	ErrDenied       = "denied"        // the capability or host is not granted
	ErrUnavailable  = "unavailable"   // a provider is down; retrying later may work
	ErrLimit        = "limit"         // a size, rate or time limit was hit
	ErrInternal     = "internal"      // the host failed; see its log
	ErrPluginFailed = "plugin_failed" // an invoked plugin failed
)

// Description is what the describe export returns.
type Description struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Version     string `json:"version"`
	ABIVersion  int    `json:"abi_version"`
	Description string `json:"description,omitempty"`
	// Exports lists the plugin's exported functions besides describe.
	Exports []string `json:"exports"`
	// Workflow names the workflow a workflow plugin implements ("processing", "search", …).
	Workflow string `json:"workflow,omitempty"`
	// Graph is the workflow's graph; only for workflow plugins.
	Graph *Graph `json:"graph,omitempty"`
	// Match holds an extractor's default match rules; plugins.toml may override them.
	Match *Match `json:"match,omitempty"`
}

// Match rules choose an extractor for an item. An extractor matches when a URL glob
// matches the item's URL or a content type matches its content type; among matches the
// highest priority wins.
type Match struct {
	URLGlobs     []string `json:"url_globs,omitempty" toml:"url_globs"`
	ContentTypes []string `json:"content_types,omitempty" toml:"content_types"`
	Priority     int      `json:"priority,omitempty" toml:"priority"`
}

// Graph is a workflow: nodes (each an export), the edges between them, and the node to
// start at. A node's result may name the next node, overriding its default edge.
type Graph struct {
	Entry string `json:"entry"`
	Nodes []Node `json:"nodes"`
	// StateSchemaVersion changes when the state a node reads or writes changes shape; a
	// checkpoint resumes on a new plugin version only when this is unchanged.
	StateSchemaVersion int `json:"state_schema_version"`
	// Durable workflows checkpoint state after every node in SQLite.
	Durable bool `json:"durable,omitempty"`
}

// Node is one step of a workflow graph.
type Node struct {
	Name string `json:"name"`
	// Export is the plugin function that runs the node; defaults to Name.
	Export string `json:"export,omitempty"`
	// Next is the default next node; "" ends the run.
	Next string `json:"next,omitempty"`
	// Retry overrides the default retry policy (3 attempts, 0.5 s doubling, jitter).
	Retry *RetryPolicy `json:"retry,omitempty"`
	// TimeoutMS bounds one attempt; 0 means the plugin's call timeout.
	TimeoutMS int `json:"timeout_ms,omitempty"`
}

// RetryPolicy says how often and how soon a failed node runs again.
type RetryPolicy struct {
	MaxAttempts      int     `json:"max_attempts"`
	InitialBackoffMS int     `json:"initial_backoff_ms"`
	Multiplier       float64 `json:"multiplier,omitempty"`
	Jitter           bool    `json:"jitter,omitempty"`
}

// NodeInput is what a workflow node export receives.
type NodeInput struct {
	RunID string `json:"run_id"`
	Node  string `json:"node"`
	// Attempt counts from 1.
	Attempt int             `json:"attempt"`
	State   json.RawMessage `json:"state"`
}

// NodeOutput is what a workflow node export returns: the new state, and optionally the
// node to go to next ("" follows the default edge; End finishes the run).
type NodeOutput struct {
	State json.RawMessage `json:"state"`
	Next  string          `json:"next,omitempty"`
}

// End, as NodeOutput.Next, finishes the run after this node.
const End = "__end__"
