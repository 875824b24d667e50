//go:build wasip1

package main

import (
	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var wf = &workflow{h: sdkHost{}}

//go:wasmexport describe
func describe() int32 { return sdk.Describe(description) }

//go:wasmexport classify
func classifyExport() int32 { return sdk.HandleNode(wf.step(wf.classify)) }

//go:wasmexport retrieve
func retrieve() int32 { return sdk.HandleNode(wf.step(wf.retrieve)) }

//go:wasmexport fuse
func fuseExport() int32 { return sdk.HandleNode(wf.step(wf.fuse)) }

//go:wasmexport snippet
func snippetExport() int32 { return sdk.HandleNode(wf.step(wf.snippet)) }

func main() {}

// sdkHost is hostAPI over the real host functions.
type sdkHost struct{}

func (sdkHost) KeywordSearch(in abi.SearchInput) (abi.SearchOutput, error) {
	return sdk.KeywordSearch(in)
}

func (sdkHost) VectorSearch(in abi.SearchInput) (abi.SearchOutput, error) {
	return sdk.VectorSearch(in)
}

func (sdkHost) SearchChunks(ids []int64) ([]abi.ChunkText, error) { return sdk.SearchChunks(ids) }

func (sdkHost) ConfigAll() map[string]string { return sdk.ConfigAll() }

func (sdkHost) Log(level, message string, attrs map[string]any) { sdk.Log(level, message, attrs) }
