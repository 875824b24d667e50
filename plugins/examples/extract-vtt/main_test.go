//go:build !wasip1

package main

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
)

// The tests build the plugin to Wasm once and run it in a real Cortex host, exactly as
// `cortex serve` would: go test is all the tooling a plugin needs.

var (
	buildOnce sync.Once
	wasmPath  string
)

func load(t *testing.T) *harness.Plugin {
	t.Helper()
	buildOnce.Do(func() { wasmPath = harness.Build(t, ".") })
	if wasmPath == "" {
		t.Fatal("the plugin failed to build in an earlier test")
	}
	// Name and Kind default to what describe says; giving them spares a compile per test.
	return harness.Load(t, wasmPath, harness.Options{Name: "extract-vtt", Kind: abi.KindExtractor})
}

func TestTranscripts(t *testing.T) {
	p := load(t)
	cases := []struct {
		file, contentType string
		want              string
		language          string
		speakers          []string
	}{
		{
			// Voice tags, a NOTE and a STYLE block, cue identifiers and settings, two
			// voices in one cue and a pause of 3.5 s.
			file: "interview.vtt", contentType: "text/vtt",
			want: "Host: Welcome back to Shorelines. Today I'm talking with a marine biologist who counts starfish for a living. Maya, thanks for coming in.\n\n" +
				"Maya Okafor: Thanks for having me. It's not quite counting starfish, but close. We survey about forty pools & record\n\n" +
				"Host: What do you record?\n\n" +
				"Host: Sorry, go on — I cut you off.\n\n" +
				"Maya Okafor: Every animal bigger than a fingernail.",
			speakers: []string{"Host", "Maya Okafor"},
		},
		{
			// YouTube's automatic captions: every line shown twice, word timings, and
			// 10 ms cues in between.
			file: "youtube.vtt", contentType: "text/vtt",
			want: "so today we're going to look at three pools on the north shore\n\n" +
				"[Music]\n\n" +
				"okay here we are",
			language: "en",
		},
		{
			// CRLF line endings, italics, a colour, a position code, dialogue dashes, a
			// missing blank line between cues, and a pause of 4 s.
			file: "episode.srt", contentType: "application/x-subrip",
			want: "Previously on Harbour Lights... NORTH QUAY, 1987\n\n" +
				"Is the boat ready?\n\n" +
				"Since dawn. Then we leave with the tide.\n\n" +
				"What about the nets & the lines?",
		},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			content, err := os.ReadFile("testdata/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.Extract(abi.ExtractInput{Content: string(content), ContentType: c.contentType})
			if err != nil {
				t.Fatal(err)
			}
			if out.Text != c.want {
				t.Errorf("text:\n%s\n\nwant:\n%s", out.Text, c.want)
			}
			if out.Title != "Transcript" || out.Language != c.language {
				t.Errorf("title %q, language %q", out.Title, out.Language)
			}
			// Metadata comes back through JSON: lists as []any.
			var speakers []string
			if list, ok := out.Metadata["speakers"].([]any); ok {
				for _, s := range list {
					speakers = append(speakers, s.(string))
				}
			}
			if !slices.Equal(speakers, c.speakers) {
				t.Errorf("speakers %v, want %v", speakers, c.speakers)
			}
		})
	}
}

func TestGrowingCaptions(t *testing.T) {
	p := load(t)
	// Painted-on captions add a word at a time; only the full line should remain.
	vtt := "WEBVTT\n\n00:00.000 --> 00:01.000\nso today\n\n00:01.000 --> 00:02.000\nso today we\n\n" +
		"00:02.000 --> 00:03.000\nso today we look\nat tide pools\n"
	out, err := p.Extract(abi.ExtractInput{Content: vtt, ContentType: "text/vtt"})
	if err != nil || out.Text != "so today we look at tide pools" {
		t.Errorf("got %q, %v", out.Text, err)
	}
}

func TestTitleAndEmptyInput(t *testing.T) {
	p := load(t)
	out, err := p.Extract(abi.ExtractInput{Title: "Episode 12", Content: "WEBVTT\n\n00:01.000 --> 00:02.500\nHello.\n"})
	if err != nil || out.Title != "Episode 12" || out.Text != "Hello." {
		t.Errorf("got %+v, %v", out, err)
	}
	// A header and nothing else is a valid, empty file.
	for _, content := range []string{"", "WEBVTT\n"} {
		out, err = p.Extract(abi.ExtractInput{Content: content})
		if err != nil || out.Text != "" || out.Title != "Transcript" {
			t.Errorf("%q: got %+v, %v", content, out, err)
		}
	}
	// Anything else without a single cue is not subtitles.
	if _, err := p.Extract(abi.ExtractInput{Content: "<html><body>404 Not Found</body></html>"}); err == nil {
		t.Error("an HTML page was taken for subtitles")
	}
}

// TestMalformed feeds broken files: each gives a transcript or a plain error, never a
// panic (sdk.Handle would report one as an error starting "panic:").
func TestMalformed(t *testing.T) {
	p := load(t)
	for _, content := range []string{
		"-->",
		"WEBVTT\n\n00:00.000 -->",
		"WEBVTT\n\n00:00.000 --> 00:01.000\n<v",
		"WEBVTT\n\n00:00.000 --> 00:01.000\n<v >&amp\n{\\an8",
		"1\n00:00:01,5 --> 99999999999999999999:00:00,000\n\n2\n",
		"WEBVTT\n\n-1:00.000 --> 00:00:00.000\ntext",
		"\x00\xff\xfe-->\r\r\n",
	} {
		if _, err := p.Extract(abi.ExtractInput{Content: content}); err != nil && strings.Contains(err.Error(), "panic") {
			t.Errorf("%q: %v", content, err)
		}
	}
}

// TestHostPicksIt checks the match rules: the host hands subtitles to this plugin.
func TestHostPicksIt(t *testing.T) {
	p := load(t)
	for _, c := range []struct{ url, contentType string }{
		{"https://example.com/talk.vtt", ""},
		{"https://example.com/movie.srt", ""},
		{"", "text/vtt"},
		{"", "application/x-subrip"},
	} {
		if name, err := p.Host.PickExtractor(c.url, c.contentType); err != nil || name != "extract-vtt" {
			t.Errorf("PickExtractor(%q, %q) = %q, %v", c.url, c.contentType, name, err)
		}
	}
}
