package schedule

// Rendezvous (highest-random-weight) hashing. The score of a (key, worker)
// pair is a 64-bit hash of both; a key prefers the workers with the
// highest scores. The function is fixed (FNV-1a 64 followed by the
// SplitMix64 finalizer) because every worker, of every version, must rank
// the same way: changing it would move tasks on an upgrade.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashStrings hashes the strings separated by a zero byte (names never
// contain one, see validName).
func hashStrings(parts ...string) uint64 {
	h := uint64(fnvOffset)
	for i, p := range parts {
		if i > 0 {
			h *= fnvPrime // a zero byte: xor with 0, then multiply
		}
		for j := 0; j < len(p); j++ {
			h ^= uint64(p[j])
			h *= fnvPrime
		}
	}
	return mix64(h)
}

// mix64 is the SplitMix64 finalizer: it spreads FNV's weak low bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// score is the rendezvous weight of worker for key.
func score(key uint64, worker string) uint64 {
	h := key
	for j := 0; j < len(worker); j++ {
		h ^= uint64(worker[j])
		h *= fnvPrime
	}
	return mix64(h ^ key>>17)
}
