// Command extract-html is Cortex's built-in extractor for web pages (text/html and
// application/xhtml+xml). It finds the page's main content with go-readability (a port of
// Firefox's Reader View; README.md says why it was chosen over go-trafilatura) and renders
// that content, not the library's flat text, as Markdown-like text that keeps headings,
// lists, code blocks, tables and quotes, alongside the title, byline, date, language and
// a little metadata.
//
// The plugin itself (main.go) builds only for GOOS=wasip1; everything else is plain Go so
// it is tested natively. Built for the host, `go run .` reads a page on stdin and prints
// what the plugin would return, which is handy when a page extracts badly.
package main
