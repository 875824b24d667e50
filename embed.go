// Package cortex holds what the release binary embeds: the default plugins.toml and the
// built-in plugin modules under plugins/dist (built by `make plugins`).
package cortex

import "embed"

// Builtin is the built-in plugin set: plugins.toml at its root, modules in plugins/dist.
//
//go:embed plugins.toml plugins/dist
var Builtin embed.FS
