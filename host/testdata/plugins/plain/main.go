//go:build wasip1

// Command plain is a test extractor that needs no capability: it upper-cases text.
package main

import (
	"strings"

	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

//go:wasmexport describe
func describe() int32 {
	return sdk.Describe(abi.Description{
		Name: "plain-upper", Kind: abi.KindExtractor, Version: "0.1.0",
		Exports: []string{abi.ExportExtract},
		Match:   &abi.Match{ContentTypes: []string{"text/x-shout"}, Priority: 5},
	})
}

//go:wasmexport extract
func extract() int32 {
	return sdk.Handle(func(in abi.ExtractInput) (abi.ExtractOutput, error) {
		return abi.ExtractOutput{Title: in.Title, Text: strings.ToUpper(in.Content)}, nil
	})
}

func main() {}
