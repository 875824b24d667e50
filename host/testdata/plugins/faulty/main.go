//go:build wasip1

// Command faulty is a test plugin with one export per way a plugin can go wrong, plus
// well-behaved ones to measure and reload. Its answer comes from -ldflags -X main.answer.
package main

import (
	"runtime"
	"strings"
	"time"

	"github.com/extism/go-pdk"

	"github.com/cortexhq/cortex/sdk"
	"github.com/cortexhq/cortex/sdk/abi"
)

var answer = "v1"

//go:wasmexport describe
func describe() int32 {
	return sdk.Describe(abi.Description{
		Name: "faulty", Kind: abi.KindWorkflow, Version: answer,
		Exports: []string{"noop", "echo", "answer", "hostcall", "fail", "panic", "trap", "loop", "alloc", "big", "junk", "empty", "churn", "kv", "spin"},
	})
}

type empty struct{}

//go:wasmexport noop
func noop() int32 { return sdk.Handle(func(empty) (empty, error) { return empty{}, nil }) }

//go:wasmexport echo
func echo() int32 { return sdk.HandleRaw(func(in []byte) ([]byte, error) { return in, nil }) }

//go:wasmexport answer
func answerExport() int32 {
	return sdk.Handle(func(empty) (map[string]string, error) { return map[string]string{"answer": answer}, nil })
}

// hostcall makes one host-function round trip.
//
//go:wasmexport hostcall
func hostcall() int32 {
	return sdk.Handle(func(empty) (map[string]any, error) {
		v, ok := sdk.Config("greeting")
		return map[string]any{"greeting": v, "found": ok}, nil
	})
}

//go:wasmexport fail
func fail() int32 {
	return sdk.Handle(func(empty) (empty, error) { return empty{}, errString("this plugin refuses") })
}

type errString string

func (e errString) Error() string { return string(e) }

// panic is recovered by the SDK and becomes an error.
//
//go:wasmexport panic
func panicExport() int32 {
	return sdk.Handle(func(empty) (empty, error) { panic("boom") })
}

// trap panics outside the SDK's protection: the Go runtime aborts the module.
//
//go:wasmexport trap
func trap() int32 {
	var m map[string]int
	m["x"] = 1
	return 0
}

// spin computes for ms milliseconds without calling the host, then answers.
//
//go:wasmexport spin
func spin() int32 {
	return sdk.Handle(func(in struct{ MS int }) (struct{ Spun int }, error) {
		end := time.Now().Add(time.Duration(in.MS) * time.Millisecond)
		n := 0
		for time.Now().Before(end) {
			n++
		}
		return struct{ Spun int }{n}, nil
	})
}

//go:wasmexport loop
func loop() int32 {
	n := 0
	for {
		n++
	}
}

var hoard [][]byte

//go:wasmexport alloc
func alloc() int32 {
	for {
		hoard = append(hoard, make([]byte, 1<<20))
	}
}

// big returns 100 MiB of JSON.
//
//go:wasmexport big
func big() int32 {
	pdk.Output([]byte(`"` + strings.Repeat("x", 100<<20) + `"`))
	return 0
}

//go:wasmexport junk
func junk() int32 {
	pdk.Output([]byte("this is not json {"))
	return 0
}

//go:wasmexport empty
func emptyOut() int32 { return 0 }

// churn allocates garbage and reports the heap the Go runtime holds, for the soak test.
//
//go:wasmexport churn
func churn() int32 {
	return sdk.Handle(func(in struct{ KB int }) (map[string]uint64, error) {
		garbage := make([]byte, in.KB<<10)
		for i := range garbage {
			garbage[i] = byte(i)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return map[string]uint64{"sys": ms.Sys, "heap_sys": ms.HeapSys, "num_gc": uint64(ms.NumGC), "sum": uint64(garbage[len(garbage)-1])}, nil
	})
}

//go:wasmexport kv
func kv() int32 {
	return sdk.Handle(func(in struct{ Key, Value string }) (map[string]any, error) {
		if err := sdk.KVSet(in.Key, []byte(in.Value)); err != nil {
			return nil, err
		}
		v, found, err := sdk.KVGet(in.Key)
		return map[string]any{"value": string(v), "found": found}, err
	})
}

func main() {}
