// Command readability is a wasip1 guest for `compare wasm`: it extracts each page named
// in its arguments from /pages/<name>/source.html and prints the milliseconds each took.
package main

import (
	"bytes"
	"fmt"
	nurl "net/url"
	"os"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	"codeberg.org/readeck/go-readability/v2/render"
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
		a, err := readability.FromReader(bytes.NewReader(src), u)
		if err == nil && a.Node != nil {
			_ = render.InnerText(a.Node)
		}
		fmt.Printf("%.3f\n", float64(time.Since(start).Microseconds())/1000)
	}
}
