package main

// scaffolds are the files `cortex plugin new` writes, by kind. Templates use <% %> as
// delimiters (Go source is full of braces) and see .Name, .Kind and .SDK (the Cortex source
// tree the go.mod points at).
var scaffolds = map[string]map[string]string{
	"extractor": {
		"go.mod":       scaffoldGoMod,
		"README.md":    scaffoldReadme,
		"main.go":      extractorMain,
		"main_test.go": extractorTest,
	},
	"workflow": {
		"go.mod":       scaffoldGoMod,
		"README.md":    scaffoldReadme,
		"main.go":      workflowMain,
		"main_test.go": workflowTest,
	},
}

const scaffoldGoMod = `module example.com/<%.Name%>

go 1.26

require github.com/cortexhq/cortex v0.0.0-00010101000000-000000000000

// Cortex is not published as a module: build against the local source tree.
replace github.com/cortexhq/cortex => <%.SDK%>
`

const scaffoldReadme = `# <%.Name%>

A Cortex <%.Kind%> plugin.

    go test ./...            # builds the plugin to Wasm and runs it in a real Cortex host
    cortex plugin build .    # writes <%.Name%>.wasm
    cortex plugin dev .      # rebuilds on every save into ~/.cortex/plugins (hot reload)

To install it, copy <%.Name%>.wasm into ~/.cortex/plugins/. A plugin with no entry in
~/.cortex/plugins/plugins.toml gets no capability; to grant some, add:

    [[plugin]]
    name = "<%.Name%>"
    kind = "<%.Kind%>"
    wasm = "<%.Name%>.wasm"
    capabilities = ["items"]
`

const extractorMain = `//go:build wasip1

// Command <%.Name%> is a Cortex extractor: it turns saved content into clean text.
package main

import (
	"strings"

	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var description = abi.Description{
	Name:        "<%.Name%>",
	Kind:        abi.KindExtractor,
	Version:     "0.1.0",
	Description: "Extracts text from <%.Name%> documents.",
	Exports:     []string{abi.ExportExtract},
	// Which items this extractor handles; it wins over the built-ins by priority.
	Match: &abi.Match{ContentTypes: []string{"text/x-<%.Name%>"}, URLGlobs: []string{"*.<%.Name%>"}, Priority: 10},
}

//go:wasmexport describe
func describe() int32 { return sdk.Describe(description) }

//go:wasmexport extract
func extract() int32 { return sdk.Handle(Extract) }

// Extract returns the content's first line as its title and the rest, trimmed, as text.
func Extract(in abi.ExtractInput) (abi.ExtractOutput, error) {
	text := strings.TrimSpace(strings.ReplaceAll(in.Content, "\r\n", "\n"))
	title := in.Title
	if title == "" {
		title, _, _ = strings.Cut(text, "\n")
	}
	return abi.ExtractOutput{Title: strings.TrimSpace(title), Text: text}, nil
}

func main() {}
`

const extractorTest = `//go:build !wasip1

package main

import (
	"testing"

	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
)

func TestExtract(t *testing.T) {
	p := harness.Load(t, harness.Build(t, "."), harness.Options{})
	out, err := p.Extract(abi.ExtractInput{Content: "Quarterly notes\r\nRevenue grew.\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Title != "Quarterly notes" || out.Text != "Quarterly notes\nRevenue grew." {
		t.Errorf("got title %q text %q", out.Title, out.Text)
	}
}
`

const workflowMain = `//go:build wasip1

// Command <%.Name%> is a Cortex workflow plugin: a graph of nodes, each an export, that
// the host runs with a JSON state passed from node to node.
package main

import (
	"encoding/json"
	"strings"

	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var description = abi.Description{
	Name:     "<%.Name%>",
	Kind:     abi.KindWorkflow,
	Version:  "0.1.0",
	Workflow: "<%.Name%>",
	Exports:  []string{"load", "count"},
	Graph: &abi.Graph{
		Entry: "load",
		Nodes: []abi.Node{{Name: "load", Next: "count"}, {Name: "count"}},
		StateSchemaVersion: 1,
	},
}

// state is what the nodes pass along.
type state struct {
	ItemID string ` + "`json:\"item_id\"`" + `
	Text   string ` + "`json:\"text,omitempty\"`" + `
	Words  int    ` + "`json:\"words,omitempty\"`" + `
}

//go:wasmexport describe
func describe() int32 { return sdk.Describe(description) }

// load reads the item's text (capability items).
//
//go:wasmexport load
func load() int32 {
	return sdk.Handle(func(in abi.NodeInput) (abi.NodeOutput, error) {
		var s state
		if err := json.Unmarshal(in.State, &s); err != nil {
			return abi.NodeOutput{}, err
		}
		items, err := sdk.GetItems([]string{s.ItemID}, true)
		if err != nil {
			return abi.NodeOutput{}, err
		}
		if len(items) == 1 {
			s.Text = items[0].Content
		}
		return output(s)
	})
}

//go:wasmexport count
func count() int32 {
	return sdk.Handle(func(in abi.NodeInput) (abi.NodeOutput, error) {
		var s state
		if err := json.Unmarshal(in.State, &s); err != nil {
			return abi.NodeOutput{}, err
		}
		s.Words = len(strings.Fields(s.Text))
		sdk.Progress("count", 1, "counted")
		return output(s)
	})
}

func output(s state) (abi.NodeOutput, error) {
	raw, err := json.Marshal(s)
	return abi.NodeOutput{State: raw}, err
}

func main() {}
`

const workflowTest = `//go:build !wasip1

package main

import (
	"encoding/json"
	"testing"

	"github.com/cortexhq/cortex/sdk/abi"
	"github.com/cortexhq/cortex/sdk/harness"
	"github.com/cortexhq/cortex/store"
)

func TestNodes(t *testing.T) {
	p := harness.Load(t, harness.Build(t, "."), harness.Options{Capabilities: []string{abi.CapItems}})
	id := p.SeedItem(store.NewItem{Title: "note", Content: "three little words"})

	st, _ := json.Marshal(state{ItemID: id})
	var out abi.NodeOutput
	if err := p.Call("load", abi.NodeInput{Node: "load", Attempt: 1, State: st}, &out); err != nil {
		t.Fatal(err)
	}
	if err := p.Call("count", abi.NodeInput{Node: "count", Attempt: 1, State: out.State}, &out); err != nil {
		t.Fatal(err)
	}
	var got state
	json.Unmarshal(out.State, &got)
	if got.Words != 3 {
		t.Errorf("words = %d, want 3", got.Words)
	}
	if ev := p.Events(); len(ev) != 1 || ev[0].Type != "progress" {
		t.Errorf("events = %+v", ev)
	}
}

// state mirrors the plugin's state (main.go builds only for wasip1).
type state struct {
	ItemID string ` + "`json:\"item_id\"`" + `
	Text   string ` + "`json:\"text,omitempty\"`" + `
	Words  int    ` + "`json:\"words,omitempty\"`" + `
}
`
