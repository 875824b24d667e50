// Package local is Cortex's offline provider: it needs no network, no model download and
// no configuration, and gives the same output for the same input on every machine. It is
// the default when nothing else is set up, the fallback when a remote provider is down,
// and the provider tests run against.
//
// The embedder hashes word stems and character n-grams into 384 signed buckets with
// sublinear term weights, which captures shared vocabulary and morphology ("runner",
// "running") but not synonyms: it is a strong lexical baseline, not a semantic model.
// The chat model is extractive: it answers with sentences of the grounding documents,
// cited, and never says anything those sentences do not. SplitSentences, Summarize and
// Keywords are the text tools both are built on, exported for reuse.
package local
