// Package cli is the gale command line. A program that embeds Gale with
// its own component types (see examples/custom-bolt) registers them in
// registry.Default and calls Main, getting every gale command with those
// types and every built-in one (package registry/all):
//
//	func main() {
//		registry.MustRegister(myBoltType)
//		cli.Main()
//	}
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/registry/all"
)

// Env is what a command runs with: its streams and the registry of types.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	// Registry has the component types; nil means every built-in type
	// (registry/all) and those registered in registry.Default.
	Registry *registry.Registry
	// Getenv reads environment variables (os.Getenv by default).
	Getenv func(string) string
}

type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) int
}

var commands []command

func register(c command) { commands = append(commands, c) }

// Main runs the gale command line on os.Args with the built-in types and
// those of registry.Default, and exits. It sets the garbage collector for throughput (local.TuneGC)
// unless GOGC is set. The first SIGINT or SIGTERM cancels the command's context (a run
// drains its in-flight tuples); a second one exits at once.
func Main() {
	local.TuneGC()
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(os.Stderr, "\ngale: stopping (draining in-flight tuples; press Ctrl-C again to exit now)")
				cancel()
				continue
			}
			fmt.Fprintln(os.Stderr, "gale: exiting now")
			os.Exit(130)
		}
	}()
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Getenv: os.Getenv}
	stopProfile := StartCPUProfile(os.Getenv("GALE_CPUPROFILE"))
	code := Run(ctx, env, os.Args[1:])
	cancel()
	stopProfile()
	os.Exit(code)
}

// StartCPUProfile writes a CPU profile (go tool pprof) of the whole
// command to path, for benchmarks of the gale binary; "" does nothing. The
// profile is complete when the command ends by itself or on a first
// Ctrl-C/SIGTERM.
func StartCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gale: GALE_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "gale: GALE_CPUPROFILE: %v\n", err)
		}
	}
}

// Run runs one gale command and returns its exit code: 0 on success, 1 on
// failure, 2 on a usage error.
func Run(ctx context.Context, env *Env, args []string) int {
	if env.Registry == nil {
		env.Registry = registry.Default.Clone()
		if err := all.Register(env.Registry); err != nil {
			fmt.Fprintf(env.Stderr, "gale: a type registered in registry.Default clashes with a built-in one: %v\n", err)
			return 1
		}
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 {
			return Run(ctx, env, []string{args[1], "--help"})
		}
		usage(env.Stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "gale: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `gale - a Storm-style stream topology engine

Usage:
  gale <command> [flags] [arguments]

Commands:
`)
	cs := append([]command(nil), commands...)
	sort.SliceStable(cs, func(i, j int) bool { return order(cs[i].name) < order(cs[j].name) })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'gale <command> --help' for the flags of a command.

Examples:
  gale run examples/wordcount.json --duration 10s
  gale validate my-topology.json
  gale types
`)
}

var cmdOrder = []string{"run", "validate", "types", "worker", "submit", "list", "describe", "kill",
	"activate", "deactivate", "rebalance", "autoscale", "members", "verify", "decrypt", "bench", "version"}

func order(name string) int {
	for i, n := range cmdOrder {
		if n == name {
			return i
		}
	}
	return len(cmdOrder)
}
