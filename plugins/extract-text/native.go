//go:build !wasip1

package main

// main exists on the host only so that `go build ./...` links this package; the plugin
// itself is built for wasip1, where main.go provides the real (empty) main.
func main() {}
