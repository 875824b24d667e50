package host

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cortexhq/cortex/sdk/abi"
)

// A panic in a host function is the host's bug: it must come back to the plugin as an
// internal error for that call, not trap the guest as if the plugin had failed.
func TestHostFunctionPanicIsAnInternalError(t *testing.T) {
	h := &Host{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ci := &callInfo{v: &version{spec: Spec{Name: "probe"}}}
	data, err := h.callHostFn(context.Background(), "cortex_llm", ci, []byte(`{}`),
		func(context.Context, *callInfo, []byte) (any, error) {
			var s []int
			return s[3], nil
		})
	if err == nil || data != nil {
		t.Fatalf("callHostFn = %v, %v; want an error", data, err)
	}
	var res abi.Result
	if err := json.Unmarshal(envelope(data, err), &res); err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Error == nil || res.Error.Code != abi.ErrInternal || !strings.Contains(res.Error.Message, "cortex_llm") {
		t.Fatalf("envelope = %+v; want an internal error naming the function", res)
	}
}
