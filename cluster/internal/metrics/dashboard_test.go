package metrics_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/gale-stream/gale/cluster/internal/metrics"
)

const dashboardPath = "../../../examples/grafana/gale-dashboard.json"

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"instance", "job"}

// selector is a metric name in an expression, with the label names its
// matchers use.
type selector struct {
	metric string
	labels []string
}

// promQL is what scanPromQL finds in an expression.
type promQL struct {
	selectors []selector
	grouping  []string // labels of by, without, on, ignoring, group_left, group_right
}

var metricPrefixes = []string{"gale_", "go_", "process_"}

var groupingWords = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}

// scanPromQL finds the metric names, label matchers and grouping labels of
// a PromQL expression (with Grafana variables). It is not a full parser:
// an identifier followed by '{' or starting with a metric prefix is a
// metric; string literals, ranges and $variables are skipped.
func scanPromQL(expr string) (promQL, error) {
	var out promQL
	isStart := func(c byte) bool { return c == '_' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
	isPart := func(c byte) bool { return isStart(c) || (c >= '0' && c <= '9') }
	i := 0
	space := func() {
		for i < len(expr) && strings.IndexByte(" \t\n", expr[i]) >= 0 {
			i++
		}
	}
	ident := func() string {
		j := i
		for i < len(expr) && isPart(expr[i]) {
			i++
		}
		return expr[j:i]
	}
	skipString := func() error {
		q := expr[i]
		for i++; i < len(expr) && expr[i] != q; i++ {
			if expr[i] == '\\' {
				i++
			}
		}
		if i >= len(expr) {
			return fmt.Errorf("unterminated string in %q", expr)
		}
		i++
		return nil
	}
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			if err := skipString(); err != nil {
				return out, err
			}
		case c == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return out, fmt.Errorf("unterminated range in %q", expr)
			}
			i += j + 1
		case c == '$':
			i++
			if i < len(expr) && expr[i] == '{' {
				j := strings.IndexByte(expr[i:], '}')
				if j < 0 {
					return out, fmt.Errorf("unterminated ${ in %q", expr)
				}
				i += j + 1
			} else {
				ident()
			}
		case c == '{':
			return out, fmt.Errorf("a selector without a metric name at %d in %q", i, expr)
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isPart(expr[i]) || expr[i] == '.') {
				i++
			}
		case isStart(c):
			name := ident()
			space()
			switch {
			case i < len(expr) && expr[i] == '{':
				sel := selector{metric: name}
				i++
				for {
					space()
					if i < len(expr) && expr[i] == '}' {
						i++
						break
					}
					l := ident()
					if l == "" {
						return out, fmt.Errorf("bad matcher at %d in %q", i, expr)
					}
					sel.labels = append(sel.labels, l)
					space()
					for i < len(expr) && strings.IndexByte("=!~", expr[i]) >= 0 {
						i++
					}
					space()
					if i >= len(expr) || strings.IndexByte("\"'`", expr[i]) < 0 {
						return out, fmt.Errorf("matcher %s without a string at %d in %q", l, i, expr)
					}
					if err := skipString(); err != nil {
						return out, err
					}
					space()
					if i < len(expr) && expr[i] == ',' {
						i++
					}
				}
				out.selectors = append(out.selectors, sel)
			case slices.Contains(groupingWords, name) && i < len(expr) && expr[i] == '(':
				j := strings.IndexByte(expr[i:], ')')
				if j < 0 {
					return out, fmt.Errorf("unterminated %s ( in %q", name, expr)
				}
				for _, l := range strings.Split(expr[i+1:i+j], ",") {
					if l = strings.TrimSpace(l); l != "" {
						out.grouping = append(out.grouping, l)
					}
				}
				i += j + 1
			case slices.ContainsFunc(metricPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }):
				out.selectors = append(out.selectors, selector{metric: name})
			}
		default:
			i++
		}
	}
	return out, nil
}

func TestScanPromQL(t *testing.T) {
	got, err := scanPromQL(`sum by (component) (rate(gale_x_total{topology=~"$topology", kind="a}b"}[$__rate_interval]))
/ on (instance, job) group_left (worker) gale_worker_info * 1e9 + process_cpu_seconds_total`)
	if err != nil {
		t.Fatal(err)
	}
	want := promQL{
		selectors: []selector{{"gale_x_total", []string{"topology", "kind"}}, {"gale_worker_info", nil}, {"process_cpu_seconds_total", nil}},
		grouping:  []string{"component", "instance", "job", "worker"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scanPromQL = %v, want %v", got, want)
	}
	for _, bad := range []string{`{job="x"}`, `gale_x{a="b"`, `gale_x{a=b}`} {
		if _, err := scanPromQL(bad); err == nil {
			t.Errorf("scanPromQL(%q): no error", bad)
		}
	}
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"` // collapsed rows
	Targets []struct {
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
}

var (
	labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)
	legendRE      = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
)

// TestDashboard checks examples/grafana/gale-dashboard.json against a
// real scrape of the handler: every metric its queries and variables use
// exists, with every label they match, group or show; and it has the
// panels and variables it promises.
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}

	// what a scrape has: series names (summaries' _sum and _count too)
	// and the labels of each
	fams, _ := scrape(t, metrics.Handler("w1", "dev", metrics.SourceFunc(fakeStats)))
	labelsOf := map[string][]string{}
	allLabels := slices.Clone(targetLabels)
	for name, f := range fams {
		var ls []string
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(ls, l.GetName()) {
					ls = append(ls, l.GetName())
				}
			}
		}
		ls = append(ls, targetLabels...)
		allLabels = append(allLabels, ls...)
		labelsOf[name] = ls
		if f.GetType() == dto.MetricType_SUMMARY {
			labelsOf[name] = append(ls, "quantile")
			labelsOf[name+"_sum"], labelsOf[name+"_count"] = ls, ls
		}
	}

	check := func(where, expr string) (used []string) {
		q, err := scanPromQL(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return nil
		}
		if len(q.selectors) == 0 {
			t.Errorf("%s: no metric in %q", where, expr)
		}
		for _, s := range q.selectors {
			ls, ok := labelsOf[s.metric]
			if !ok {
				t.Errorf("%s: metric %s is not in a scrape of the handler", where, s.metric)
				continue
			}
			used = append(used, s.metric)
			for _, l := range s.labels {
				if !slices.Contains(ls, l) {
					t.Errorf("%s: %s has no label %s", where, s.metric, l)
				}
			}
		}
		for _, l := range q.grouping {
			if !slices.Contains(allLabels, l) {
				t.Errorf("%s: no metric has the label %s it groups by", where, l)
			}
		}
		return used
	}

	used := map[string]bool{}
	var titles []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			titles = append(titles, p.Title)
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for i, tg := range p.Targets {
				where := fmt.Sprintf("panel %q target %d", p.Title, i)
				for _, m := range check(where, tg.Expr) {
					used[m] = true
				}
				for _, m := range legendRE.FindAllStringSubmatch(tg.LegendFormat, -1) {
					if !slices.Contains(allLabels, m[1]) {
						t.Errorf("%s: legend shows {{%s}}, a label no metric has", where, m[1])
					}
				}
			}
		}
	}
	walk(d.Panels)

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Type != "query" {
			continue
		}
		m := labelValuesRE.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(metric, label)", v.Name, v.Definition)
			continue
		}
		for _, metric := range check("variable "+v.Name, m[1]) {
			if !slices.Contains(labelsOf[metric], m[2]) {
				t.Errorf("variable %s: %s has no label %s", v.Name, metric, m[2])
			}
		}
	}

	for _, v := range []string{"topology", "component"} {
		if !vars[v] {
			t.Errorf("no variable %s", v)
		}
	}
	for _, want := range []string{"Spout throughput", "Acked and failed trees", "Complete latency", "Capacity per bolt",
		"Kafka lag per partition", "Sink write latency", "Sink bytes written", "Worker CPU", "Worker memory"} {
		if !slices.Contains(titles, want) {
			t.Errorf("no panel %q (panels: %q)", want, titles)
		}
	}
	for _, m := range []string{"gale_task_emitted_total", "gale_task_acked_total", "gale_task_failed_total",
		"gale_task_complete_latency_seconds_sum", "gale_task_busy_seconds_total", "gale_kafka_partition_lag",
		"gale_sink_write_seconds_total", "gale_sink_bytes_total", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if !used[m] {
			t.Errorf("the dashboard does not use %s", m)
		}
	}
}
