package cli

import (
	"context"
	"encoding/json"
	"fmt"
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
	maxObject := fs.Int64("max-object-bytes", sinks.MaxDecodedBytes, "an object that decompresses to more is reported mismatched (a decompression bomb costs no more memory)")
	pos, ok := parseArgs(fs, args, 1)
	if !ok {
		return 2
	}
	if *maxObject <= 0 {
		fmt.Fprintf(env.Stderr, "gale verify: --max-object-bytes %d: want a positive size\n", *maxObject)
		return 2
	}
	sinks.MaxDecodedBytes = *maxObject
	topo, ok := loadTopology(env, pos[0])
	if !ok {
		return 1
	}
	start := time.Now()
	rep, err := verify.Run(ctx, topo, func(s string) { fmt.Fprintf(env.Stderr, "gale verify: %s...\n", s) })
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
