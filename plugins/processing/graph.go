package main

import "github.com/cortexhq/cortex/sdk/abi"

// Node names; each is also the export that runs it.
const (
	nodeFetch   = "fetch"
	nodeExtract = "extract"
	nodeChunk   = "chunk"
	nodeIndex   = "index"
	nodeEnrich  = "enrich"
	nodeConnect = "connect"
)

var description = abi.Description{
	Name:        "processing",
	Kind:        abi.KindWorkflow,
	Workflow:    "processing",
	Version:     "1.0.0",
	Description: "Turns a saved item into searchable knowledge: fetch, extract, chunk, embed, summarize and tag, connect.",
	Exports:     []string{nodeFetch, nodeExtract, nodeChunk, nodeIndex, nodeEnrich, nodeConnect},
	Graph: &abi.Graph{
		Entry:              nodeFetch,
		Durable:            true,
		StateSchemaVersion: 1,
		Nodes: []abi.Node{
			// nil Retry is the default: 3 attempts, 0.5 s doubling, jitter — for the nodes
			// that wait on the network or a model.
			{Name: nodeFetch, Next: nodeExtract},
			// Extractors are deterministic, but a trap or a timeout under load may not be.
			{Name: nodeExtract, Next: nodeChunk, Retry: &abi.RetryPolicy{MaxAttempts: 2, InitialBackoffMS: 500, Multiplier: 2, Jitter: true}},
			// Chunking is pure computation: what failed once fails again.
			{Name: nodeChunk, Next: nodeIndex, Retry: &abi.RetryPolicy{MaxAttempts: 1}},
			{Name: nodeIndex, Next: nodeEnrich},
			{Name: nodeEnrich, Next: nodeConnect},
			{Name: nodeConnect},
		},
	},
}
