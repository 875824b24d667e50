// Command search is Cortex's built-in search workflow: the graph the host runs, in
// memory, for every search, classify → retrieve → fuse → snippet.
//
//   - classify trims the query and labels it simple (a name, a few keywords, a quoted
//     phrase, an identifier), question or semantic (a description); the label picks the
//     fusion weights.
//   - retrieve asks the host for keyword (BM25) and vector candidates. When one side
//     fails — typically the embedding model is down — the search goes on with the other
//     and says so (degraded, notice) instead of failing.
//   - fuse merges the two ranked lists by weighted reciprocal rank fusion, groups chunks
//     by item and cuts the requested page. There is no score threshold: every candidate
//     either list found is kept, so an exact keyword hit is never dropped for being far
//     from the query's embedding.
//   - snippet fetches the page's best chunks and cuts a ~200-character HTML-safe window
//     around the densest cluster of matched words, marked with <mark>.
//
// A search must answer quickly, so no node is retried: a failure degrades the answer
// where it can and fails the search only when nothing can be shown. The logic lives in
// untagged files, tested natively against a fake host; main.go (wasip1 only) wires it to
// the SDK.
package main
