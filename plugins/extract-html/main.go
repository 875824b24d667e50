//go:build wasip1

package main

import (
	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var description = abi.Description{
	Name:        "extract-html",
	Kind:        abi.KindExtractor,
	Version:     "1.0.0",
	Description: "Web pages: the main content as structured text (headings, lists, code, tables), with title, byline, date and language.",
	Exports:     []string{abi.ExportExtract},
	Match:       &abi.Match{ContentTypes: []string{"text/html", "application/xhtml+xml"}},
}

//go:wasmexport describe
func describe() int32 { return sdk.Describe(description) }

//go:wasmexport extract
func extractExport() int32 { return sdk.Handle(extract) }

func main() {}
