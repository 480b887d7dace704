package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gale-stream/gale/cluster/api"
)

func init() {
	register(command{name: "submit", args: "TOPOLOGY.json", summary: "submit a topology to the cluster", run: submitCmd})
	register(command{name: "list", summary: "list the cluster's topologies", run: listCmd})
	register(command{name: "describe", args: "NAME", summary: "describe a topology: components, tasks, where they run, metrics", run: describeCmd})
	register(command{name: "kill", args: "NAME", summary: "kill a topology (drains first)", run: killCmd})
	register(command{name: "activate", args: "NAME", summary: "resume a topology's spouts", run: activeCmd(true)})
	register(command{name: "deactivate", args: "NAME", summary: "pause a topology's spouts", run: activeCmd(false)})
	register(command{name: "rebalance", args: "NAME", summary: "change a topology's parallelism or workers, live", run: rebalanceCmd})
	register(command{name: "autoscale", args: "on|off NAME", summary: "resume or pause the autoscaling of a topology", run: autoscaleCmd})
	register(command{name: "members", summary: "list the cluster's workers", run: membersCmd})
}

// DefaultAPI is where the cluster commands look when neither --api nor
// GALE_API is set.
const DefaultAPI = "http://127.0.0.1:8080"

// apiFlags adds --api, --token and --json to fs.
type apiFlags struct {
	api   *string
	ca    *string
	token *secret
	json  *bool
	env   *Env
}

func addAPIFlags(env *Env, fs *flag.FlagSet) apiFlags {
	def := env.Getenv("GALE_API")
	if def == "" {
		def = DefaultAPI
	}
	return apiFlags{
		api:   fs.String("api", def, "the API of any worker (or $GALE_API)"),
		token: addSecret(fs, "token", "token-file", "GALE_AUTH_TOKEN", "the cluster's API token"),
		ca:    fs.String("tls-ca", env.Getenv("GALE_TLS_CA"), "CA certificate (PEM) to trust for an https:// API, besides the system's (or $GALE_TLS_CA)"),
		json:  fs.Bool("json", false, "print JSON"),
		env:   env,
	}
}

func (f apiFlags) client() *api.Client {
	base := *f.api
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	tok, err := f.token.get(f.env, func(msg string) { fmt.Fprintf(f.env.Stderr, "gale: warning: %s\n", msg) })
	if err != nil {
		// an unreadable token file: say so, and call without (the API answers 401 if it needs one)
		fmt.Fprintf(f.env.Stderr, "gale: %v\n", err)
	}
	c := &api.Client{Base: base, Token: tok}
	if *f.ca != "" {
		hc, err := api.NewHTTPClient(30*time.Second, *f.ca)
		if err != nil {
			fmt.Fprintf(f.env.Stderr, "gale: --tls-ca: %v\n", err)
		} else {
			c.HTTP = hc
		}
	}
	return c
}

// apiErr prints an API error the way a user can act on.
func apiErr(env *Env, cmd string, err error) int {
	var se *api.StatusError
	switch {
	case errors.Is(err, api.ErrUnreachable):
		fmt.Fprintf(env.Stderr, "gale %s: %v\n  is a worker running? start one with `gale worker`, or point --api / GALE_API at one\n", cmd, err)
	case errors.As(err, &se) && se.Status == 401:
		fmt.Fprintf(env.Stderr, "gale %s: %s\n", cmd, se.Message)
	case errors.As(err, &se):
		fmt.Fprintf(env.Stderr, "gale %s: %v\n", cmd, se)
	default:
		fmt.Fprintf(env.Stderr, "gale %s: %v\n", cmd, err)
	}
	return 1
}

func printJSON(env *Env, v any) int {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(env.Stdout, string(b))
	return 0
}

func submitCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "submit", "TOPOLOGY.json", "Submit a topology to the cluster. The workers validate it first and refuse it with every error.")
	af := addAPIFlags(env, fs)
	ff := addFluxFlags(fs)
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	// a Flux file is converted here and submitted as Gale JSON; its shell
	// components run in the workers' working directory
	data, res, ok := readTopologyFile(env, pos[0], ff, false)
	if !ok {
		return 1
	}
	sum, err := af.client().Submit(ctx, data)
	if err != nil {
		var se *api.StatusError
		if errors.As(err, &se) && se.Status == 400 {
			fmt.Fprintf(env.Stderr, "%s: %s (%d error%s):\n", pos[0], se.Message, len(se.Details), plural(len(se.Details)))
			for _, d := range se.Details {
				fmt.Fprintf(env.Stderr, "  %s\n", locateDetail(res, d))
			}
			return 1
		}
		return apiErr(env, "submit", err)
	}
	if *af.json {
		return printJSON(env, sum)
	}
	fmt.Fprintf(env.Stdout, "submitted %s (version %d, %s)\n", sum.Name, sum.Version, sum.Status)
	return 0
}

func listCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "list", "", "List the cluster's topologies.")
	af := addAPIFlags(env, fs)
	if _, ok := parseArgs(fs, args, 0); !ok {
		return 2
	}
	ts, err := af.client().Topologies(ctx)
	if err != nil {
		return apiErr(env, "list", err)
	}
	if *af.json {
		return printJSON(env, ts)
	}
	if len(ts) == 0 {
		fmt.Fprintln(env.Stdout, "no topologies (gale submit FILE.json)")
		return 0
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tUPTIME\tWORKERS\tTASKS\tEMITTED\tACKED\tFAILED")
	for _, t := range ts {
		status := t.Status
		if len(t.Refused) > 0 {
			status = "refused (gale describe " + t.Name + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", t.Name, status, since(t.Submitted), t.Workers, t.Tasks, t.Emitted, t.Acked, t.Failed)
	}
	tw.Flush()
	return 0
}

func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String()
}

func describeCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "describe", "NAME", "Describe a topology: its components, their tasks and the worker each runs on, and their metrics summed over every worker.")
	af := addAPIFlags(env, fs)
	win := fs.String("window", "10m", "window of the latencies and capacity: 10m, 3h or all")
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	if *win != "10m" && *win != "3h" && *win != "all" {
		fmt.Fprintf(env.Stderr, "gale describe: --window %q: want 10m, 3h or all\n", *win)
		return 2
	}
	t, err := af.client().Describe(ctx, pos[0])
	if err != nil {
		return apiErr(env, "describe", err)
	}
	if *af.json {
		return printJSON(env, t)
	}
	fmt.Fprintf(env.Stdout, "topology %s: %s, version %d, %d workers, %d tasks, up %s\n\n", t.Name, t.Status, t.Version, t.Workers, t.Tasks, since(t.Submitted))
	if len(t.Refused) > 0 {
		fmt.Fprintf(env.Stdout, "REFUSED: the workers do not run %s, stored before they checked what a submit checks now:\n", t.Name)
		for _, d := range t.Refused {
			fmt.Fprintf(env.Stdout, "  %s\n", d)
		}
		fmt.Fprintf(env.Stdout, "kill it (gale kill %s) and submit it again once fixed.\n\n", t.Name)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "COMPONENT\tKIND\tTYPE\tTASKS\tWORKERS\tEMITTED\tTRANSFERRED\tEXECUTED\tACKED\tFAILED\tERRORS\tEXECUTE LAT (%[1]s)\tPROCESS LAT (%[1]s)\tCOMPLETE LAT (%[1]s)\tCAPACITY (%[1]s)\n", *win)
	for _, c := range t.Components {
		workers := map[string]int{}
		for _, tk := range c.Tasks {
			workers[tk.Worker]++
		}
		var ws []string
		for w, n := range workers {
			ws = append(ws, fmt.Sprintf("%s×%d", w, n))
		}
		sort.Strings(ws)
		var w api.Window
		for _, x := range c.Windows {
			if x.Window == *win {
				w = x
			}
		}
		capa := "-"
		if c.Kind == "bolt" {
			capa = fmt.Sprintf("%.3f", w.Capacity)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", c.ID, c.Kind, c.Type, len(c.Tasks), strings.Join(ws, ","),
			c.Emitted, c.Transferred, c.Executed, c.Acked, c.Failed, c.Errors,
			fmtMs(w.ExecuteLatencyMs), fmtMs(w.ProcessLatencyMs), fmtMs(w.CompleteLatencyMs), capa)
	}
	tw.Flush()
	for _, c := range t.Components {
		if len(c.Partitions) > 0 {
			fmt.Fprintf(env.Stdout, "\n%s: Kafka partitions\n", c.ID)
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TOPIC\tPARTITION\tTASK\tWORKER\tPLANNED\tIN FLIGHT\tCOMMITTED\tOFFSET\tEND\tLAG\tLOST\tCOMMIT RETRIES")
			for _, p := range c.Partitions {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", p.Topic, p.Partition, p.Task, p.Worker,
					p.Planned, p.InFlight, p.Committed, p.CommittedOffset, p.HighWatermark, p.Lag, p.LostOffsets, p.CommitRetries)
			}
			tw.Flush()
			for _, p := range c.Partitions {
				printPartitionNotes(env, p)
			}
		}
		if k := c.Sink; k != nil {
			fmt.Fprintf(env.Stdout, "\n%s: %s wrote %d batches, %d records, %d bytes; write latency %s (last %s); %d retries, %d dead-lettered, %d in flight\n",
				c.ID, k.Backend, k.Batches, k.Records, k.Bytes, fmtMs(k.WriteLatencyMs), fmtMs(k.LastWriteMs), k.Retries, k.Rejected, k.InFlight)
			if k.LastError != "" {
				fmt.Fprintf(env.Stdout, "  last error at %s: %s\n", k.LastErrorAt.Format(time.RFC3339), k.LastError)
			}
		}
	}
	if a := t.Autoscale; a != nil {
		state := "on"
		if a.Paused {
			state = "paused (gale autoscale on " + t.Name + " resumes it)"
		}
		fmt.Fprintf(env.Stdout, "\nautoscale %s:\n", state)
		for _, c := range slices.Sorted(maps.Keys(a.Policies)) {
			p := a.Policies[c]
			lag := ""
			if p.ScaleUpLagSeconds > 0 {
				lag = fmt.Sprintf(", scale up past %gs of lag", p.ScaleUpLagSeconds)
			}
			fmt.Fprintf(env.Stdout, "  %s: %d tasks in [%d, %d], target capacity %g%s, cooldown %gs\n",
				c, p.Parallelism, p.Min, p.Max, p.TargetCapacity, lag, p.CooldownSeconds)
		}
		for _, d := range a.Decisions[max(0, len(a.Decisions)-5):] {
			limited := ""
			if d.Limited != "" {
				limited = " (limited: " + d.Limited + ")"
			}
			fmt.Fprintf(env.Stdout, "  %s %s %s %d -> %d: %s%s\n", d.At.Local().Format("15:04:05"), d.Component, d.Direction,
				d.From, d.To, d.Reason, limited)
		}
	}
	if r := t.Rescale; r != nil {
		var what []string
		for _, c := range slices.Sorted(maps.Keys(r.Parallelism)) {
			what = append(what, fmt.Sprintf("%s -> %d tasks", c, r.Parallelism[c]))
		}
		if r.Workers > 0 {
			what = append(what, fmt.Sprintf("%d workers", r.Workers))
		}
		fmt.Fprintf(env.Stdout, "\nrescale pending (%s, asked %s ago): %s; the spouts pause until the trees in flight complete\n",
			r.Reason, time.Since(r.RequestedAt).Round(time.Second), strings.Join(what, ", "))
	}
	if len(t.Unassigned) > 0 {
		fmt.Fprintf(env.Stdout, "\n%d task(s) could not be placed (not enough slots): %v\n", len(t.Unassigned), t.Unassigned)
	}
	for _, c := range t.Components {
		for _, e := range c.LastErrors {
			fmt.Fprintf(env.Stdout, "\n%s error at %s on %s task %d: %s", c.ID, e.Time.Format(time.RFC3339), e.Worker, e.Task, e.Message)
		}
	}
	return 0
}

// printPartitionNotes prints what a partition's row cannot say: records
// lost, why it stopped, its last error.
func printPartitionNotes(env *Env, p api.Partition) {
	name := fmt.Sprintf("%s/%d", p.Topic, p.Partition)
	if p.LostOffsets > 0 {
		fmt.Fprintf(env.Stdout, "  %s: LOST %d offsets that Kafka deleted (retention) before the spout read them", name, p.LostOffsets)
		if l := p.LastLost; l != nil {
			fmt.Fprintf(env.Stdout, "; the last: batch %s, offsets [%d, %d)", l.Batch, l.Start, l.End)
		}
		fmt.Fprintln(env.Stdout, " (gale verify lists them)")
	}
	if p.Stopped != "" {
		fmt.Fprintf(env.Stdout, "  %s: STOPPED: %s\n", name, p.Stopped)
	}
	if p.LastError != "" && p.LastError != p.Stopped {
		fmt.Fprintf(env.Stdout, "  %s: last error at %s: %s\n", name, p.LastErrorAt.Format(time.RFC3339), p.LastError)
	}
}

func fmtMs(ms float64) string {
	if ms == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3fms", ms)
}

func killCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "kill", "NAME", "Kill a topology: its spouts stop, the tuples in flight drain (at most --drain), then its tasks stop everywhere.")
	af := addAPIFlags(env, fs)
	drain := fs.Duration("drain", 30*time.Second, "how long the tuples in flight may take to complete")
	wait := fs.Bool("wait", false, "wait until the topology is gone, showing progress")
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	c := af.client()
	if err := c.Kill(ctx, pos[0], *drain); err != nil {
		return apiErr(env, "kill", err)
	}
	fmt.Fprintf(env.Stdout, "killing %s (drain up to %v)\n", pos[0], *drain)
	if !*wait {
		return 0
	}
	start := time.Now()
	limit := start.Add(*drain + time.Minute)
	for time.Now().Before(limit) {
		t, err := c.Describe(ctx, pos[0])
		var se *api.StatusError
		if errors.As(err, &se) && se.Status == 404 {
			fmt.Fprintf(env.Stdout, "\r%s is gone after %v\n", pos[0], time.Since(start).Round(100*time.Millisecond))
			return 0
		}
		if err != nil {
			return apiErr(env, "kill", err)
		}
		fmt.Fprintf(env.Stderr, "\r%s: %s, %d tasks still running (%v)   ", pos[0], t.Status, t.Tasks, time.Since(start).Round(time.Second))
		select {
		case <-ctx.Done():
			return 1
		case <-time.After(500 * time.Millisecond):
		}
	}
	fmt.Fprintf(env.Stderr, "\ngale kill: %s still there after %v\n", pos[0], time.Since(start).Round(time.Second))
	return 1
}

func activeCmd(on bool) func(ctx context.Context, env *Env, args []string) int {
	name, summary := "deactivate", "Pause a topology's spouts; the trees in flight still complete."
	if on {
		name, summary = "activate", "Resume a topology's spouts."
	}
	return func(ctx context.Context, env *Env, args []string) int {
		fs := newFlags(env, name, "NAME", summary)
		af := addAPIFlags(env, fs)
		pos, ok := parseArgs(fs, args, 1)
		if !ok {
			return 2
		}
		if err := af.client().SetActive(ctx, pos[0], on); err != nil {
			return apiErr(env, name, err)
		}
		fmt.Fprintf(env.Stdout, "%sd %s\n", name, pos[0])
		return 0
	}
}

// compN is a repeatable --parallelism comp=N flag.
type compN map[string]int

func (c compN) String() string { return fmt.Sprint(map[string]int(c)) }
func (c compN) Set(v string) error {
	comp, n, ok := strings.Cut(v, "=")
	k, err := strconv.Atoi(n)
	if !ok || comp == "" || err != nil || k < 1 {
		return fmt.Errorf("want COMPONENT=N with N >= 1, got %q", v)
	}
	c[comp] = k
	return nil
}

func rebalanceCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "rebalance", "NAME", "Change the parallelism of components or the number of workers a topology uses, without stopping it.")
	af := addAPIFlags(env, fs)
	par := compN{}
	fs.Var(par, "parallelism", "COMPONENT=N (repeatable)")
	workers := fs.Int("workers", 0, "number of workers to use (0: unchanged)")
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	if len(par) == 0 && *workers == 0 {
		fmt.Fprintln(env.Stderr, "gale rebalance: nothing to change: give --parallelism COMPONENT=N or --workers N")
		return 2
	}
	if err := af.client().Rebalance(ctx, pos[0], api.Rebalance{Parallelism: par, Workers: *workers}); err != nil {
		return apiErr(env, "rebalance", err)
	}
	fmt.Fprintf(env.Stdout, "rebalancing %s: its spouts pause until the trees in flight complete, then its tasks change (gale describe shows it pending)\n", pos[0])
	return 0
}

func autoscaleCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "autoscale", "on|off NAME", "Resume (on) or pause (off) the autoscaling of a topology's components that have an \"autoscale\" policy; paused, their parallelism stays as it is.")
	af := addAPIFlags(env, fs)
	pos, ok := parseArgs(fs, args, 2)
	if !ok {
		return 2
	}
	var on bool
	switch pos[0] {
	case "on":
		on = true
	case "off":
	default:
		fmt.Fprintf(env.Stderr, "gale autoscale: want on or off, got %q\n", pos[0])
		return 2
	}
	if err := af.client().SetAutoscale(ctx, pos[1], on); err != nil {
		return apiErr(env, "autoscale", err)
	}
	fmt.Fprintf(env.Stdout, "autoscale %s for %s\n", pos[0], pos[1])
	return 0
}

func membersCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "members", "", "List the cluster's workers.")
	af := addAPIFlags(env, fs)
	if _, ok := parseArgs(fs, args, 0); !ok {
		return 2
	}
	ms, err := af.client().Members(ctx)
	if err != nil {
		return apiErr(env, "members", err)
	}
	if *af.json {
		return printJSON(env, ms)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tGOSSIP\tAPI\tUPTIME\tTASKS\tSLOTS")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", m.Name, m.State, m.Addr, m.API, since(m.Started), m.Tasks, m.Slots)
	}
	tw.Flush()
	return 0
}
