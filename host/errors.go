package host

import "errors"

// Sentinel errors callers branch on; the host wraps them with context.
var (
	// ErrNotFound means no plugin has that name.
	ErrNotFound = errors.New("plugin not found")
	// ErrNotReady means the plugin failed to load and has no version serving.
	ErrNotReady = errors.New("plugin not ready")
	// ErrDenied means the plugin imports a host function it was not granted, or called
	// one at runtime without the capability.
	ErrDenied = errors.New("capability not granted")
	// ErrInvalidPlugin means the module is not a valid Cortex plugin (describe missing or
	// inconsistent, wrong ABI version, graph naming missing exports).
	ErrInvalidPlugin = errors.New("invalid plugin")
	// ErrNoExport means the plugin has no export of that name.
	ErrNoExport = errors.New("no such export")
	// ErrLimit means an input, output or rate limit was exceeded.
	ErrLimit = errors.New("limit exceeded")
	// ErrTimeout means the call did not finish within the plugin's timeout.
	ErrTimeout = errors.New("plugin timed out")
	// ErrTrap means the guest trapped (a Go panic that escaped, an out-of-bounds access,
	// running out of memory); the instance was discarded.
	ErrTrap = errors.New("plugin trapped")
	// ErrPluginFailed means the plugin returned an error of its own.
	ErrPluginFailed = errors.New("plugin returned an error")
	// ErrBadOutput means the plugin returned no output or output that is not JSON.
	ErrBadOutput = errors.New("plugin returned bad output")
)
