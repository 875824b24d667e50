//go:build wasip1

// Command flow is a test workflow: a node that fails a few times before it works, a node
// that routes on the state, a gate that stays shut until a kv key is set, and a self-loop
// for the step cap. Its state schema version comes from -ldflags -X main.schema.
package main

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var schema = "1"

type state struct {
	FailTimes     int      `json:"fail_times"`
	Path          string   `json:"path,omitempty"`
	Loop          bool     `json:"loop,omitempty"`
	Gate          bool     `json:"gate,omitempty"`
	Started       int      `json:"started"`
	FlakyAttempts int      `json:"flaky_attempts"`
	Visited       []string `json:"visited"`
}

//go:wasmexport describe
func describe() int32 {
	v, _ := strconv.Atoi(schema)
	fast := &abi.RetryPolicy{MaxAttempts: 3, InitialBackoffMS: 10, Multiplier: 2}
	return sdk.Describe(abi.Description{
		Name: "flow", Kind: abi.KindWorkflow, Version: "schema-" + schema, Workflow: "flow",
		Exports: []string{"start", "flaky", "route", "a", "b"},
		Graph: &abi.Graph{
			Entry: "start", Durable: true, StateSchemaVersion: v,
			Nodes: []abi.Node{
				{Name: "start", Next: "flaky"},
				{Name: "flaky", Next: "route", Retry: fast},
				{Name: "route", Next: "a"},
				{Name: "a"},
				{Name: "b", Retry: &abi.RetryPolicy{MaxAttempts: 1}},
			},
		},
	})
}

func node(fn func(in abi.NodeInput, s *state) (string, error)) int32 {
	return sdk.Handle(func(in abi.NodeInput) (abi.NodeOutput, error) {
		var s state
		if err := json.Unmarshal(in.State, &s); err != nil {
			return abi.NodeOutput{}, err
		}
		next, err := fn(in, &s)
		if err != nil {
			return abi.NodeOutput{}, err
		}
		raw, _ := json.Marshal(s)
		return abi.NodeOutput{State: raw, Next: next}, nil
	})
}

//go:wasmexport start
func start() int32 {
	return node(func(_ abi.NodeInput, s *state) (string, error) {
		s.Started++
		sdk.Progress("start", 0.2, "started")
		return "", nil
	})
}

//go:wasmexport flaky
func flaky() int32 {
	return node(func(in abi.NodeInput, s *state) (string, error) {
		if in.Attempt <= s.FailTimes {
			return "", errors.New("flaky: not this time")
		}
		s.FlakyAttempts = in.Attempt
		return "", nil
	})
}

//go:wasmexport route
func route() int32 {
	return node(func(_ abi.NodeInput, s *state) (string, error) {
		switch {
		case s.Loop:
			return "route", nil
		case s.Path == "b":
			return "b", nil
		}
		return "", nil
	})
}

//go:wasmexport a
func a() int32 {
	return node(func(_ abi.NodeInput, s *state) (string, error) {
		s.Visited = append(s.Visited, "a")
		return abi.End, nil
	})
}

//go:wasmexport b
func b() int32 {
	return node(func(_ abi.NodeInput, s *state) (string, error) {
		if s.Gate {
			if _, open, err := sdk.KVGet("gate"); err != nil || !open {
				return "", errors.New("gate is shut")
			}
		}
		s.Visited = append(s.Visited, "b")
		return abi.End, nil
	})
}

func main() {}
