// Command cortex is the Cortex backend: `cortex serve` (the default) runs the sidecar the
// desktop app talks to; other subcommands are tools around it.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: cortex [command] [flags]

commands:
  serve     run the backend on 127.0.0.1:8742 (the default command)
  plugin    new, build, test and develop plugins (cortex plugin -h)
  eval      measure retrieval quality on a labelled collection (nDCG@10, MRR@10, recall@100)
  bench     measure throughput and latency against a throw-away server
  version   print the version

Run "cortex <command> -h" for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "serve":
		err = serveCommand(ctx, args, stdin, stdout, stderr)
	case "plugin":
		err = pluginCommand(ctx, args, stdout, stderr)
	case "eval":
		err = evalCommand(ctx, args, stdout, stderr)
	case "bench":
		err = benchCommand(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "cortex: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "cortex %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
