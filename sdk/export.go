//go:build wasip1

package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/extism/go-pdk"

	"github.com/cortexhq/cortex/sdk/abi"
)

// Handle runs fn as the body of an export: it decodes the call's JSON input into In,
// calls fn, and writes Out as JSON output, or the error. Return its result from the
// //go:wasmexport function.
func Handle[In, Out any](fn func(In) (Out, error)) int32 {
	tuneGC.Do(setGC)
	defer yield()
	var in In
	if raw := pdk.Input(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			return fail(fmt.Errorf("decode input: %w", err))
		}
	}
	out, err := protect(func() (Out, error) { return fn(in) })
	if err != nil {
		return fail(err)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return fail(fmt.Errorf("encode output: %w", err))
	}
	pdk.Output(body)
	return 0
}

// HandleNode runs step as a workflow node: the run's state arrives decoded into S and
// leaves encoded, in one JSON pass each way. (Going through abi.NodeInput's raw state
// would decode and encode the state twice; JSON is among the dearest work a Go guest does
// in Wasm.) step returns the node to go to next: "" for the graph's default edge,
// abi.End to finish.
func HandleNode[S any](step func(in abi.NodeInput, state *S) (next string, err error)) int32 {
	tuneGC.Do(setGC)
	defer yield()
	var in struct {
		RunID   string `json:"run_id"`
		Node    string `json:"node"`
		Attempt int    `json:"attempt"`
		State   S      `json:"state"`
	}
	if raw := pdk.Input(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			return fail(fmt.Errorf("decode node input: %w", err))
		}
	}
	next, err := protect(func() (string, error) {
		return step(abi.NodeInput{RunID: in.RunID, Node: in.Node, Attempt: in.Attempt}, &in.State)
	})
	if err != nil {
		return fail(err)
	}
	body, err := json.Marshal(struct {
		State *S     `json:"state"`
		Next  string `json:"next,omitempty"`
	}{&in.State, next})
	if err != nil {
		return fail(fmt.Errorf("encode node output: %w", err))
	}
	pdk.Output(body)
	return 0
}

// HandleRaw is Handle for exports that deal in raw bytes.
func HandleRaw(fn func(input []byte) ([]byte, error)) int32 {
	tuneGC.Do(setGC)
	defer yield()
	out, err := protect(func() ([]byte, error) { return fn(pdk.Input()) })
	if err != nil {
		return fail(err)
	}
	pdk.Output(out)
	return 0
}

// Describe answers the describe export with d, filling in the ABI version.
func Describe(d abi.Description) int32 {
	defer yield()
	d.ABIVersion = abi.Version
	body, err := json.Marshal(d)
	if err != nil {
		return fail(err)
	}
	pdk.Output(body)
	return 0
}

var tuneGC sync.Once

// setGC trades memory the plugin may use for time: garbage collection in Wasm is slow, so
// the collector runs less often (GOGC 400) while a soft limit at three quarters of the
// plugin's memory limit (which the host passes as config) keeps it from running out.
func setGC() {
	raw, ok := pdk.GetConfig(abi.ConfigMemoryLimitMB)
	if !ok {
		return
	}
	mb, err := strconv.Atoi(raw)
	if err != nil || mb <= 0 {
		return
	}
	debug.SetMemoryLimit(int64(mb) << 20 * 3 / 4)
	debug.SetGCPercent(400)
}

// protect turns a panic in fn into an error, so a bug fails one call with a message
// instead of trapping.
func protect[T any](fn func() (T, error)) (out T, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return fn()
}

// fail reports err as the call's error. An *abi.Error (a host function's failure, passed
// on) travels as JSON so the host keeps its code: "unavailable" tells the host to wait and
// retry rather than give up.
func fail(err error) int32 {
	var abiErr *abi.Error
	if errors.As(err, &abiErr) {
		msg := err.Error()
		if err == error(abiErr) {
			msg = abiErr.Message // Error() would repeat the code the envelope carries
		}
		body, _ := json.Marshal(abi.Error{Code: abiErr.Code, Message: msg})
		pdk.SetErrorString(string(body))
		return 1
	}
	pdk.SetError(err)
	return 1
}

// yield lets the Go runtime's background work (garbage collection among it) run before
// control returns to the host. Without it a wasip1 guest stops completing GC cycles after
// about a hundred calls and its heap grows with every call.
func yield() { runtime.Gosched() }
