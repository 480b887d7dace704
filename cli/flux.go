package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gale-stream/gale/flux"
	"github.com/gale-stream/gale/topology"
)

func init() {
	register(command{name: "flux", args: "convert TOPOLOGY.yaml", summary: "print the Gale JSON of a Flux (Storm) YAML topology", run: fluxCmd})
}

// fluxFlags are Flux's substitution options, on every command that reads
// a topology file.
type fluxFlags struct {
	envFilter *bool
	filter    *string
}

func addFluxFlags(fs *flag.FlagSet) *fluxFlags {
	return &fluxFlags{
		envFilter: fs.Bool("env-filter", false, "Flux YAML: replace ${ENV-NAME} with the environment variable NAME"),
		filter:    fs.String("filter", "", "Flux YAML: replace ${name} with the property name of this .properties `FILE`"),
	}
}

// options builds the flux options; shellDir sets the working directory of
// shell components to the YAML file's directory (Storm runs them in the
// topology's resources directory).
func (f *fluxFlags) options(env *Env, path string, shellDir bool) (flux.Options, error) {
	o := flux.Options{LookupEnv: func(k string) (string, bool) {
		v := env.Getenv(k)
		return v, v != ""
	}}
	if f != nil {
		o.EnvFilter = *f.envFilter
		if *f.filter != "" {
			data, err := flux.ReadFile(*f.filter)
			if err != nil {
				return o, fmt.Errorf("--filter: %w", err)
			}
			if o.Properties, err = flux.ParseProperties(data); err != nil {
				return o, fmt.Errorf("--filter %s: %w", *f.filter, err)
			}
		}
	}
	if shellDir {
		abs, err := filepath.Abs(filepath.Dir(path))
		if err != nil {
			return o, err
		}
		o.ShellDir = abs
	}
	return o, nil
}

// loadFlux converts and decodes a Flux file, printing its warnings and
// every error (of the Flux file and of Gale's validation) at once.
func loadFlux(env *Env, path string, data []byte, ff *fluxFlags) (*topology.Topology, bool) {
	opts, err := ff.options(env, path, true)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale: %v\n", err)
		return nil, false
	}
	topo, res, err := flux.Decode(data, path, opts, env.Registry)
	printFluxWarnings(env.Stderr, res)
	if err != nil {
		printFluxErrors(env.Stderr, path, err)
		return nil, false
	}
	return topo, true
}

// readTopologyFile reads a topology file, and converts it to Gale's JSON
// when it is Flux YAML (printing its warnings, or its errors).
func readTopologyFile(env *Env, path string, ff *fluxFlags, shellDir bool) ([]byte, *flux.Result, bool) {
	data, err := readCapped(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale: %v\n", err)
		return nil, nil, false
	}
	if !flux.IsFlux(path, data) {
		return data, nil, true
	}
	opts, err := ff.options(env, path, shellDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale: %v\n", err)
		return nil, nil, false
	}
	res, err := flux.Convert(data, path, opts)
	printFluxWarnings(env.Stderr, res)
	if err != nil {
		printFluxErrors(env.Stderr, path, err)
		return nil, res, false
	}
	return res.JSON, res, true
}

// readCapped reads a topology file of a sane size (a topology is
// kilobytes; this refuses a device or a huge file before reading it all).
func readCapped(path string) ([]byte, error) {
	const maxTopologyFile = 64 << 20
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTopologyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTopologyFile {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxTopologyFile>>20)
	}
	return data, nil
}

func printFluxWarnings(w io.Writer, res *flux.Result) {
	if res == nil {
		return
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}

func printFluxErrors(w io.Writer, path string, err error) {
	var errs *flux.Errors
	if errors.As(err, &errs) {
		n := len(errs.List)
		fmt.Fprintf(w, "%s: invalid Flux topology (%d error%s):\n", path, n, plural(n))
		for _, e := range errs.List {
			fmt.Fprintf(w, "  %s\n", e)
		}
		return
	}
	fmt.Fprintf(w, "%s: invalid Flux topology: %v\n", path, err)
}

// decodeTopology decodes a topology file's JSON, its errors located in
// the Flux file when it was one.
func decodeTopology(env *Env, path string, data []byte, res *flux.Result) (*topology.Topology, bool) {
	topo, err := topology.Decode(data, env.Registry)
	if err != nil {
		if res != nil {
			printFluxErrors(env.Stderr, path, res.MapError(err))
		} else {
			printTopologyErrors(env.Stderr, path, err)
		}
		return nil, false
	}
	return topo, true
}

// locateDetail rewrites a "path: message" error of the converted
// topology (a worker's answer to a submit) to name the Flux file.
func locateDetail(res *flux.Result, detail string) string {
	if res == nil {
		return detail
	}
	path, msg, ok := strings.Cut(detail, ": ")
	if !ok {
		return detail
	}
	file, fp, line, found := res.Locate(path)
	if !found {
		return detail
	}
	e := &flux.Error{File: file, Line: line, Path: fp, Msg: msg}
	return e.Error()
}

func fluxCmd(_ context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] != "convert" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(env.Stdout, "Usage: gale flux convert [flags] TOPOLOGY.yaml\n\nPrint the Gale JSON topology of a Flux (Apache Storm) YAML file.")
			return 0
		}
		fmt.Fprintln(env.Stderr, "Usage: gale flux convert [flags] TOPOLOGY.yaml")
		return 2
	}
	fs := newFlags(env, "flux convert", "TOPOLOGY.yaml", "Print the Gale JSON topology of a Flux (Apache Storm) YAML file, for migrating to it.\nThe JSON is then checked as `gale validate` does; its errors are printed after it.")
	ff := addFluxFlags(fs)
	shellDir := fs.String("shell-dir", "", "set this working directory (\"dir\") on every shell component (Storm: the resources directory)")
	pos, ok := parseArgs(fs, args[1:], 1)
	if !ok {
		return 2
	}
	data, err := readCapped(pos[0])
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale: %v\n", err)
		return 1
	}
	opts, err := ff.options(env, pos[0], false)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale: %v\n", err)
		return 1
	}
	opts.ShellDir = *shellDir
	res, err := flux.Convert(data, pos[0], opts)
	printFluxWarnings(env.Stderr, res)
	if err != nil {
		printFluxErrors(env.Stderr, pos[0], err)
		return 1
	}
	env.Stdout.Write(res.JSON)
	if _, ok := decodeTopology(env, pos[0], res.JSON, res); !ok {
		return 1
	}
	return 0
}
