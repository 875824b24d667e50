//go:build !wasip1

package main

// main exists on the host only so that `go build ./...` and `go vet ./...` link this
// package; the plugin itself is built for wasip1, where main.go provides the real main.
func main() {}
