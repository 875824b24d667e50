//go:build wasip1

package sdk

import (
	"encoding/json"
	"fmt"

	"github.com/extism/go-pdk"

	"github.com/cortexhq/cortex/sdk/abi"
)

// The host functions. Each takes and returns an offset of JSON in Extism memory. The Go
// linker keeps only the imports a plugin calls, so a plugin imports exactly the host
// functions it uses — which is what the host checks against its granted capabilities.

//go:wasmimport extism:host/user cortex_log
func hostLog(uint64) uint64

//go:wasmimport extism:host/user cortex_emit
func hostEmit(uint64) uint64

//go:wasmimport extism:host/user cortex_config
func hostConfig(uint64) uint64

//go:wasmimport extism:host/user cortex_items_get
func hostItemsGet(uint64) uint64

//go:wasmimport extism:host/user cortex_items_update
func hostItemsUpdate(uint64) uint64

//go:wasmimport extism:host/user cortex_items_fetch
func hostItemsFetch(uint64) uint64

//go:wasmimport extism:host/user cortex_chunks_write
func hostChunksWrite(uint64) uint64

//go:wasmimport extism:host/user cortex_chunks_get
func hostChunksGet(uint64) uint64

//go:wasmimport extism:host/user cortex_search_keyword
func hostSearchKeyword(uint64) uint64

//go:wasmimport extism:host/user cortex_search_vector
func hostSearchVector(uint64) uint64

//go:wasmimport extism:host/user cortex_search_chunks
func hostSearchChunks(uint64) uint64

//go:wasmimport extism:host/user cortex_embed
func hostEmbed(uint64) uint64

//go:wasmimport extism:host/user cortex_llm_chat
func hostLLMChat(uint64) uint64

//go:wasmimport extism:host/user cortex_invoke
func hostInvoke(uint64) uint64

//go:wasmimport extism:host/user cortex_extract
func hostExtract(uint64) uint64

//go:wasmimport extism:host/user cortex_kv_get
func hostKVGet(uint64) uint64

//go:wasmimport extism:host/user cortex_kv_set
func hostKVSet(uint64) uint64

//go:wasmimport extism:host/user cortex_kv_delete
func hostKVDelete(uint64) uint64

//go:wasmimport extism:host/user cortex_http_fetch
func hostHTTPFetch(uint64) uint64

// call sends in to a host function and decodes the data of its envelope into out (which
// may be nil). A failed envelope comes back as *abi.Error.
func call(fn func(uint64) uint64, in any, out any) error {
	req, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode host request: %w", err)
	}
	// No Free: each is a call into Extism's kernel (the dearest part of a round trip), and
	// the kernel drops everything a call allocated when the next call starts anyway.
	mem := pdk.AllocateBytes(req)
	res := pdk.FindMemory(fn(mem.Offset()))
	raw := res.ReadBytes()
	var env abi.Result
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("decode host response: %w", err)
	}
	if !env.OK {
		if env.Error == nil {
			return &abi.Error{Code: abi.ErrInternal, Message: "host reported failure without an error"}
		}
		return env.Error
	}
	if out == nil || len(env.Data) == 0 {
		return nil
	}
	return json.Unmarshal(env.Data, out)
}
