//go:build wasip1

package main

import (
	"fmt"

	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var wf = &workflow{h: sdkHost{}}

//go:wasmexport describe
func describe() int32 { return sdk.Describe(description) }

//go:wasmexport fetch
func fetch() int32 { return sdk.HandleNode(wf.step(wf.fetch)) }

//go:wasmexport extract
func extract() int32 { return sdk.HandleNode(wf.step(wf.extract)) }

//go:wasmexport chunk
func chunk() int32 { return sdk.HandleNode(wf.step(wf.chunk)) }

//go:wasmexport index
func index() int32 { return sdk.HandleNode(wf.step(wf.index)) }

//go:wasmexport enrich
func enrich() int32 { return sdk.HandleNode(wf.step(wf.enrich)) }

//go:wasmexport connect
func connect() int32 { return sdk.HandleNode(wf.step(wf.connect)) }

func main() {}

// sdkHost is hostAPI over the real host functions.
type sdkHost struct{}

func (sdkHost) GetItem(id string, withText bool) (abi.Item, error) {
	get := func(ids []string) ([]abi.Item, error) { return sdk.GetItems(ids, false) }
	if withText {
		get = sdk.GetItemsText
	}
	items, err := get([]string{id})
	if err != nil {
		return abi.Item{}, err
	}
	if len(items) == 0 {
		return abi.Item{}, &abi.Error{Code: abi.ErrNotFound, Message: fmt.Sprintf("item %s does not exist", id)}
	}
	return items[0], nil
}

func (sdkHost) UpdateItem(u abi.ItemUpdate) error { return sdk.UpdateItem(u) }

func (sdkHost) FetchItem(id string) (abi.ItemsFetchOutput, error) { return sdk.FetchItem(id) }

func (sdkHost) ExtractItem(id string) (abi.ExtractResult, error) { return sdk.ExtractItem(id) }

func (sdkHost) WriteChunks(id string, chunks []abi.ChunkInput) (abi.ChunksWriteOutput, error) {
	return sdk.WriteChunks(id, chunks)
}

func (sdkHost) LLM(in abi.LLMInput) (abi.LLMOutput, error) { return sdk.LLM(in) }

func (sdkHost) Invoke(plugin, function string, in any) error {
	return sdk.Invoke(plugin, function, in, nil)
}

func (sdkHost) Config(key string) (string, bool) { return sdk.Config(key) }

// Progress events are for the front end; failing to send one must not fail the node.
func (sdkHost) Progress(step string, fraction float64, message string) {
	_ = sdk.Progress(step, fraction, message)
}

func (sdkHost) Log(level, message string, attrs map[string]any) { sdk.Log(level, message, attrs) }
