// Command trafilatura is a wasip1 guest for `compare wasm`: it extracts each page named
// in its arguments from /pages/<name>/source.html and prints the milliseconds each took.
package main

import (
	"bytes"
	"fmt"
	nurl "net/url"
	"os"
	"time"

	trafilatura "github.com/markusmobius/go-trafilatura"
)

func main() {
	u, _ := nurl.Parse("http://fakehost/test/page.html")
	for _, name := range os.Args[1:] {
		src, err := os.ReadFile("/pages/" + name + "/source.html")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		start := time.Now()
		_, _ = trafilatura.Extract(bytes.NewReader(src), trafilatura.Options{OriginalURL: u, ExcludeComments: true})
		fmt.Printf("%.3f\n", float64(time.Since(start).Microseconds())/1000)
	}
}
