package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gale-stream/gale/cluster"
	"github.com/gale-stream/gale/flux"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry/all"
	"github.com/gale-stream/gale/topology"
)

func init() {
	register(command{name: "run", args: "TOPOLOGY.json|.yaml", summary: "run a topology locally, in this process", run: runCmd})
	register(command{name: "validate", args: "TOPOLOGY.json|.yaml", summary: "check a topology file (Gale JSON or Flux YAML) and print every error", run: validateCmd})
	register(command{name: "types", summary: "list the spout and bolt types compiled into this binary", run: typesCmd})
	register(command{name: "version", summary: "print the version", run: versionCmd})
}

// Version is the gale version, set at build time with
// -ldflags "-X github.com/gale-stream/gale/cli.Version=v1.2.3".
var Version = "dev"

func newFlags(env *Env, name, args, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gale %s [flags] %s\n\n%s\n", name, args, summary)
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before or after the positional
// arguments (`gale run x.json --duration 5s` works), and checks their count.
func parseArgs(fs *flag.FlagSet, args []string, want int) ([]string, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if want >= 0 && len(pos) != want {
		fmt.Fprintf(fs.Output(), "gale %s: want %d argument(s), got %d\n", fs.Name(), want, len(pos))
		fs.Usage()
		return nil, false
	}
	return pos, true
}

// loadTopology reads and validates a topology file, Gale JSON or Flux
// YAML; errors are printed. ff may be nil (no Flux substitution).
func loadTopology(env *Env, path string, ff *fluxFlags) (*topology.Topology, bool) {
	data, err := readCapped(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale: %v\n", err)
		return nil, false
	}
	if flux.IsFlux(path, data) {
		return loadFlux(env, path, data, ff)
	}
	topo, err := topology.Decode(data, env.Registry)
	if err != nil {
		printTopologyErrors(env.Stderr, path, err)
		return nil, false
	}
	return topo, true
}

func printTopologyErrors(w io.Writer, path string, err error) {
	var errs *topology.Errors
	if errors.As(err, &errs) {
		n := len(errs.List)
		fmt.Fprintf(w, "%s: invalid topology (%d error%s):\n", path, n, plural(n))
		for _, e := range errs.List {
			fmt.Fprintf(w, "  %s\n", e)
			var unknown *topology.UnknownTypeError
			if errors.As(e, &unknown) {
				if why, ok := all.Missing()[unknown.Name]; ok {
					fmt.Fprintf(w, "    (%s)\n", why)
				}
			}
		}
		return
	}
	fmt.Fprintf(w, "%s: invalid topology: %v\n", path, err)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func validateCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "validate", "TOPOLOGY.json", "Check a topology file (Gale JSON, or Flux YAML: .yaml/.yml) against the types compiled into this binary and print every error, each with its path.")
	ff := addFluxFlags(fs)
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	topo, ok := loadTopology(env, pos[0], ff)
	if !ok {
		return 1
	}
	tasks := 0
	for _, c := range allOf(topo) {
		tasks += c.Parallelism
	}
	fmt.Fprintf(env.Stdout, "%s: ok: topology %q, %d spout(s), %d bolt(s), %d task(s), %d acker(s)\n",
		pos[0], topo.Name, len(topo.Spouts), len(topo.Bolts), tasks, topo.Settings.Ackers)
	for _, n := range topo.Notes {
		fmt.Fprintf(env.Stdout, "  note: %s\n", n)
	}
	return 0
}

func allOf(t *topology.Topology) []*topology.Component {
	return append(append([]*topology.Component(nil), t.Spouts...), t.Bolts...)
}

func typesCmd(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "types", "", "List the spout and bolt types compiled into this binary.")
	if _, ok := parseArgs(fs, args, 0); !ok {
		return 2
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, kind := range []topology.Kind{topology.KindSpout, topology.KindBolt} {
		fmt.Fprintf(tw, "%sS\n", strings.ToUpper(kind.String()))
		for _, name := range env.Registry.TypeNames(kind) {
			ct, _ := env.Registry.ComponentType(kind, name)
			fmt.Fprintf(tw, "  %s\t%s\n", name, ct.Doc)
		}
	}
	tw.Flush()
	return 0
}

func versionCmd(_ context.Context, env *Env, _ []string) int {
	fmt.Fprintf(env.Stdout, "gale %s\n", Version)
	return 0
}

func runCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "run", "TOPOLOGY.json", "Run a topology in this process until its spouts finish, the duration ends, or Ctrl-C\n(the first Ctrl-C drains in-flight tuples; a second exits at once).")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until the spouts finish or Ctrl-C)")
	quiet := fs.Bool("quiet", false, "print no progress line")
	every := fs.Duration("progress", time.Second, "interval of the progress line")
	asJSON := fs.Bool("json", false, "print the final summary as JSON")
	drain := fs.Duration("drain-timeout", 30*time.Second, "how long to wait for in-flight tuples when stopping")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	uiAddr := fs.String("ui", "", "serve the monitor UI, the JSON API and /metrics on HOST:PORT while the topology runs (and after, until Ctrl-C)")
	sec := addAPISecurityFlags(fs)
	ff := addFluxFlags(fs)
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(env.Stderr, "gale run: --log-level: %v\n", err)
		return 2
	}
	topo, ok := loadTopology(env, pos[0], ff)
	if !ok {
		return 1
	}
	for _, n := range topo.Notes {
		fmt.Fprintf(env.Stderr, "gale run: note: %s\n", n)
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	rt, err := local.New(topo, local.Options{Logger: logger, DrainTimeout: *drain})
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale run: %v\n", err)
		return 1
	}
	outer := ctx // Ctrl-C
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	var mon *cluster.LocalMonitor
	if *uiAddr != "" {
		apiSec, err := sec.get(env, func(msg string) { fmt.Fprintf(env.Stderr, "gale run: warning: %s\n", msg) })
		if err != nil {
			fmt.Fprintf(env.Stderr, "gale run: %v\n", err)
			return 2
		}
		mon, err = cluster.ServeLocal(cluster.LocalConfig{Addr: *uiAddr, API: apiSec, Topology: topo, Runtime: rt,
			Version: Version, Stop: stop, Logger: logger})
		if err != nil {
			fmt.Fprintf(env.Stderr, "gale run: --ui %s: %v\n", *uiAddr, err)
			return 1
		}
		defer mon.Close()
		fmt.Fprintf(env.Stderr, "gale run: monitor UI at http://%s/ (metrics at /metrics)\n", mon.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()

	var prog *progress
	if !*quiet {
		prog = newProgress(env.Stderr, rt)
	}
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if prog != nil {
				prog.print()
			}
			continue
		case err = <-done:
		}
		break
	}
	if prog != nil {
		prog.finish()
	}
	if mon != nil {
		mon.Finished()
	}
	st := rt.Stats()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	} else {
		printSummary(env.Stdout, &st)
	}
	if mon != nil && outer.Err() == nil {
		fmt.Fprintf(env.Stderr, "gale run: the run is over; the monitor UI stays at http://%s/ until Ctrl-C\n", mon.Addr())
		<-outer.Done()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale run: %v\n", err)
		return 1
	}
	if stopped := stoppedPartitions(&st); len(stopped) > 0 {
		// the spouts finished, but not by reading everything
		for _, s := range stopped {
			fmt.Fprintf(env.Stderr, "gale run: %s\n", s)
		}
		return 1
	}
	return 0
}

// stoppedPartitions names the Kafka partitions a spout stopped emitting
// for (fenced, ledger gone, records lost with on_data_loss "fail"), and why.
func stoppedPartitions(st *local.Stats) []string {
	var out []string
	for _, ts := range st.Tasks {
		if ts.Status == nil {
			continue
		}
		for _, p := range ts.Status.Partitions {
			if p.Stopped != "" {
				out = append(out, fmt.Sprintf("%s: partition %s/%d stopped: %s", ts.Component, p.Topic, p.Partition, p.Stopped))
			}
		}
	}
	return out
}

// progress prints a live line of rates while a topology runs.
type progress struct {
	line  *liveLine
	rt    *local.Runtime
	last  local.Stats
	lastT time.Time
	start time.Time
}

func newProgress(w io.Writer, rt *local.Runtime) *progress {
	now := time.Now()
	return &progress{line: newLiveLine(w), rt: rt, lastT: now, start: now}
}

// liveLine shows a status line: on a terminal it is rewritten in place
// (carriage return, padded over the longer line before it), elsewhere each
// one is printed on a line of its own. Its methods may be called
// concurrently.
type liveLine struct {
	mu    sync.Mutex // guards the fields below
	w     io.Writer
	tty   bool
	width int // of the line on screen, 0 when there is none
}

func newLiveLine(w io.Writer) *liveLine { return &liveLine{w: w, tty: isTerminal(w)} }

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// show prints line, in place of the last one on a terminal.
func (l *liveLine) show(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.tty {
		fmt.Fprintln(l.w, line)
		return
	}
	pad := ""
	if n := l.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(l.w, "\r%s%s", line, pad)
	l.width = max(len(line), 1)
}

// println prints a message of its own: on a terminal, over the live line,
// which the next show prints again below it.
func (l *liveLine) println(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty && l.width > 0 {
		fmt.Fprintf(l.w, "\r%s\r", strings.Repeat(" ", l.width))
		l.width = 0
	}
	fmt.Fprintln(l.w, msg)
}

// end leaves the last line shown on the screen (a newline on a terminal).
func (l *liveLine) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tty && l.width > 0 {
		fmt.Fprintln(l.w)
		l.width = 0
	}
}

func spoutTotals(st *local.Stats) (emitted, acked, failed uint64, pending int64) {
	for _, c := range st.Components {
		if c.Kind == "spout" {
			emitted += c.Emitted
			acked += c.Acked
			failed += c.Failed
			pending += c.Pending
		}
	}
	return
}

func (p *progress) print() {
	st := p.rt.Stats()
	now := time.Now()
	dt := now.Sub(p.lastT).Seconds()
	e1, a1, f1, pend := spoutTotals(&st)
	e0, a0, f0, _ := spoutTotals(&p.last)
	var executed, errs uint64
	for _, c := range st.Components {
		executed += c.Executed
		errs += c.Errors
	}
	p.line.show(fmt.Sprintf("[%s] spouts: emitted %s/s acked %s/s failed %s/s pending %d | total emitted %s acked %s failed %s | bolts executed %s | errors %d",
		fmtElapsed(now.Sub(p.start)), human(float64(e1-e0)/dt), human(float64(a1-a0)/dt), human(float64(f1-f0)/dt), pend,
		human(float64(e1)), human(float64(a1)), human(float64(f1)), human(float64(executed)), errs))
	p.last, p.lastT = st, now
}

func (p *progress) finish() {
	p.print()
	p.line.end()
}

func fmtElapsed(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// human formats a count as 1.23k / 4.56M.
func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtLat(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3fms", float64(d)/1e6)
}

func printSummary(w io.Writer, st *local.Stats) {
	fmt.Fprintf(w, "\nTopology %s ran %s\n\n", st.Topology, st.Uptime.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "COMPONENT\tTYPE\tTASKS\tEMITTED\tTRANSFERRED\tEXECUTED\tACKED\tFAILED\tEXECUTE LAT\tPROCESS LAT\tCOMPLETE LAT p50/p99\tCAPACITY\tERRORS\t")
	for _, c := range st.Components {
		complete := "-"
		if c.Kind == "spout" && c.CompleteP50 > 0 {
			complete = fmtLat(c.CompleteP50) + "/" + fmtLat(c.CompleteP99)
		}
		capacity := "-"
		if c.Kind == "bolt" && st.Uptime > 0 && c.Tasks > 0 {
			capacity = fmt.Sprintf("%.3f", float64(c.BusyNanos)/float64(st.Uptime)/float64(c.Tasks))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%d\t\n",
			c.Component, c.Type, c.Tasks, c.Emitted, c.Transferred, c.Executed, c.Acked, c.Failed,
			fmtLat(c.ExecuteLat), fmtLat(c.ProcessLat), complete, capacity, c.Errors)
	}
	tw.Flush()
	for _, c := range st.Components {
		for _, e := range c.LastErrors {
			fmt.Fprintf(w, "  last error of %s at %s: %s\n", c.Component, e.Time.Format(time.TimeOnly), firstLine(e.Message))
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
