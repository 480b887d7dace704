package schedule

import (
	"math/rand/v2"
	"testing"
)

// checkOptimal verifies the optimality certificate of a solved flow:
// capacities and conservation hold, no augmenting s-t path is left (the
// flow is maximum), and the residual graph has no negative cycle (the
// flow is of minimum cost for its value) — checked independently of the
// solver's potentials with Bellman-Ford.
func checkOptimal(t *testing.T, g *flowGraph, s, sink, value int) {
	t.Helper()
	n := len(g.adj)
	excess := make([]int, n)
	for i := range g.edges {
		e := &g.edges[i]
		if e.flow < 0 || e.flow > e.cap {
			t.Fatalf("edge %d: flow %d outside [0,%d]", i, e.flow, e.cap)
		}
		excess[e.to] += int(e.flow)
		excess[e.from] -= int(e.flow)
	}
	for v := range excess {
		want := 0
		switch v {
		case s:
			want = -value
		case sink:
			want = value
		}
		if excess[v] != want {
			t.Fatalf("node %d: excess %d, want %d", v, excess[v], want)
		}
	}
	// maximum: the sink is unreachable in the residual graph
	seen := make([]bool, n)
	seen[s] = true
	queue := []int{s}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, id := range g.adj[u] {
			if r, _ := g.residual(id); r > 0 && !seen[g.head(id)] {
				seen[g.head(id)] = true
				queue = append(queue, int(g.head(id)))
			}
		}
	}
	if seen[sink] {
		t.Fatalf("flow %d is not maximum: the sink is reachable", value)
	}
	// minimum cost: Bellman-Ford from a virtual root finds no negative cycle
	dist := make([]cost, n)
	for round := 0; ; round++ {
		changed := false
		for u := range n {
			for _, id := range g.adj[u] {
				r, c := g.residual(id)
				if r == 0 {
					continue
				}
				v := g.head(id)
				if nd := dist[u].add(c); nd.cmp(dist[v]) < 0 {
					dist[v] = nd
					changed = true
				}
			}
		}
		if !changed {
			break
		}
		if round > n {
			t.Fatalf("the residual graph has a negative cycle: the flow is not of minimum cost")
		}
	}
	// and the solver's own potentials certify it too
	for u := range n {
		for _, id := range g.adj[u] {
			r, c := g.residual(id)
			if r > 0 && c.add(g.pot[u]).sub(g.pot[g.head(id)]).cmp(cost{}) < 0 {
				t.Fatalf("arc %d: negative reduced cost", id)
			}
		}
	}
}

func TestFlow_RandomGraphsOptimal(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for iter := range 400 {
		n := 2 + rng.IntN(9)
		if iter%10 == 0 {
			n = 2 + rng.IntN(60) // a few larger graphs
		}
		g := newFlowGraph(n)
		arcs := rng.IntN(4 * n)
		for range arcs {
			u, v := rng.IntN(n), rng.IntN(n)
			if u == v {
				continue
			}
			var lin cost
			for k := range lin {
				if rng.IntN(3) == 0 {
					lin[k] = int64(rng.IntN(4))
				}
			}
			quad, step := int8(noTerm), int8(noTerm)
			if rng.IntN(2) == 0 {
				quad = int8(rng.IntN(nCost))
			}
			if rng.IntN(2) == 0 {
				step = int8(rng.IntN(nCost))
			}
			g.addArc(u, v, rng.IntN(6), lin, quad, step, rng.IntN(4))
		}
		s, sink := 0, n-1
		v := g.run(s, sink)
		checkOptimal(t, g, s, sink, v)
		if t.Failed() {
			t.Fatalf("iteration %d (seed %d)", iter, seed)
		}
	}
}

func TestFlow_Bipartite(t *testing.T) {
	// 3 sources of 4, 5, 1 units over 3 workers of capacity 4 with a
	// quadratic cost: the totals must come out 4, 3, 3 in some order.
	g := newFlowGraph(8)
	for i, n := range []int{4, 5, 1} {
		g.addArc(0, 1+i, n, cost{}, noTerm, noTerm, 0)
		for w := range 3 {
			g.addArc(1+i, 4+w, n, cost{}, 1, noTerm, 0)
		}
	}
	var sinkArcs []int
	for w := range 3 {
		sinkArcs = append(sinkArcs, g.addArc(4+w, 7, 4, cost{}, 0, noTerm, 0))
	}
	if v := g.run(0, 7); v != 10 {
		t.Fatalf("flow %d, want 10", v)
	}
	checkOptimal(t, g, 0, 7, 10)
	hist := map[int]int{}
	for _, id := range sinkArcs {
		hist[g.flowOn(id)]++
	}
	if hist[4] != 1 || hist[3] != 2 {
		t.Fatalf("worker totals %v, want one 4 and two 3", hist)
	}
}
