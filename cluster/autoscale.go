package cluster

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/internal/autoscale"
	"github.com/gale-stream/gale/cluster/internal/membership"
	"github.com/gale-stream/gale/cluster/internal/monitor"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/topology"
	"github.com/prometheus/client_golang/prometheus"
)

// Autoscaling
//
// The leader looks at every active topology whose components have an
// "autoscale" policy every autoscaleEvery: from the monitor (the workers'
// reports) it takes each component's capacity over the last
// autoscaleSpan and, for spouts, the lag of their partitions in records
// and in seconds (lag / consume rate) and its trend; package
// cluster/internal/autoscale decides. A change is stored as the
// topology's pending Rescale, with its reason, and applied without a
// replay (rescale.go); the decision is kept in the topology's Scaling
// record, which describe shows. One change is in flight at a time per
// topology: none is decided while a Rescale waits or the tasks are
// moving.
//
// The cooldown is measured on the leader's own monotonic clock, never by
// comparing its clock with the time another worker stored: a new leader
// starts every component's cooldown when it takes over (a leader killed
// in the middle of a decision: its Rescale is applied by the next one,
// which then waits a cooldown before deciding anything).

// autoscaleEvery is how often the leader evaluates the policies.
const autoscaleEvery = 5 * time.Second

// autoscaleSpan is the recent load a decision looks at: the last points
// of the monitor's 10-minute series (5 s steps), never from before the
// topology's last change (of any of its components) plus
// autoscaleSettle: the pause of the change and the restart of tasks would
// read as idle bolts and a growing lag; a topology with less than
// autoscaleMinSpan of such data is not judged.
const (
	autoscaleSpan    = 30 * time.Second
	autoscaleSettle  = 10 * time.Second // two series steps: the first after a restart can spike
	autoscaleMinSpan = 10 * time.Second
)

// autoscaler is the leader's memory between evaluations.
type autoscaler struct {
	next    time.Time            // monotonic: the next evaluation
	changed map[string]time.Time // topology/component -> its last change, monotonic (or the takeover)
	lag     map[string]lagPoint  // topology/component -> the last lag seen
	leading bool
	metrics autoscaleMetrics
}

// autoscaleMetrics are the leader's autoscaling series on /metrics:
// gale_autoscale_desired_parallelism{topology,component},
// gale_autoscale_decisions_total{topology,component,direction} and
// gale_cluster_workers_wanted (for a Kubernetes HPA or KEDA to scale the
// workers on: the workers the current ones' slots say the desired tasks
// need). A worker that does not lead exports none of them.
type autoscaleMetrics struct {
	mu        sync.Mutex
	desired   map[[2]string]int
	decisions map[[3]string]float64
	wanted    int // 0: not leading
}

var (
	descDesired = prometheus.NewDesc("gale_autoscale_desired_parallelism",
		"The parallelism the autoscaler wants for a component with a policy (the leader's view).", []string{"topology", "component"}, nil)
	descDecisions = prometheus.NewDesc("gale_autoscale_decisions_total",
		"Decisions of the autoscaler since this worker leads: direction up, down, or none (a change a bound refused).",
		[]string{"topology", "component", "direction"}, nil)
	descWanted = prometheus.NewDesc("gale_cluster_workers_wanted",
		"Workers the cluster needs for the tasks the autoscaler wants, at the live workers' mean slots (the live count when slots are unlimited).", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *autoscaleMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDesired
	ch <- descDecisions
	ch <- descWanted
}

// Collect implements prometheus.Collector.
func (m *autoscaleMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.wanted == 0 {
		return
	}
	for k, v := range m.desired {
		ch <- prometheus.MustNewConstMetric(descDesired, prometheus.GaugeValue, float64(v), k[0], k[1])
	}
	for k, v := range m.decisions {
		ch <- prometheus.MustNewConstMetric(descDecisions, prometheus.CounterValue, v, k[0], k[1], k[2])
	}
	ch <- prometheus.MustNewConstMetric(descWanted, prometheus.GaugeValue, float64(m.wanted))
}

// observe records a decision.
func (m *autoscaleMetrics) decided(topology, component, direction string, to int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.desired == nil {
		m.desired, m.decisions = map[[2]string]int{}, map[[3]string]float64{}
	}
	m.desired[[2]string{topology, component}] = to
	m.decisions[[3]string{topology, component, direction}]++
}

// update sets the desired parallelism of components that did not change
// and the workers wanted; leading false clears everything.
func (m *autoscaleMetrics) update(leading bool, desired map[[2]string]int, wanted int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !leading {
		m.desired, m.decisions, m.wanted = nil, nil, 0
		return
	}
	if m.desired == nil {
		m.desired, m.decisions = map[[2]string]int{}, map[[3]string]float64{}
	}
	for k, v := range desired {
		m.desired[k] = v
	}
	m.wanted = max(wanted, 1)
}

type lagPoint struct {
	records int64
	seconds float64 // the lag in seconds then
	at      time.Time
}

// autoscale evaluates the policies of tops (every autoscaleEvery); it
// runs on the leader, after the assignments were stored.
func (w *Worker) autoscale(ctx context.Context, tops []store.Topology, decoded map[string]*topology.Topology,
	stored map[string]store.Assignment, members []membership.Member) {
	as := &w.scaler
	now := time.Now()
	if !as.leading {
		// taking over: every cooldown starts now
		as.leading, as.changed, as.lag = true, map[string]time.Time{}, map[string]lagPoint{}
		as.next = now.Add(autoscaleEvery)
		return
	}
	if now.Before(as.next) {
		return
	}
	as.next = now.Add(autoscaleEvery)
	free := freeSlots(members, stored)
	desired := map[[2]string]int{}
	defer func() { as.metrics.update(true, desired, workersWanted(members, decoded, desired)) }()
	for _, t := range tops {
		topo := decoded[t.Name]
		if topo == nil || t.Status != store.StatusActive || t.Rescale != nil || stored[t.Name].Draining ||
			(t.Scaling != nil && t.Scaling.Paused) || !hasPolicy(topo) {
			continue
		}
		w.autoscaleTopology(ctx, t, topo, stored[t.Name], free, now, desired)
	}
}

// changedNow restarts the cooldown of components of topology name: their
// parallelism just changed (a rescale applied).
func (as *autoscaler) changedNow(name string, components []string) {
	if !as.leading {
		return
	}
	for _, c := range components {
		as.changed[name+"/"+c] = time.Now()
	}
}

// stopAutoscaling forgets the autoscaler's memory when this worker stops
// leading.
func (w *Worker) stopAutoscaling() {
	if w.scaler.leading {
		w.scaler.leading = false
		w.scaler.metrics.update(false, nil, 0)
	}
}

// workersWanted is how many workers the tasks want: the tasks of every
// topology (with the changes the autoscaler wants) over the live workers'
// mean slots; the live count when a worker has no slot limit.
func workersWanted(members []membership.Member, decoded map[string]*topology.Topology, desired map[[2]string]int) int {
	live, slots := 0, 0
	for _, m := range members {
		if m.Meta.Leaving || m.Meta.Isolated {
			continue
		}
		live++
		if m.Meta.Slots == 0 {
			slots = -1
		} else if slots >= 0 {
			slots += m.Meta.Slots
		}
	}
	if slots <= 0 || live == 0 {
		return live
	}
	tasks := 0
	for name, topo := range decoded {
		for _, c := range monitor.Components(topo) {
			if n, ok := desired[[2]string{name, c.ID}]; ok {
				tasks += n
			} else {
				tasks += c.Parallelism
			}
		}
		tasks += topo.Settings.Ackers
	}
	per := float64(slots) / float64(live)
	return int(math.Ceil(float64(tasks) / per))
}

func hasPolicy(topo *topology.Topology) bool {
	for _, c := range monitor.Components(topo) {
		if c.Autoscale != nil {
			return true
		}
	}
	return false
}

// freeSlots is how many more tasks the live workers can take (MaxInt
// when one has no limit).
func freeSlots(members []membership.Member, stored map[string]store.Assignment) int {
	total, used := 0, map[string]int{}
	for _, a := range stored {
		for _, wk := range a.Tasks {
			used[wk]++
		}
	}
	for _, m := range members {
		if m.Meta.Leaving || m.Meta.Isolated {
			continue
		}
		if m.Meta.Slots == 0 {
			return math.MaxInt
		}
		total += max(0, m.Meta.Slots-used[m.Name])
	}
	return total
}

// autoscaleTopology decides for the components of t with a policy and
// stores a Rescale when one changes.
func (w *Worker) autoscaleTopology(ctx context.Context, t store.Topology, topo *topology.Topology, a store.Assignment,
	free int, now time.Time, desired map[[2]string]int) {
	// one round of the workers' reports, with their 10-minute series, for
	// both the description and the series (the topology is decoded and its
	// assignment read already)
	reports := w.gather(ctx, t.Name, "10m")
	d := monitor.Describe(topo, summary(t), ownerOf(topo, a), reports)
	series := monitor.BuildSeries(topo, "10m", reports)
	as := &w.scaler
	// the load is read only after the topology's last change settled: a
	// change of any component pauses every spout of the topology until
	// its trees complete, and a reading across it says nothing of the
	// load (a bolt looks idle, a spout's lag grows)
	byID := map[string]*topology.Component{}
	last := time.Time{}
	for _, c := range monitor.Components(topo) {
		byID[c.ID] = c
		key := t.Name + "/" + c.ID
		if _, ok := as.changed[key]; !ok {
			as.changed[key] = now // (a takeover: every cooldown starts)
		}
		if as.changed[key].After(last) {
			last = as.changed[key]
		}
	}
	span := min(autoscaleSpan, now.Sub(last)-autoscaleSettle)
	if span < autoscaleMinSpan {
		return // too soon after a change (or the takeover) to judge
	}
	changes := map[string]int{}
	var decisions []store.ScalingDecision
	// the bolts' load of the last two steps: what holds a spout's lag
	// back now
	busy := overTarget(byID, d, series, autoscaleMinSpan)
	for _, comp := range d.Components {
		c := byID[comp.ID]
		if c == nil || c.Autoscale == nil {
			continue
		}
		key := t.Name + "/" + comp.ID
		prevLag := as.lag[key]
		since := as.changed[key]
		o, ok := observe(comp, c, series, span, prevLag, now)
		if o.Spout {
			// the trend's next reference
			as.lag[key] = lagPoint{records: o.LagRecords, seconds: o.LagSeconds, at: now}
		}
		if !ok {
			continue
		}
		if o.Spout {
			o.Bottleneck = bottleneck(topo, comp.ID, busy)
			S := c.Autoscale.WithDefaults(topology.KindSpout).ScaleUpLagSeconds
			o.LagNew = o.LagSeconds > S && !(prevLag.seconds > S)
		}
		dec := autoscale.Decide(*c.Autoscale, o, now.Sub(since), free)
		w.log.Debug("autoscale: observed", "topology", t.Name, "component", comp.ID, "observation", fmt.Sprintf("%+v", o),
			"since_change", now.Sub(since).Round(time.Second), "decision", fmt.Sprintf("%+v", dec))
		// what it would take with room for it: the workers wanted
		desired[[2]string{t.Name, comp.ID}] = autoscale.Decide(*c.Autoscale, o, now.Sub(since), math.MaxInt).Parallelism
		switch {
		case dec.Parallelism != o.Parallelism:
			changes[comp.ID] = dec.Parallelism
			if free != math.MaxInt { // (no slot limit: MaxInt, which a scale-down would overflow)
				free -= dec.Parallelism - o.Parallelism
			}
			decisions = append(decisions, store.ScalingDecision{At: now.UTC(), Component: comp.ID, From: o.Parallelism,
				To: dec.Parallelism, Direction: dec.Direction, Reason: dec.Reason, Limited: dec.Limited})
		case dec.Limited != "":
			// a change a bound refused ("at max 8", "slots: 0 free"):
			// recorded (once while it repeats), so that people see why
			decisions = append(decisions, store.ScalingDecision{At: now.UTC(), Component: comp.ID, From: o.Parallelism,
				To: o.Parallelism, Direction: "none", Reason: dec.Reason, Limited: dec.Limited})
		}
	}
	if len(decisions) == 0 {
		return
	}
	err := w.update(ctx, t.Name, func(cur *store.Topology) error {
		if cur.Rescale != nil && len(changes) > 0 {
			return errRescalePending
		}
		if cur.Scaling == nil {
			cur.Scaling = &store.Scaling{}
		}
		if cur.Scaling.Paused {
			return errAutoscalePaused
		}
		for _, dec := range decisions {
			if dec.Direction == "none" && repeats(cur.Scaling.Decisions, dec) {
				continue // the same refusal as last time: recorded once
			}
			cur.Scaling.Record(dec)
			if dec.To != dec.From {
				if cur.Scaling.LastChange == nil {
					cur.Scaling.LastChange = map[string]time.Time{}
				}
				cur.Scaling.LastChange[dec.Component] = dec.At
			}
		}
		if len(changes) > 0 {
			cur.Rescale = &store.Rescale{Parallelism: changes, Reason: "autoscale", RequestedAt: now.UTC()}
		}
		return nil
	})
	if err != nil {
		if err != errRescalePending && err != errAutoscalePaused {
			w.log.Warn("cannot store the autoscaler's decision", "topology", t.Name, "err", err)
		}
		return
	}
	for _, dec := range decisions {
		as.metrics.decided(t.Name, dec.Component, dec.Direction, dec.To)
		if dec.To != dec.From {
			// (its cooldown starts again when the change is applied:
			// rescaleStep calls changedNow)
			as.changed[t.Name+"/"+dec.Component] = now
			w.log.Info("autoscale", "topology", t.Name, "component", dec.Component, "from", dec.From, "to", dec.To,
				"reason", dec.Reason, "limited", dec.Limited)
		} else {
			w.log.Info("autoscale: cannot change", "topology", t.Name, "component", dec.Component, "reason", dec.Reason,
				"limited", dec.Limited)
		}
	}
}

// autoscaleState is what describe shows of the autoscaler (nil when no
// component has a policy).
func autoscaleState(topo *topology.Topology, s *store.Scaling) *api.Autoscale {
	if !hasPolicy(topo) {
		return nil
	}
	out := &api.Autoscale{Policies: map[string]api.AutoscalePolicy{}}
	for _, c := range monitor.Components(topo) {
		if p := c.Autoscale; p != nil {
			out.Policies[c.ID] = api.AutoscalePolicy{Min: p.Min, Max: p.Max, TargetCapacity: p.TargetCapacity,
				ScaleUpLagSeconds: p.ScaleUpLagSeconds, CooldownSeconds: time.Duration(p.Cooldown).Seconds(), Parallelism: c.Parallelism}
		}
	}
	if s != nil {
		out.Paused = s.Paused
		for _, d := range s.Decisions {
			out.Decisions = append(out.Decisions, api.AutoscaleDecision{At: d.At, Component: d.Component, From: d.From, To: d.To,
				Direction: d.Direction, Reason: d.Reason, Limited: d.Limited})
		}
	}
	return out
}

var (
	errRescalePending  = fmt.Errorf("a rescale is pending")
	errAutoscalePaused = fmt.Errorf("autoscaling is paused")
)

// repeats reports whether d says what the component's last decision said.
func repeats(ds []store.ScalingDecision, d store.ScalingDecision) bool {
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Component == d.Component {
			return ds[i].Direction == d.Direction && ds[i].Limited == d.Limited && ds[i].From == d.From
		}
	}
	return false
}

// observe builds the autoscaler's view of component comp (c in the
// topology) from its description, the 10-minute series and the lag seen
// at the previous evaluation.
// ok is false when the series has fewer than two complete steps of it in
// the span: too little to judge.
func observe(comp api.Component, c *topology.Component, series *api.Series, span time.Duration, prev lagPoint,
	now time.Time) (o autoscale.Observation, ok bool) {
	o = autoscale.Observation{Parallelism: max(1, len(comp.Tasks)), Spout: comp.Kind == "spout"}
	if len(comp.Tasks) == 0 {
		o.Parallelism = max(1, c.Parallelism)
	}
	// capacity: busy time per second over the span, per task. The
	// newest step is left out: the workers sample on their own clocks, so
	// it may hold some workers' share only.
	for _, cs := range series.Components {
		if cs.ID != comp.ID || len(cs.Points) < 2 {
			continue
		}
		pts := cs.Points[:len(cs.Points)-1]
		n := max(1, int(span.Seconds()/max(series.StepSeconds, 1)))
		pts = pts[max(0, len(pts)-n):]
		if len(pts) < 2 {
			break
		}
		var busy, throttled float64
		for _, p := range pts {
			busy += p.Busy
		}
		// throttling over the last two steps only, as the lag it
		// qualifies is the latest
		recent := pts[len(pts)-2:]
		for _, p := range recent {
			throttled += p.Throttled
		}
		o.Capacity = busy / float64(len(pts)) / float64(o.Parallelism)
		o.Throttled = throttled / float64(len(recent)) / float64(o.Parallelism)
		ok = true
	}
	if o.Spout {
		o.Partitions = len(comp.Partitions)
		o.LagRecords = partitionLag(comp)
		// the consume rate in records: a spout's emitted tuples (its acked
		// count trees, a whole batch each for the Kafka spout)
		rate := comp.Rates.Emitted
		switch {
		case o.LagRecords == 0:
		case rate > 0:
			o.LagSeconds = float64(o.LagRecords) / rate
		default:
			o.LagSeconds = math.Inf(1)
		}
		if !prev.at.IsZero() {
			if dt := now.Sub(prev.at).Seconds(); dt > 0 {
				o.LagTrend = float64(o.LagRecords-prev.records) / dt
			}
		}
	}
	return o, ok
}

// bottleneckCapacity is the capacity over which a bolt without a policy
// holds its spouts back.
const bottleneckCapacity = 0.9

// overTarget is the capacity of each bolt (of byID, the topology's
// components by id) over its target (its policy's, else
// bottleneckCapacity) over the last span (of complete series steps).
func overTarget(byID map[string]*topology.Component, d *api.Topology, series *api.Series, span time.Duration) map[string]float64 {
	out := map[string]float64{}
	for _, comp := range d.Components {
		c := byID[comp.ID]
		if c == nil || c.Kind != topology.KindBolt {
			continue
		}
		o, ok := observe(comp, c, series, span, lagPoint{}, time.Time{})
		target := bottleneckCapacity
		if c.Autoscale != nil {
			target = c.Autoscale.WithDefaults(topology.KindBolt).TargetCapacity
		}
		if ok && o.Capacity > target {
			out[c.ID] = o.Capacity
		}
	}
	return out
}

// bottleneck names a bolt downstream of spout over its target ("work at
// 0.98"), or "".
func bottleneck(topo *topology.Topology, spout string, busy map[string]float64) string {
	seen := map[string]bool{spout: true}
	for next := []string{spout}; len(next) > 0; {
		var more []string
		for _, b := range topo.Bolts {
			if seen[b.ID] {
				continue
			}
			for _, in := range b.Inputs {
				if slices.Contains(next, in.Component) {
					if capa, ok := busy[b.ID]; ok {
						return fmt.Sprintf("%s at %.2f", b.ID, capa)
					}
					seen[b.ID] = true
					more = append(more, b.ID)
					break
				}
			}
		}
		next = more
	}
	return ""
}

// partitionLag is the records a spout's partitions are behind, summed.
func partitionLag(comp api.Component) int64 {
	var lag int64
	for _, p := range comp.Partitions {
		lag += p.Lag
	}
	return lag
}
