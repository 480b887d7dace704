// Command benchstorm runs Gale's side-by-side benchmark against Apache
// Storm (`make bench-storm`): each row of bench/rows in Gale and the same
// topology in Storm's LocalCluster (bench/storm), one fresh process per row
// and engine, a warm-up and then a measured window each, and prints one
// table with the ratios. The results are also written as JSON.
//
//	go run ./bench/cmd/benchstorm [-warmup 10s] [-measure 20s] [-rows const,wordcount,wordcount-fail]
//	                              [-json FILE] [-compare OLD.json] [-gale-only]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gale-stream/gale/bench/rows"
	"github.com/gale-stream/gale/local"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchstorm:", err)
		os.Exit(1)
	}
}

// Report is the JSON written after a run.
type Report struct {
	Time     time.Time     `json:"time"`
	Machine  Machine       `json:"machine"`
	WarmupS  float64       `json:"warmup_s"`
	MeasureS float64       `json:"measure_s"`
	Pending  int           `json:"max_spout_pending"`
	Results  []rows.Result `json:"results"`
	Ratios   []Ratio       `json:"ratios"`
}

// Machine says where the figures come from.
type Machine = rows.Machine

// Ratio is Gale's figure over Storm's for one row (NaN where either is
// missing). Throughput: higher is better; the others: lower is better.
type Ratio struct {
	Row        string  `json:"row"`
	Throughput float64 `json:"tuples_per_s"`
	P99        float64 `json:"p99_ms"`
	CPUPerM    float64 `json:"cpu_s_per_m"`
	PeakRSS    float64 `json:"peak_rss_mb"`
}

func run() error {
	var (
		warmup   = flag.Duration("warmup", 10*time.Second, "warm-up before each measured window (Storm's JIT needs ~10 s)")
		measure  = flag.Duration("measure", 20*time.Second, "measured window of each run")
		rowList  = flag.String("rows", "const,wordcount,wordcount-fail", "rows to run, comma-separated")
		pending  = flag.Int("pending", 1000, "max spout pending of the acked rows")
		jsonOut  = flag.String("json", "", "write the report here (default $GALE_BENCH_CACHE/results/storm-TIME.json)")
		compare  = flag.String("compare", "", "an earlier report to compare Gale's figures with")
		galeOnly = flag.Bool("gale-only", false, "skip the Storm side")
		child    = flag.String("child", "", "internal: run this Gale row in this process and print its RESULT line")
	)
	flag.Parse()
	if *child != "" {
		return runChild(*child, *warmup, *measure, *pending)
	}
	var selected []rows.Row
	for _, name := range strings.Split(*rowList, ",") {
		r, err := rows.Lookup(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		selected = append(selected, r)
	}
	root, err := rows.ModuleRoot()
	if err != nil {
		return err
	}
	cache := os.Getenv("GALE_BENCH_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "gale-bench")
	}
	if *jsonOut == "" {
		*jsonOut = filepath.Join(cache, "results", "storm-"+time.Now().UTC().Format("20060102-150405")+".json")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep := Report{Time: time.Now().UTC(), Machine: rows.ReadMachine(), WarmupS: warmup.Seconds(),
		MeasureS: measure.Seconds(), Pending: *pending}
	stormSh := filepath.Join(root, "bench", "storm", "run.sh")
	logPath := filepath.Join(cache, "storm-last.log")
	if !*galeOnly {
		progress("building the Storm baseline (bench/storm; the first build downloads Storm from Maven Central, about a minute)")
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return err
		}
		if out, err := exec.CommandContext(ctx, stormSh, "build").CombinedOutput(); err != nil {
			return fmt.Errorf("building the Storm baseline: %w\n%s", err, out)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	per := *warmup + *measure
	steps := len(selected) * 2
	if *galeOnly {
		steps = len(selected)
	}
	step := 0
	for _, row := range selected {
		step++
		progress(fmt.Sprintf("[%d/%d] Gale  %-15s warm-up %v, measure %v", step, steps, row.Name, *warmup, *measure))
		res, err := runResult(ctx, per, exec.CommandContext(ctx, self, "-child", row.Name,
			"-warmup", warmup.String(), "-measure", measure.String(), "-pending", fmt.Sprint(*pending)), "", "gale")
		if err != nil {
			return fmt.Errorf("gale %s: %w", row.Name, err)
		}
		rep.Results = append(rep.Results, res)
		progress("        " + summary(res))
		if *galeOnly {
			continue
		}
		step++
		progress(fmt.Sprintf("[%d/%d] Storm %-15s warm-up %v, measure %v (plus ~15 s to start LocalCluster)", step, steps, row.Name, *warmup, *measure))
		cmd := exec.CommandContext(ctx, stormSh, fmt.Sprintf("warmup=%d", int(warmup.Seconds())),
			fmt.Sprintf("measure=%d", int(math.Ceil(measure.Seconds()))), "rows="+row.Name,
			fmt.Sprintf("pending=%d", *pending))
		res, err = runResult(ctx, per+30*time.Second, cmd, logPath, "storm")
		if err != nil {
			return fmt.Errorf("storm %s: %w (Storm's log: %s)", row.Name, err, logPath)
		}
		rep.Results = append(rep.Results, res)
		progress("        " + summary(res))
	}
	rep.Ratios = ratios(selected, rep.Results)

	fmt.Println()
	printTable(os.Stdout, &rep, selected)
	if *compare != "" {
		if err := printComparison(os.Stdout, *compare, &rep); err != nil {
			fmt.Fprintln(os.Stderr, "benchstorm: -compare:", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(*jsonOut), 0o755); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(jsonSafe(rep), "", "  ")
	if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println("\nreport written to", *jsonOut)
	return nil
}

// runChild runs one Gale row in this process, as Gale ships: GOGC tuned,
// warnings-only logs.
func runChild(name string, warmup, measure time.Duration, pending int) error {
	local.TuneGC()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	row, err := rows.Lookup(name)
	if err != nil {
		return err
	}
	res, err := rows.Run(context.Background(), row, rows.Options{Warmup: warmup, Measure: measure, Pending: pending})
	if err != nil {
		return err
	}
	fmt.Println(res.Line())
	return nil
}

// runResult runs cmd (one row of one engine), shows a ticking progress line
// while it runs, and returns the RESULT line it printed. stderr goes to
// logPath when given (Storm is chatty), else through.
func runResult(ctx context.Context, expect time.Duration, cmd *exec.Cmd, logPath, engineName string) (rows.Result, error) {
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return rows.Result{}, err
		}
		defer f.Close()
		cmd.Stderr = f
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return rows.Result{}, err
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var err error
loop:
	for {
		select {
		case err = <-waited:
			break loop
		case <-tick.C:
			if isTerminal() {
				fmt.Fprintf(os.Stderr, "\r        %3.0f s of about %.0f s", time.Since(start).Seconds(), expect.Seconds())
			}
		}
	}
	if isTerminal() {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		return rows.Result{}, fmt.Errorf("%w\n%s", err, lastLines(stdout.String(), 20))
	}
	if ctx.Err() != nil {
		return rows.Result{}, ctx.Err()
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "RESULT "+engineName+" ") {
			return rows.ParseLine(sc.Text())
		}
	}
	return rows.Result{}, errors.New("no RESULT line in its output:\n" + lastLines(stdout.String(), 20))
}

func summary(r rows.Result) string {
	s := fmt.Sprintf("%s tuples/s", rows.Thousands(r.TuplesPerS))
	if !math.IsNaN(r.P99Ms) {
		s += fmt.Sprintf(", p50/p99 %.1f/%.1f ms", r.P50Ms, r.P99Ms)
	}
	if !math.IsNaN(r.FailedPerS) && r.FailedPerS > 0 {
		s += fmt.Sprintf(", %s failed/s", rows.Thousands(r.FailedPerS))
	}
	return s + fmt.Sprintf(", CPU %.2f s per M tuples, peak RSS %.0f MiB", r.CPUSecPerMega, r.PeakRSSMiB)
}

func find(res []rows.Result, engineName, row string) (rows.Result, bool) {
	for _, r := range res {
		if r.Engine == engineName && r.Row == row {
			return r, true
		}
	}
	return rows.Result{}, false
}

func ratios(selected []rows.Row, res []rows.Result) []Ratio {
	var out []Ratio
	for _, row := range selected {
		g, ok1 := find(res, "gale", row.Name)
		s, ok2 := find(res, "storm", row.Name)
		if !ok1 || !ok2 {
			continue
		}
		out = append(out, Ratio{Row: row.Name, Throughput: g.TuplesPerS / s.TuplesPerS,
			P99: g.P99Ms / s.P99Ms, CPUPerM: g.CPUSecPerMega / s.CPUSecPerMega, PeakRSS: g.PeakRSSMiB / s.PeakRSSMiB})
	}
	return out
}

// printTable prints the side-by-side table and the targets.
func printTable(w io.Writer, rep *Report, selected []rows.Row) {
	m := rep.Machine
	fmt.Fprintf(w, "Gale vs Apache Storm (LocalCluster), %d CPUs (%s), %s RAM; warm-up %.0f s, measured %.0f s per run\n\n",
		m.CPUs, m.CPUModel, m.MemTotal, rep.WarmupS, rep.MeasureS)
	fmt.Fprintf(w, "%-16s %-22s %14s %14s %12s\n", "row", "", "Gale", "Storm", "Gale/Storm")
	for _, row := range selected {
		g, okg := find(rep.Results, "gale", row.Name)
		s, oks := find(rep.Results, "storm", row.Name)
		if !oks {
			s = rows.Result{TuplesPerS: math.NaN(), P50Ms: math.NaN(), P99Ms: math.NaN(), CPUSecPerMega: math.NaN(), PeakRSSMiB: math.NaN()}
		}
		if !okg {
			continue
		}
		label := "tuples/s (emitted)"
		if row.Acked {
			label = "tuples/s (acked)"
		}
		line := func(name string, gv, sv float64, f func(float64) string) {
			ratio := "-"
			if !math.IsNaN(gv) && !math.IsNaN(sv) && sv != 0 {
				ratio = fmt.Sprintf("%.2fx", gv/sv)
			}
			fmt.Fprintf(w, "%-16s %-22s %14s %14s %12s\n", "", name, f(gv), f(sv), ratio)
		}
		fmt.Fprintf(w, "%s  (%s)\n", row.Name, row.Title)
		line(label, g.TuplesPerS, s.TuplesPerS, rows.Thousands)
		if row.Acked {
			line("complete p50 ms", g.P50Ms, s.P50Ms, ms)
			line("complete p99 ms", g.P99Ms, s.P99Ms, ms)
		}
		line("CPU s per M tuples", g.CPUSecPerMega, s.CPUSecPerMega, ms)
		line("peak RSS MiB", g.PeakRSSMiB, s.PeakRSSMiB, func(v float64) string { return num(v, "%.0f") })
	}
	if len(rep.Ratios) == 0 {
		return
	}
	fmt.Fprintln(w, "\ntargets (rows wordcount and wordcount-fail): tuples/s >= 3x Storm, p99 <= 1/2, memory <= 1/4")
	for _, r := range rep.Ratios {
		row, _ := rows.Lookup(r.Row)
		if !row.Acked {
			continue
		}
		fmt.Fprintf(w, "  %-16s tuples/s %s, p99 %s, memory %s\n", r.Row,
			verdict(r.Throughput, ">=", 3), verdict(r.P99, "<=", 0.5), verdict(r.PeakRSS, "<=", 0.25))
	}
}

func verdict(v float64, op string, target float64) string {
	ok := (op == ">=" && v >= target) || (op == "<=" && v <= target)
	mark := "met"
	if !ok {
		mark = "NOT met"
	}
	return fmt.Sprintf("%.2fx (%s)", v, mark)
}

// printComparison shows how Gale's figures moved since an earlier report.
func printComparison(w io.Writer, path string, rep *Report) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var old Report
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(w, "\nchange since %s (%s):\n", path, old.Time.Format(time.RFC3339))
	for _, r := range rep.Results {
		for _, o := range old.Results {
			if o.Engine == r.Engine && o.Row == r.Row && o.TuplesPerS > 0 {
				fmt.Fprintf(w, "  %-6s %-16s tuples/s %s -> %s (%+.0f %%)\n", r.Engine, r.Row,
					rows.Thousands(o.TuplesPerS), rows.Thousands(r.TuplesPerS), (r.TuplesPerS/o.TuplesPerS-1)*100)
			}
		}
	}
	return nil
}

// jsonSafe replaces NaN (no JSON form) by -1 in a copy of rep.
func jsonSafe(rep Report) Report {
	fix := func(v *float64) {
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			*v = -1
		}
	}
	rep.Results = append([]rows.Result(nil), rep.Results...)
	for i := range rep.Results {
		r := &rep.Results[i]
		for _, v := range []*float64{&r.WindowS, &r.TuplesPerS, &r.EmittedPerS, &r.AckedPerS, &r.FailedPerS,
			&r.ExecutedPerS, &r.P50Ms, &r.P90Ms, &r.P99Ms, &r.MaxMs, &r.CPUSeconds, &r.CPUSecPerMega, &r.PeakRSSMiB} {
			fix(v)
		}
	}
	rep.Ratios = append([]Ratio(nil), rep.Ratios...)
	for i := range rep.Ratios {
		r := &rep.Ratios[i]
		for _, v := range []*float64{&r.Throughput, &r.P99, &r.CPUPerM, &r.PeakRSS} {
			fix(v)
		}
	}
	return rep
}

func progress(s string) { fmt.Fprintln(os.Stderr, s) }

func isTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func num(v float64, f string) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(f, v)
}

func ms(v float64) string { return num(v, "%.2f") }
