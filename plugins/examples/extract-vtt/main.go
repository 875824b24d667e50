//go:build wasip1

// Command extract-vtt is an example Cortex extractor: it turns WebVTT (.vtt) and SubRip
// (.srt) subtitles into a readable transcript. Timestamps, cue numbers, cue settings and
// styling go; a voice tag such as <v Alice> becomes "Alice: "; the lines of consecutive
// cues are merged into paragraphs, with a new paragraph when the speaker changes or
// nobody speaks for more than two seconds; and the repeated lines of rolling captions
// (YouTube's automatic ones, say) are kept only once.
//
// It is written as a first plugin to read: this file is all the SDK wiring an extractor
// needs, and subtitles.go is ordinary Go. Only the standard library and the Cortex SDK are
// used, which keeps the .wasm small.
package main

import (
	"errors"
	"strings"

	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

// description is what the host learns from the describe export: who we are, which exports
// we have, and which items we want. An extractor is picked by its match rules: a URL glob
// or a content type must match, and among matches the highest priority wins. 10 beats the
// built-in text extractor (priority 0), which would otherwise take text/vtt as plain text.
var description = abi.Description{
	Name:        "extract-vtt",
	Kind:        abi.KindExtractor,
	Version:     "0.1.0",
	Description: "WebVTT and SRT subtitles: a clean transcript with speakers and paragraphs.",
	Exports:     []string{abi.ExportExtract},
	Match: &abi.Match{
		ContentTypes: []string{"text/vtt", "application/x-subrip", "text/srt"},
		URLGlobs:     []string{"*.vtt", "*.srt"},
		Priority:     10,
	},
}

// Every plugin exports describe. sdk.Describe writes the description as the export's JSON
// output (and fills in the ABI version).
//
//go:wasmexport describe
func describe() int32 { return sdk.Describe(description) }

// Every extractor exports extract. sdk.Handle decodes the JSON input into an
// abi.ExtractInput, calls Extract, and encodes its output, or reports its error to the
// host. It also turns a panic into an error instead of crashing the plugin.
//
//go:wasmexport extract
func extract() int32 { return sdk.Handle(Extract) }

// Extract turns subtitles into a transcript.
func Extract(in abi.ExtractInput) (abi.ExtractOutput, error) {
	sub := parseSubtitles(in.Content)
	if len(sub.cues) == 0 && !sub.webVTT && strings.TrimSpace(in.Content) != "" {
		// Neither a cue nor a WEBVTT header: probably an error page saved under a .vtt
		// URL. Failing says so; an empty transcript would hide it.
		return abi.ExtractOutput{}, errors.New("no subtitle cues found: the content is neither WebVTT nor SRT")
	}
	paragraphs, speakers := transcript(sub.cues)

	title := strings.TrimSpace(in.Title)
	if title == "" {
		title = "Transcript"
	}
	meta := map[string]any{"cues": len(sub.cues)}
	if len(sub.cues) > 0 {
		meta["duration_seconds"] = sub.cues[len(sub.cues)-1].endMS / 1000
	}
	if len(speakers) > 0 {
		meta["speakers"] = speakers
	}
	return abi.ExtractOutput{
		Title:    title,
		Text:     strings.Join(paragraphs, "\n\n"),
		Language: sub.language,
		Metadata: meta,
	}, nil
}

// main is never called: the host calls the exports above. A Go program still needs one.
func main() {}
