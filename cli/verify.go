package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/gale-stream/gale/internal/verify"
	"github.com/gale-stream/gale/sinks"
)

func init() {
	register(command{name: "verify", args: "TOPOLOGY.json", summary: "compare the committed batches with what every sink holds (missing, extra, mismatched)", run: verifyCmd})
}

func verifyCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "verify", "TOPOLOGY.json", "Compare the batches the topology's Kafka spouts committed in their ledgers with what each sink's backend holds,\n"+
		"and print per sink the batches that are missing, extra (never planned) or mismatched (offsets or content\n"+
		"differ), and the offsets the ledgers recorded lost (deleted by Kafka's retention before they were read).\n"+
		"Exit status 1 when anything differs or was lost. Batches still in flight are counted, not reported.")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	list := fs.Int("list", 20, "list at most this many batches per kind and sink")
	showProgress := fs.Bool("progress", false, "print a progress line every second on stderr also when it is not a terminal (on a terminal it always shows)")
	parallel := fs.Int("parallel", verify.DefaultParallel, "objects read at once from each object store")
	maxObject := fs.Int64("max-object-bytes", sinks.MaxDecodedBytes, "an object that decompresses to more is reported mismatched (a decompression bomb costs no more memory)")
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	if *parallel <= 0 {
		fmt.Fprintf(env.Stderr, "gale verify: --parallel %d: want a positive number\n", *parallel)
		return 2
	}
	if *maxObject <= 0 {
		fmt.Fprintf(env.Stderr, "gale verify: --max-object-bytes %d: want a positive size\n", *maxObject)
		return 2
	}
	sinks.MaxDecodedBytes = *maxObject
	topo, ok := loadTopology(env, pos[0], nil)
	if !ok {
		return 1
	}
	start := time.Now()
	line := newLiveLine(env.Stderr)
	var prog verify.Progress
	var vp *verifyProgress
	if *showProgress || line.tty {
		vp = startVerifyProgress(line, &prog, time.Second)
	}
	rep, err := verify.Run(ctx, topo, verify.Options{Progress: &prog, Parallel: *parallel,
		Status: func(s string) { line.println("gale verify: " + s + "...") }})
	if vp != nil {
		vp.stop()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale verify: %v\n", err)
		return 1
	}
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
	} else {
		printVerify(env, rep, *list, time.Since(start))
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// verifyProgress prints gale verify's progress line every interval until
// stopped: the objects and documents read, their rates, and the time left
// when the totals are known.
type verifyProgress struct {
	line  *liveLine
	prog  *verify.Progress
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup

	// used by the printing goroutine only
	lastT          time.Time
	lastO, lastD   int64
	firstO, firstD progressMark
}

// progressMark is the first time a count was seen above zero.
type progressMark struct {
	t time.Time
	n int64
}

func startVerifyProgress(line *liveLine, prog *verify.Progress, every time.Duration) *verifyProgress {
	now := time.Now()
	p := &verifyProgress{line: line, prog: prog, start: now, lastT: now, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				return
			case now := <-tick.C:
				p.print(now)
			}
		}
	}()
	return p
}

// stop prints the last line and ends it; it may be called once.
func (p *verifyProgress) stop() {
	close(p.done)
	p.wg.Wait()
	if p.prog.Objects.Load()+p.prog.Documents.Load() > 0 {
		p.print(time.Now())
	}
	p.line.end()
}

// print shows the line of time now.
func (p *verifyProgress) print(now time.Time) {
	dt := now.Sub(p.lastT).Seconds()
	if dt <= 0 {
		return
	}
	o, oTotal := p.prog.Objects.Load(), p.prog.ObjectsTotal.Load()
	d, dTotal := p.prog.Documents.Load(), p.prog.DocumentsTotal.Load()
	var parts []string
	var eta time.Duration
	etaKnown := true
	kind := func(name string, n, total, last int64, first *progressMark) {
		if n == 0 && total == 0 {
			return
		}
		if first.t.IsZero() && n > 0 {
			*first = progressMark{now, n} // the rate is measured from here
		}
		s := fmt.Sprintf("%s %s", name, human(float64(n)))
		if total > 0 {
			s += "/" + human(float64(total))
		}
		left := total - n
		if total == 0 || left > 0 {
			s += fmt.Sprintf(" (%s/s)", human(float64(n-last)/dt))
		}
		parts = append(parts, s)
		switch {
		case total == 0:
			etaKnown = false
		case left <= 0:
		case n > first.n && now.After(first.t):
			rate := float64(n-first.n) / now.Sub(first.t).Seconds()
			eta = max(eta, time.Duration(float64(left)/rate*float64(time.Second)))
		default:
			etaKnown = false
		}
	}
	kind("objects", o, oTotal, p.lastO, &p.firstO)
	kind("documents", d, dTotal, p.lastD, &p.firstD)
	p.lastT, p.lastO, p.lastD = now, o, d
	if len(parts) == 0 {
		return // the sinks are not being read yet
	}
	s := fmt.Sprintf("[%s] read %s", fmtElapsed(now.Sub(p.start)), strings.Join(parts, " | "))
	if etaKnown {
		s += " | ETA " + fmtElapsed(eta+time.Second/2)
	}
	p.line.show(s)
}

func printVerify(env *Env, rep *verify.Report, list int, took time.Duration) {
	w := env.Stdout
	fmt.Fprintf(w, "topology %s: %d committed batches, %d in flight (checked in %v)\n\n", rep.Topology, rep.Committed, rep.Pending, took.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SINK\tTYPE\tBATCHES\tRECORDS\tMISSING\tEXTRA\tMISMATCHED\tSTATUS")
	for _, s := range rep.Sinks {
		status := "ok"
		switch {
		case s.Error != "":
			status = "ERROR"
		case !s.OK():
			status = "DIFFERS"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Component, s.Type, s.Batches, s.Records, len(s.Missing), len(s.Extra), len(s.Mismatched), status)
	}
	tw.Flush()
	for _, s := range rep.Sinks {
		if s.Error != "" {
			fmt.Fprintf(w, "\n%s: cannot read the backend: %s\n", s.Component, s.Error)
		}
		show := func(kind string, items []string) {
			if len(items) == 0 {
				return
			}
			fmt.Fprintf(w, "\n%s: %d %s:\n", s.Component, len(items), kind)
			for i, it := range items {
				if i == list {
					fmt.Fprintf(w, "  ... and %d more (--list N)\n", len(items)-list)
					break
				}
				fmt.Fprintf(w, "  %s\n", it)
			}
		}
		show("missing batches", s.Missing)
		show("extra objects", s.Extra)
		var mm []string
		for _, m := range s.Mismatched {
			mm = append(mm, m.Batch+": "+m.Reason)
		}
		show("mismatched batches", mm)
	}
	for _, s := range rep.Sinks {
		if s.Unplaced > 0 {
			fmt.Fprintf(w, "\n%s: %d documents lie in committed offsets that no object store names a batch for (a topology whose only sinks are document stores is checked by offsets only)\n", s.Component, s.Unplaced)
		}
	}
	if rep.LostOffsets > 0 || len(rep.Lost) > 0 {
		fmt.Fprintf(w, "\nLOST: %d offsets that Kafka deleted (retention) before the spout read them:\n", rep.LostOffsets)
		for i, l := range rep.Lost {
			if i == list {
				fmt.Fprintf(w, "  ... and %d more (--list N)\n", len(rep.Lost)-list)
				break
			}
			fmt.Fprintf(w, "  batch %s: offsets [%d, %d)\n", l.Batch, l.Start, l.End)
		}
	}
	switch {
	case rep.OK():
		fmt.Fprintln(w, "\nOK: every sink holds exactly the committed batches.")
	case rep.SinksOK():
		fmt.Fprintln(w, "\nOFFSETS LOST: every sink holds the committed batches, less the offsets above (exit status 1).")
	default:
		fmt.Fprintln(w, "\nDIFFERENCES FOUND (exit status 1).")
	}
}
