package schedule

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// Property tests on random inputs. Each test logs its seed; set
// SCHEDULE_SEED to replay one.

func testRNG(t *testing.T) *rand.Rand {
	t.Helper()
	seed := rand.Uint64()
	if s := os.Getenv("SCHEDULE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SCHEDULE_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (SCHEDULE_SEED=%d to replay)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0x5eed))
}

// genOptions shape a random input.
type genOptions struct {
	maxWorkers, maxTopos, maxComps, maxPar int
	limits                                 bool // some topologies get a worker limit
	slots                                  bool // some workers get a slot limit
}

func genInput(rng *rand.Rand, o genOptions) (Config, Input) {
	var cfg Config
	var in Input
	nw := 1 + rng.IntN(o.maxWorkers)
	for i := range nw {
		w := Worker{Name: fmt.Sprintf("w%02d-%x", i, rng.Uint32()%4096)}
		if o.slots && rng.IntN(2) == 0 {
			w.Slots = 1 + rng.IntN(12)
		}
		in.Workers = append(in.Workers, w)
	}
	if o.slots && rng.IntN(3) == 0 {
		cfg.DefaultSlots = 1 + rng.IntN(10)
	}
	nt := 1 + rng.IntN(o.maxTopos)
	for i := range nt {
		tp := Topology{Name: fmt.Sprintf("t%d-%x", i, rng.Uint32()%4096)}
		if o.limits && rng.IntN(2) == 0 {
			tp.Workers = 1 + rng.IntN(nw+1)
		}
		nc := 1 + rng.IntN(o.maxComps)
		for c := range nc {
			kind := KindBolt
			if c == 0 {
				kind = KindSpout
			}
			tp.Components = append(tp.Components, Component{ID: fmt.Sprintf("c%d", c), Kind: kind, Parallelism: rng.IntN(o.maxPar + 1),
				Elastic: kind == KindBolt && rng.IntN(3) == 0})
		}
		if rng.IntN(2) == 0 {
			tp.Components = append(tp.Components, Component{ID: AckerID, Kind: KindAcker, Parallelism: rng.IntN(4)})
		}
		in.Topologies = append(in.Topologies, tp)
	}
	return cfg, in
}

var (
	ampleGen   = genOptions{maxWorkers: 12, maxTopos: 5, maxComps: 5, maxPar: 9}
	limitedGen = genOptions{maxWorkers: 12, maxTopos: 5, maxComps: 5, maxPar: 9, limits: true}
	slottedGen = genOptions{maxWorkers: 12, maxTopos: 5, maxComps: 5, maxPar: 9, limits: true, slots: true}
)

// shuffled returns in with every slice permuted (deep copies).
func shuffled(rng *rand.Rand, in Input) Input {
	out := Input{Workers: slices.Clone(in.Workers), Previous: in.Previous}
	rng.Shuffle(len(out.Workers), func(i, j int) { out.Workers[i], out.Workers[j] = out.Workers[j], out.Workers[i] })
	for _, tp := range in.Topologies {
		tp.Components = slices.Clone(tp.Components)
		rng.Shuffle(len(tp.Components), func(i, j int) { tp.Components[i], tp.Components[j] = tp.Components[j], tp.Components[i] })
		out.Topologies = append(out.Topologies, tp)
	}
	rng.Shuffle(len(out.Topologies), func(i, j int) { out.Topologies[i], out.Topologies[j] = out.Topologies[j], out.Topologies[i] })
	if in.Previous != nil {
		prev := &Assignment{Workers: slices.Clone(in.Previous.Workers), Tasks: slices.Clone(in.Previous.Tasks)}
		rng.Shuffle(len(prev.Tasks), func(i, j int) { prev.Tasks[i], prev.Tasks[j] = prev.Tasks[j], prev.Tasks[i] })
		for _, rs := range in.Previous.Restricted {
			rs.Workers = slices.Clone(rs.Workers)
			rng.Shuffle(len(rs.Workers), func(i, j int) { rs.Workers[i], rs.Workers[j] = rs.Workers[j], rs.Workers[i] })
			prev.Restricted = append(prev.Restricted, rs)
		}
		rng.Shuffle(len(prev.Restricted), func(i, j int) {
			prev.Restricted[i], prev.Restricted[j] = prev.Restricted[j], prev.Restricted[i]
		})
		out.Previous = prev
	}
	return out
}

func TestCompute_PropertyDeterministic(t *testing.T) {
	rng := testRNG(t)
	for iter := range 200 {
		cfg, in := genInput(rng, slottedGen)
		a := mustCompute(t, cfg, in)
		// with a previous assignment from a perturbed input, too
		cfg2, in2 := cfg, in
		in2.Workers = in.Workers[:len(in.Workers)-rng.IntN(len(in.Workers))]
		in2.Previous = a
		b := mustCompute(t, cfg2, in2)
		for range 3 {
			if a2 := mustCompute(t, cfg, shuffled(rng, in)); !reflect.DeepEqual(a, a2) {
				t.Fatalf("iteration %d: a permuted input gives another assignment:\n%v", iter, Diff(a, a2))
			}
			if b2 := mustCompute(t, cfg2, shuffled(rng, in2)); !reflect.DeepEqual(b, b2) {
				t.Fatalf("iteration %d (with previous): a permuted input gives another assignment:\n%v", iter, Diff(b, b2))
			}
			if a.Digest() != mustCompute(t, cfg, shuffled(rng, in)).Digest() {
				t.Fatalf("iteration %d: digests differ", iter)
			}
		}
	}
}

func TestCompute_PropertyValidAndBalanced(t *testing.T) {
	rng := testRNG(t)
	for _, tc := range []struct {
		name     string
		gen      genOptions
		balanced bool // exact bounds hold (no slot limit)
	}{
		{"ample", ampleGen, true},
		{"worker-limits", limitedGen, true},
		{"slot-limits", slottedGen, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unassigned, runs := 0, 0
			for iter := range 200 {
				cfg, in := genInput(rng, tc.gen)
				a := mustCompute(t, cfg, in)
				// and again from a previous assignment of another input
				cfgP, inP := genInput(rng, tc.gen)
				inP.Topologies = in.Topologies
				for i := range inP.Workers {
					inP.Workers[i].Name = "p-" + inP.Workers[i].Name // no clash with in's
				}
				inP.Workers = append(inP.Workers, in.Workers[:rng.IntN(len(in.Workers))]...)
				prev := mustCompute(t, cfgP, inP)
				in2 := in
				in2.Previous = prev
				b := mustCompute(t, cfg, in2)
				for _, x := range []struct {
					a     *Assignment
					fresh bool
				}{{a, true}, {b, false}} {
					runs++
					unassigned += len(x.a.Unassigned())
					if err := checkValid(cfg, in, x.a); err != nil {
						t.Fatalf("iteration %d (fresh %v): %v", iter, x.fresh, err)
					}
					if err := checkLocallyBalanced(cfg, in, x.a); err != nil {
						t.Fatalf("iteration %d (fresh %v): %v", iter, x.fresh, err)
					}
					if tc.balanced {
						if err := checkBalanced(in, x.a, x.fresh, true); err != nil {
							t.Fatalf("iteration %d (fresh %v): %v", iter, x.fresh, err)
						}
					}
				}
			}
			t.Logf("%d assignments, %d tasks unassigned in all", runs, unassigned)
			if tc.balanced && unassigned != 0 {
				t.Fatalf("%d tasks unassigned without slot limits", unassigned)
			}
		})
	}
}

func TestCompute_PropertyStable(t *testing.T) {
	rng := testRNG(t)
	for iter := range 300 {
		cfg, in := genInput(rng, slottedGen)
		// start from a previous assignment of a different membership
		inP := in
		inP.Workers = in.Workers[:1+rng.IntN(len(in.Workers))]
		in.Previous = mustCompute(t, cfg, inP)
		a := mustCompute(t, cfg, in)
		in.Previous = a
		b := mustCompute(t, cfg, in)
		if d := Diff(a, b); len(d) != 0 {
			t.Fatalf("iteration %d: recomputing moved %d tasks: %v", iter, len(d), d)
		}
	}
}

// moveStats accumulates moved tasks against the ideal.
type moveStats struct {
	cases, tasks, moved, ideal, extra, badCases int
	fracSum, idealFracSum, shareSum             float64
	share                                       string // what shareSum sums
}

func (s *moveStats) String() string {
	if s.cases == 0 {
		return "no case"
	}
	return fmt.Sprintf("%d cases, %d tasks: moved %d, ideal %d (moved/ideal %.4f); "+
		"mean moved fraction %.4f vs ideal %.4f (mean %s %.4f); %d cases with %d extra moves",
		s.cases, s.tasks, s.moved, s.ideal, float64(s.moved)/float64(max(1, s.ideal)),
		s.fracSum/float64(s.cases), s.idealFracSum/float64(s.cases), s.share, s.shareSum/float64(s.cases),
		s.badCases, s.extra)
}

func (s *moveStats) add(total, moved, ideal int, share float64) {
	s.shareSum += share
	s.cases++
	s.tasks += total
	s.moved += moved
	s.ideal += ideal
	if moved > ideal {
		s.badCases++
		s.extra += moved - ideal
	}
	if total > 0 {
		s.fracSum += float64(moved) / float64(total)
		s.idealFracSum += float64(ideal) / float64(total)
	}
}

// TestCompute_PropertyMinimalMoves: a worker joins or leaves; the tasks
// that move are measured against the ideal. On leave the ideal is the
// leaver's tasks (they must all move); on join it is the tasks the
// newcomer takes over from the others (its fair share; ideally none moves
// between old workers). Balance ranks before moves, and now and then the
// rule "totals differ by at most 1" forces a move between two workers
// that stay (see the package doc); such extra moves are counted and
// reported, and must stay rare. With slot limits a join may also place
// tasks that were unassigned, and balance under slot limits forces more.
func TestCompute_PropertyMinimalMoves(t *testing.T) {
	rng := testRNG(t)
	big := genOptions{maxWorkers: 16, maxTopos: 6, maxComps: 6, maxPar: 12}
	for _, tc := range []struct {
		name     string
		gen      genOptions
		maxExtra float64 // bound on (moved-ideal)/ideal over all cases
	}{
		{"ample", big, 0.02},
		{"worker-limits", limitedGen, 0.05},
		{"slot-limits", slottedGen, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			join, leave := moveStats{share: "1/(n+1)"}, moveStats{share: "1/n"}
			for iter := range 300 {
				cfg, in := genInput(rng, tc.gen)
				base := mustCompute(t, cfg, in)
				total := len(base.Tasks) - len(base.Unassigned())

				// join
				newcomer := Worker{Name: fmt.Sprintf("new-%d", iter)}
				if tc.gen.slots && rng.IntN(2) == 0 {
					newcomer.Slots = 1 + rng.IntN(12)
				}
				inJ := in
				inJ.Workers = append(slices.Clone(in.Workers), newcomer)
				inJ.Previous = base
				aj := mustCompute(t, cfg, inJ)
				if err := checkValid(cfg, inJ, aj); err != nil {
					t.Fatalf("iteration %d: join: %v", iter, err)
				}
				moved, ideal := 0, aj.Load()[newcomer.Name]
				for _, m := range Diff(base, aj) {
					if m.From != "" { // a task placed before that moved (or got unassigned)
						moved++
					} else {
						ideal-- // a task placed for the first time, on the newcomer
					}
				}
				join.add(total, moved, ideal, 1/float64(len(inJ.Workers)))
				if !tc.gen.slots && len(aj.Restricted) == 0 {
					n := len(inJ.Workers)
					if got := aj.Load()[newcomer.Name]; got < total/n || got > (total+n-1)/n {
						t.Fatalf("iteration %d: join: the newcomer got %d of %d tasks on %d workers", iter, got, total, n)
					}
				}

				// leave
				gone := in.Workers[rng.IntN(len(in.Workers))].Name
				inL := in
				inL.Workers = slices.DeleteFunc(slices.Clone(in.Workers), func(w Worker) bool { return w.Name == gone })
				inL.Previous = base
				al := mustCompute(t, cfg, inL)
				if err := checkValid(cfg, inL, al); err != nil {
					t.Fatalf("iteration %d: leave: %v", iter, err)
				}
				moved, ideal = 0, base.Load()[gone]
				leaverMoved := 0
				for _, m := range Diff(base, al) {
					if m.From != "" {
						moved++
					}
					if m.From == gone {
						leaverMoved++
					}
				}
				if leaverMoved != ideal {
					t.Fatalf("iteration %d: leave: %d of the leaver's %d tasks moved", iter, leaverMoved, ideal)
				}
				leave.add(total, moved, ideal, 1/float64(len(in.Workers)))
				if !tc.gen.slots {
					for _, x := range []struct {
						in Input
						a  *Assignment
					}{{inJ, aj}, {inL, al}} {
						if err := checkBalanced(x.in, x.a, false, true); err != nil {
							t.Fatalf("iteration %d: %v", iter, err)
						}
					}
				}
			}
			t.Logf("join:  %v", &join)
			t.Logf("leave: %v", &leave)
			for _, s := range []*moveStats{&join, &leave} {
				if r := float64(s.extra) / float64(max(1, s.ideal)); r > tc.maxExtra {
					t.Fatalf("extra moves are %.1f%% of the ideal, more than %.1f%%", 100*r, 100*tc.maxExtra)
				}
			}
		})
	}
}

// TestCompute_PropertyRollingChanges applies a random sequence of joins,
// leaves and parallelism changes, each time from the previous assignment,
// and checks the rules at every step.
func TestCompute_PropertyRollingChanges(t *testing.T) {
	rng := testRNG(t)
	for seq := range 40 {
		cfg, in := genInput(rng, slottedGen)
		var prev *Assignment
		next := 0
		for step := range 25 {
			switch r := rng.IntN(4); {
			case r == 0 || len(in.Workers) == 0:
				w := Worker{Name: fmt.Sprintf("j%d", next)}
				next++
				if rng.IntN(2) == 0 {
					w.Slots = 1 + rng.IntN(12)
				}
				in.Workers = append(slices.Clone(in.Workers), w)
			case r == 1:
				i := rng.IntN(len(in.Workers))
				in.Workers = slices.Delete(slices.Clone(in.Workers), i, i+1)
			default:
				ti := rng.IntN(len(in.Topologies))
				tp := in.Topologies[ti]
				tp.Components = slices.Clone(tp.Components)
				ci := rng.IntN(len(tp.Components))
				tp.Components[ci].Parallelism = rng.IntN(10)
				in.Topologies = slices.Clone(in.Topologies)
				in.Topologies[ti] = tp
			}
			in.Previous = prev
			a := mustCompute(t, cfg, in)
			if err := checkValid(cfg, in, a); err != nil {
				t.Fatalf("sequence %d step %d: %v", seq, step, err)
			}
			if err := checkLocallyBalanced(cfg, in, a); err != nil {
				t.Fatalf("sequence %d step %d: %v", seq, step, err)
			}
			prev = a
		}
	}
}
