// Package sdk is what Cortex plugin authors import: typed Go functions for every host
// function, and helpers that turn an ordinary Go function into a plugin export in one
// line. It builds only for GOOS=wasip1 (it sits on github.com/extism/go-pdk, which uses
// //go:wasmimport); the JSON types it speaks are in sdk/abi, and sdk/harness runs a plugin
// in a real host from `go test`.
//
// A minimal extractor:
//
//	//go:build wasip1
//
//	package main
//
//	import (
//		"github.com/cortexhq/cortex/sdk"
//		"github.com/cortexhq/cortex/sdk/abi"
//	)
//
//	var description = abi.Description{
//		Name: "extract-shout", Kind: abi.KindExtractor, Version: "0.1.0",
//		Exports: []string{abi.ExportExtract},
//		Match:   &abi.Match{ContentTypes: []string{"text/x-shout"}},
//	}
//
//	//go:wasmexport describe
//	func describe() int32 { return sdk.Describe(description) }
//
//	//go:wasmexport extract
//	func extract() int32 { return sdk.Handle(shout) }
//
//	func shout(in abi.ExtractInput) (abi.ExtractOutput, error) {
//		return abi.ExtractOutput{Title: in.Title, Text: strings.ToUpper(in.Content)}, nil
//	}
//
//	func main() {}
//
// Build it with `cortex plugin build <dir>` (or GOOS=wasip1 GOARCH=wasm go build
// -buildmode=c-shared). Handle and Describe recover panics into errors and yield to the Go
// scheduler before returning: a standard-Go wasip1 guest whose exports return without
// yielding stops finishing garbage collections and grows until it crashes.
//
// An export's error reaches the host with a code when it is (or wraps) an *abi.Error;
// abi.Errorf makes one that reads as its message alone. A workflow node that fails with
// invalid, not_found or denied is not retried; unavailable makes the run wait and retry.
package sdk
