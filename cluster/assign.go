package cluster

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
)

// Task keys of an assignment: "t<id>" for a task (the engine's numbering:
// components sorted by id, tasks 1..N) and "a<i>" for acker i.
func taskKey(id int) string { return "t" + strconv.Itoa(id) }
func ackerKey(i int) string { return "a" + strconv.Itoa(i) }
func parseKey(k string) (acker bool, n int, err error) {
	if len(k) < 2 || (k[0] != 't' && k[0] != 'a') {
		return false, 0, fmt.Errorf("bad task key %q", k)
	}
	n, err = strconv.Atoi(k[1:])
	return k[0] == 'a', n, err
}

// assign places keys on workers: deterministic (every worker computes the
// same), balanced (loads differ by at most one, within slots), and stable
// (rendezvous hashing: each key prefers the workers that score highest
// for it, so a joining or leaving worker moves few keys). keys beyond the
// total slots are left out (unassigned). prev, when given, keeps keys
// where they are while that stays balanced.
func assign(keys []string, workers []string, slots int, prev map[string]string) (map[string]string, []string) {
	out := map[string]string{}
	if len(workers) == 0 {
		return out, slices.Clone(keys)
	}
	ws := slices.Clone(workers)
	slices.Sort(ws)
	ks := slices.Clone(keys)
	slices.Sort(ks)
	limit := (len(ks) + len(ws) - 1) / len(ws) // balanced
	if slots > 0 && slots < limit {
		limit = slots
	}
	load := map[string]int{}
	alive := map[string]bool{}
	for _, w := range ws {
		alive[w] = true
	}
	// keep what is already placed on live workers, up to the balance
	var rest []string
	for _, k := range ks {
		if w, ok := prev[k]; ok && alive[w] && load[w] < limit {
			out[k] = w
			load[w]++
			continue
		}
		rest = append(rest, k)
	}
	var unassigned []string
	for _, k := range rest {
		order := slices.Clone(ws)
		slices.SortFunc(order, func(a, b string) int {
			ha, hb := score(k, a), score(k, b)
			switch {
			case ha > hb:
				return -1
			case ha < hb:
				return 1
			}
			return 0
		})
		placed := false
		for _, w := range order {
			if load[w] < limit {
				out[k], placed = w, true
				load[w]++
				break
			}
		}
		if !placed {
			unassigned = append(unassigned, k)
		}
	}
	return out, unassigned
}

func score(key, worker string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(worker))
	x := h.Sum64()
	// finalise (fnv's low bits mix poorly for similar inputs)
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}
