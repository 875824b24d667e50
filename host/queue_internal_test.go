package host

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cortexhq/cortex/sdk/abi"
)

// The item's error is read by a person: a node's own message, named after the node,
// without the plugin call's wrapping. Anything else keeps its wrapping.
func TestShortError(t *testing.T) {
	pluginErr := fmt.Errorf("plugin %q extract: %w: %w", "processing", ErrPluginFailed,
		&abi.Error{Code: abi.ErrInvalid, Message: "nothing to index: the extractor found no text (extract-html)"})
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&NodeError{Node: "extract", Err: pluginErr}, "extract: nothing to index: the extractor found no text (extract-html)"},
		{&NodeError{Node: "index", Err: ErrTimeout}, `node "index": ` + ErrTimeout.Error()},
		{errors.New("database is locked"), "database is locked"},
	} {
		if got := shortError(tc.err); got != tc.want {
			t.Errorf("shortError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
