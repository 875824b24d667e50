// Command processing is Cortex's built-in processing workflow: the graph the host runs for
// every saved item, fetch → extract → chunk → index → enrich → connect.
//
//   - fetch downloads the item's URL into its content when nothing was saved with it.
//   - extract has the host run the matching extractor and stores the clean text, byline,
//     language and publication date on the item (and the title, unless the user gave one).
//   - chunk cuts the text into overlapping chunks of about chunk_size tokens along its
//     structure: headings, paragraphs, lines, sentences (chunker.go).
//   - index stores the chunks; the host embeds them and replaces any earlier set.
//   - enrich adds a summary and tags from the chat model.
//   - connect runs the connections workflow for the item, when one is installed.
//
// Every node is idempotent (writes replace, never append), since a node may run again
// after a crash. The logic lives in untagged files, tested natively against a fake host;
// main.go (wasip1 only) wires it to the SDK.
package main
