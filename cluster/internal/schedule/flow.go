package schedule

// A small min-cost max-flow solver with convex arc costs and
// lexicographic cost vectors. The scheduler states its goals (place as
// many tasks as possible, balance per topology, balance overall, move as
// few tasks as possible, ...) as the components of a cost vector compared
// lexicographically, so a later goal never trades against an earlier one
// and no weights need tuning. Lexicographically ordered integer vectors
// form an ordered group, so shortest paths, potentials and the usual
// optimality theory of min-cost flows hold unchanged.
//
// The algorithm is the primal-dual method: Dijkstra with potentials finds
// the shortest augmenting distance, then a Dinic-style blocking flow
// pushes units along the zero-reduced-cost arcs, until the sink is
// unreachable. Every arc's marginal cost is non-decreasing in its flow
// (convex), which keeps the successive-shortest-path invariant: the flow
// is of minimum cost for its value at every step, and maximum at the end.
//
// Everything is deterministic: arcs are explored in insertion order, and
// the caller inserts them in a canonical order.

// nCost is the number of components of a cost vector.
const nCost = 5

// cost is a cost vector compared lexicographically, component 0 first.
type cost [nCost]int64

// The operations are unrolled by hand: they are the solver's inner loop.

func (a cost) add(b cost) cost {
	return cost{a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4]}
}

func (a cost) sub(b cost) cost {
	return cost{a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4]}
}

// addSub returns a + b - c.
func (a cost) addSub(b, c cost) cost {
	return cost{a[0] + b[0] - c[0], a[1] + b[1] - c[1], a[2] + b[2] - c[2], a[3] + b[3] - c[3], a[4] + b[4] - c[4]}
}

func (a cost) cmp(b cost) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// noTerm marks an absent convex or step term of an arc.
const noTerm = -1

// edge is an arc of the network with its flow. Each edge is visited in
// two directions: arc 2e is edge e forward (from -> to), arc 2e+1 is its
// reverse (to -> from, carrying back the flow). The marginal cost of the
// edge's (f+1)-th unit is
//
//	lin + (2f+1) in component quad + (f >= stepAt ? 1 : 0) in component step
//
// which is non-decreasing in f, as the algorithm requires.
type edge struct {
	from, to int32
	cap      int32
	flow     int32
	stepAt   int32 // units from this one on pay the step
	quad     int8  // component of the convex term, or noTerm
	step     int8  // component of the step term, or noTerm
	lin      cost
}

// flowGraph is a flow network under construction or solved. A graph may
// be reset and reused, which keeps its memory.
type flowGraph struct {
	adj   [][]int32 // arc ids by tail node, in insertion order
	edges []edge
	pot   []cost // node potentials; reduced costs of residual arcs are >= 0

	// scratch, reused across phases
	dist  []cost
	done  []bool
	level []int32
	iter  []int32
	heap  distHeap
	queue []int32
	path  []int32
}

func newFlowGraph(nodes int) *flowGraph {
	g := &flowGraph{}
	g.reset(nodes)
	return g
}

// reset empties the graph and gives it the number of nodes.
func (g *flowGraph) reset(nodes int) {
	if cap(g.adj) < nodes {
		g.adj = append(g.adj[:cap(g.adj)], make([][]int32, nodes-cap(g.adj))...)
	}
	g.adj = g.adj[:nodes]
	for i := range g.adj {
		g.adj[i] = g.adj[i][:0]
	}
	g.edges = g.edges[:0]
}

// addArc adds an edge u->v of capacity c and returns the id of its forward
// arc. quad and step name cost components or are noTerm.
func (g *flowGraph) addArc(u, v, c int, lin cost, quad, step int8, stepAt int) int {
	id := 2 * len(g.edges)
	g.edges = append(g.edges, edge{from: int32(u), to: int32(v), cap: int32(c),
		quad: quad, step: step, stepAt: int32(stepAt), lin: lin})
	g.adj[u] = append(g.adj[u], int32(id))
	g.adj[v] = append(g.adj[v], int32(id+1))
	return id
}

// flowOn returns the flow on the edge whose forward arc is id.
func (g *flowGraph) flowOn(id int) int { return int(g.edges[id>>1].flow) }

// marginal returns the cost of unit f+1 of edge e.
func marginal(e *edge, f int32) cost {
	c := e.lin
	if e.quad != noTerm {
		c[e.quad] += 2*int64(f) + 1
	}
	if e.step != noTerm && f >= e.stepAt {
		c[e.step]++
	}
	return c
}

// residual returns the residual capacity and cost of arc id.
func (g *flowGraph) residual(id int32) (int32, cost) {
	e := &g.edges[id>>1]
	if id&1 == 0 {
		if e.flow >= e.cap {
			return 0, cost{}
		}
		return e.cap - e.flow, marginal(e, e.flow)
	}
	if e.flow == 0 {
		return 0, cost{}
	}
	var zero cost
	return e.flow, zero.sub(marginal(e, e.flow-1))
}

// push moves one unit along arc id.
func (g *flowGraph) push(id int32) {
	if id&1 == 0 {
		g.edges[id>>1].flow++
	} else {
		g.edges[id>>1].flow--
	}
}

// head and tail return the nodes arc id enters and leaves.
func (g *flowGraph) head(id int32) int32 {
	if id&1 == 0 {
		return g.edges[id>>1].to
	}
	return g.edges[id>>1].from
}

func (g *flowGraph) tail(id int32) int32 {
	if id&1 == 0 {
		return g.edges[id>>1].from
	}
	return g.edges[id>>1].to
}

// run sends a maximum flow of minimum cost from s to t and returns its
// value. All marginal costs at zero flow must be non-negative (zero
// potentials are then valid).
func (g *flowGraph) run(s, t int) int {
	n := len(g.adj)
	g.pot = resize(g.pot, n)
	clear(g.pot)
	g.dist = resize(g.dist, n)
	g.done = resize(g.done, n)
	g.level = resize(g.level, n)
	g.iter = resize(g.iter, n)
	total := 0
	for g.dijkstra(int32(s), int32(t)) {
		for g.levels(int32(s), int32(t)) {
			for i := range g.iter {
				g.iter[i] = 0
			}
			for g.dfs(int32(s), int32(t)) {
				total++
			}
		}
	}
	return total
}

// dijkstra computes shortest reduced distances from s and moves the
// potentials by min(dist, dist[t]), which keeps every residual arc's
// reduced cost non-negative and makes the arcs of shortest s-t paths
// tight. It reports whether t is reachable.
func (g *flowGraph) dijkstra(s, t int32) bool {
	for i := range g.done {
		g.done[i] = false
	}
	h := &g.heap
	h.reset(len(g.adj))
	g.dist[s] = cost{}
	h.update(s, g.dist)
	for h.len() > 0 {
		u := h.pop(g.dist)
		g.done[u] = true
		if u == t {
			break
		}
		du := g.dist[u].add(g.pot[u])
		for _, id := range g.adj[u] {
			// the residual arc's cost, inline (see residual)
			e := &g.edges[id>>1]
			var v int32
			var nd cost
			if id&1 == 0 {
				if e.flow >= e.cap || g.done[e.to] {
					continue
				}
				v = e.to
				nd = du.addSub(marginal(e, e.flow), g.pot[v])
			} else {
				if e.flow == 0 || g.done[e.from] {
					continue
				}
				v = e.from
				nd = du.sub(marginal(e, e.flow-1)).sub(g.pot[v])
			}
			if !h.has(v) || nd.cmp(g.dist[v]) < 0 {
				g.dist[v] = nd
				h.update(v, g.dist)
			}
		}
	}
	if !g.done[t] {
		return false
	}
	dt := g.dist[t]
	for v := range g.pot {
		if g.done[v] {
			g.pot[v] = g.pot[v].add(g.dist[v])
		} else {
			g.pot[v] = g.pot[v].add(dt)
		}
	}
	return true
}

// admissible reports whether arc id, leaving u, has residual capacity and
// a zero reduced cost.
func (g *flowGraph) admissible(u, id int32) bool {
	e := &g.edges[id>>1]
	if id&1 == 0 {
		return e.flow < e.cap && marginal(e, e.flow).addSub(g.pot[u], g.pot[e.to]) == cost{}
	}
	// reverse: -marginal(flow-1) + pot[u] - pot[from] == 0
	return e.flow > 0 && g.pot[u].sub(g.pot[e.from]) == marginal(e, e.flow-1)
}

// levels numbers the nodes reachable from s over admissible arcs by BFS
// depth (-1 elsewhere) and reports whether t is reachable.
func (g *flowGraph) levels(s, t int32) bool {
	for i := range g.level {
		g.level[i] = -1
	}
	g.level[s] = 0
	g.queue = append(g.queue[:0], s)
	for qi := 0; qi < len(g.queue); qi++ {
		u := g.queue[qi]
		for _, id := range g.adj[u] {
			v := g.head(id)
			if g.level[v] >= 0 || !g.admissible(u, id) {
				continue
			}
			g.level[v] = g.level[u] + 1
			g.queue = append(g.queue, v)
		}
	}
	return g.level[t] >= 0
}

// dfs pushes one unit from s to t along admissible arcs that climb one
// level at a time, and reports whether it found such a path. Within one
// blocking flow arcs only ever lose admissibility (a reverse arc that
// becomes tight descends a level), so the per-node arc cursor is safe.
func (g *flowGraph) dfs(s, t int32) bool {
	g.path = g.path[:0]
	u := s
	for {
		if u == t {
			for _, id := range g.path {
				g.push(id)
			}
			return true
		}
		advanced := false
		for ; int(g.iter[u]) < len(g.adj[u]); g.iter[u]++ {
			id := g.adj[u][g.iter[u]]
			v := g.head(id)
			if g.level[v] != g.level[u]+1 || !g.admissible(u, id) {
				continue
			}
			g.path = append(g.path, id)
			u = v
			advanced = true
			break
		}
		if advanced {
			continue
		}
		// dead end: retreat and skip the arc that led here
		g.level[u] = -1
		if len(g.path) == 0 {
			return false
		}
		last := g.path[len(g.path)-1]
		g.path = g.path[:len(g.path)-1]
		u = g.tail(last)
		g.iter[u]++
	}
}

// distHeap is an indexed binary min-heap of nodes keyed by their
// tentative distance (ties by node number, so the order of pops is fully
// determined), with decrease-key: it never holds more than one entry per
// node.
type distHeap struct {
	nodes []int32
	pos   []int32 // index in nodes; -1: never pushed; -2: popped
}

func (h *distHeap) reset(n int) {
	h.nodes = h.nodes[:0]
	if cap(h.pos) < n {
		h.pos = make([]int32, n)
	}
	h.pos = h.pos[:n]
	for i := range h.pos {
		h.pos[i] = -1
	}
}

func (h *distHeap) len() int { return len(h.nodes) }

// has reports whether v has a tentative distance (pushed, maybe popped).
func (h *distHeap) has(v int32) bool { return h.pos[v] != -1 }

func (h *distHeap) less(d []cost, i, j int) bool {
	a, b := h.nodes[i], h.nodes[j]
	if c := d[a].cmp(d[b]); c != 0 {
		return c < 0
	}
	return a < b
}

func (h *distHeap) swap(i, j int) {
	h.nodes[i], h.nodes[j] = h.nodes[j], h.nodes[i]
	h.pos[h.nodes[i]] = int32(i)
	h.pos[h.nodes[j]] = int32(j)
}

// update inserts v or restores the heap after d[v] decreased.
func (h *distHeap) update(v int32, d []cost) {
	i := int(h.pos[v])
	if i < 0 {
		h.nodes = append(h.nodes, v)
		i = len(h.nodes) - 1
		h.pos[v] = int32(i)
	}
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(d, i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *distHeap) pop(d []cost) int32 {
	top := h.nodes[0]
	n := len(h.nodes) - 1
	h.swap(0, n)
	h.nodes = h.nodes[:n]
	h.pos[top] = -2
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(d, r, l) {
			m = r
		}
		if !h.less(d, m, i) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return top
}

// resize returns s with length n, reallocated only when too small.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
