//go:build !wasip1

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cortexhq/cortex/sdk/abi"
)

// main runs the extractor outside the sandbox on a page read from stdin: a quick way to see
// what a page turns into. `-json` prints the whole output rather than just the text.
func main() {
	pageURL := flag.String("url", "", "the page's URL, to resolve relative links")
	asJSON := flag.Bool("json", false, "print the whole output as JSON")
	flag.Parse()
	page, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "extract-html: read stdin:", err)
		os.Exit(1)
	}
	out, err := extract(abi.ExtractInput{URL: *pageURL, Content: string(page), ContentType: "text/html"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "extract-html:", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(out)
		return
	}
	fmt.Printf("# %s\n\n%s\n", out.Title, out.Text)
}
