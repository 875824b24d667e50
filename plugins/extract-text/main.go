//go:build wasip1

// Command extract-text is Cortex's built-in extractor for plain text and Markdown. It turns
// a document into clean, searchable text that still reads like Markdown: headings, lists,
// code blocks and tables are kept, hard-wrapped paragraphs become one line each, link and
// image syntax gives way to the words a reader sees, and YAML front matter becomes
// metadata. Plain text only has its whitespace and paragraphs tidied.
//
// The logic lives in untagged files so it can be unit- and fuzz-tested natively; this file
// only wires it to the SDK.
package main

import (
	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var description = abi.Description{
	Name:        "extract-text",
	Kind:        abi.KindExtractor,
	Version:     "1.0.0",
	Description: "Plain text and Markdown: title from the first heading, clean paragraphs.",
	Exports:     []string{abi.ExportExtract},
	Match: &abi.Match{
		ContentTypes: []string{"text/plain", "text/markdown", "text/x-markdown"},
		URLGlobs:     []string{"*.md", "*.markdown", "*.txt"},
		Priority:     0,
	},
}

//go:wasmexport describe
func describe() int32 { return sdk.Describe(description) }

//go:wasmexport extract
func extract() int32 {
	return sdk.Handle(func(in abi.ExtractInput) (abi.ExtractOutput, error) {
		return Extract(in), nil
	})
}

func main() {}
