//go:build wasip1

// Command nettest is a test plugin that fetches the URL it is given through the host.
package main

import (
	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

//go:wasmexport describe
func describe() int32 {
	return sdk.Describe(abi.Description{Name: "nettest", Kind: abi.KindWorkflow, Version: "1", Exports: []string{"fetch"}})
}

//go:wasmexport fetch
func fetch() int32 {
	return sdk.Handle(func(in struct{ URL string }) (map[string]any, error) {
		res, err := sdk.Fetch(abi.HTTPRequest{URL: in.URL})
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": res.Status, "body": string(res.Body), "final_url": res.FinalURL}, nil
	})
}

func main() {}
