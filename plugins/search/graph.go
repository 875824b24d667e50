package main

import "github.com/cortexhq/cortex/sdk/abi"

// Node names; each is also the export that runs it.
const (
	nodeClassify = "classify"
	nodeRetrieve = "retrieve"
	nodeFuse     = "fuse"
	nodeSnippet  = "snippet"
)

// noRetry is every node's policy: a user is waiting, and each node already degrades on
// the failures a retry could help with (a model that is down stays down for a while).
var noRetry = &abi.RetryPolicy{MaxAttempts: 1}

var description = abi.Description{
	Name:        "search",
	Kind:        abi.KindWorkflow,
	Workflow:    "search",
	Version:     "1.0.0",
	Description: "Hybrid search: keyword and vector candidates fused by weighted reciprocal rank, one result per item with a highlighted snippet.",
	Exports:     []string{nodeClassify, nodeRetrieve, nodeFuse, nodeSnippet},
	Graph: &abi.Graph{
		Entry: nodeClassify,
		// Interactive: the state stays in memory; a search that dies is simply asked again.
		Durable:            false,
		StateSchemaVersion: 1,
		Nodes: []abi.Node{
			{Name: nodeClassify, Next: nodeRetrieve, Retry: noRetry},
			{Name: nodeRetrieve, Next: nodeFuse, Retry: noRetry},
			{Name: nodeFuse, Next: nodeSnippet, Retry: noRetry},
			{Name: nodeSnippet, Retry: noRetry},
		},
	},
}
