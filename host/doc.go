// Package host is Cortex's WebAssembly plugin runtime. It owns:
//
//   - the manifest: the built-in plugins.toml merged with the user's
//     <plugins_dir>/plugins.toml (same name replaces), plus drop-in .wasm files that describe
//     themselves and get no capability;
//   - compilation, with wazero's on-disk cache so a second start does not recompile, in the
//     background and in parallel (a call waits for its plugin, not for every plugin);
//   - per-version instance pools with a context-aware acquire, retirement after N calls,
//     and discarding of any instance that trapped, timed out or hit its memory limit;
//   - host functions in capability groups (sdk/abi), checked against the plugin's imports
//     before a version may serve, answering with JSON envelopes instead of traps;
//   - limits on memory, time, input and output per plugin, so a broken plugin fails its own
//     call and never the host;
//   - hot reload: a new version is compiled, probed and described first and swapped in
//     atomically; in-flight calls finish on the old version, which closes when its last
//     call returns; a version that fails to load leaves the old one serving.
//
// Built on github.com/extism/go-sdk over github.com/tetratelabs/wazero. Known traps of
// go-sdk v1.7.1 this package designs around: a deadline only stops guest code when the
// runtime config has WithCloseOnContextDone(true); an input or output that does not fit
// the memory limit arrives empty with no error (we check sizes before the call and treat
// an empty result as an error); and an extism Plugin is not safe for concurrent use.
package host
