package membership

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/galetest"
)

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func start(t *testing.T, name string, join []string, key []byte) *Membership {
	t.Helper()
	m, err := Join(Config{Name: name, Bind: "127.0.0.1:0", Join: join, Key: key, Logger: quiet(),
		Meta: Meta{API: "127.0.0.1:80" + name[len(name)-1:], Slots: 4, Started: time.Now(), Types: []string{"split", "count"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

func names(ms []Member) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Name)
	}
	return strings.Join(s, ",")
}

// TestThreeWorkers: three workers see each other with their metadata; one
// leaves (the others see it left), one fails silently (declared dead), and
// a metadata update spreads.
func TestThreeWorkers(t *testing.T) {
	w1 := start(t, "w1", nil, nil)
	w2 := start(t, "w2", []string{w1.Addr()}, nil)
	w3 := start(t, "w3", []string{w2.Addr()}, nil)
	for _, w := range []*Membership{w1, w2, w3} {
		galetest.Eventually(t, w.Name()+" to see 3 workers", 20*time.Second, func() bool { return names(w.Members()) == "w1,w2,w3" })
	}
	for _, m := range w1.Members() {
		if m.Meta.Slots != 4 || !strings.HasPrefix(m.Meta.API, "127.0.0.1:80") || len(m.Meta.Types) != 2 || m.State != Alive {
			t.Errorf("w1 sees %+v", m)
		}
	}
	// a metadata update reaches the others
	if err := w3.UpdateMeta(Meta{API: "127.0.0.1:9999", Slots: 8}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "w1 to see w3's new slots", 20*time.Second, func() bool {
		for _, m := range w1.Members() {
			if m.Name == "w3" && m.Meta.Slots == 8 {
				return true
			}
		}
		return false
	})
	// a graceful leave
	if err := w3.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	galetest.Eventually(t, "w1 to see w3 leave", 20*time.Second, func() bool { return names(w1.Members()) == "w1,w2" })
	if st := stateOf(w1.All(), "w3"); st != Left {
		t.Errorf("w3 is %q after leaving, want left", st)
	}
	// a silent failure
	start := time.Now()
	w2.Shutdown()
	galetest.Eventually(t, "w1 to declare w2 dead", 20*time.Second, func() bool { return names(w1.Members()) == "w1" })
	t.Logf("w2's failure detected after %v", time.Since(start).Round(10*time.Millisecond))
	if st := stateOf(w1.All(), "w2"); st != Dead {
		t.Errorf("w2 is %q after failing, want dead", st)
	}
	// and the events said so
	seen := map[string]bool{}
	for len(w1.Events()) > 0 {
		ev := <-w1.Events()
		seen[string(ev.Kind)+":"+ev.Member.Name] = true
	}
	for _, want := range []string{"joined:w2", "joined:w3", "updated:w3", "gone:w3", "gone:w2"} {
		if !seen[want] {
			t.Errorf("no %s event (got %v)", want, seen)
		}
	}
}

func stateOf(ms []Member, name string) State {
	for _, m := range ms {
		if m.Name == name {
			return m.State
		}
	}
	return ""
}

// TestWrongKey: a worker with another gossip key cannot join, and the
// error says to check the key.
func TestWrongKey(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	w1 := start(t, "w1", nil, key)
	_, err := Join(Config{Name: "w2", Bind: "127.0.0.1:0", Join: []string{w1.Addr()}, Key: bytes.Repeat([]byte{2}, 32), Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), "gossip key") {
		t.Fatalf("join with a wrong key: %v", err)
	}
	if names(w1.Members()) != "w1" {
		t.Errorf("w1 sees %s", names(w1.Members()))
	}
	// the right key works
	w3 := start(t, "w3", []string{w1.Addr()}, key)
	galetest.Eventually(t, "w3 to see w1", 20*time.Second, func() bool { return names(w3.Members()) == "w1,w3" })
	if _, err := Join(Config{Name: "w4", Bind: "127.0.0.1:0", Key: []byte("short")}); err == nil || !strings.Contains(err.Error(), "16, 24 or 32") {
		t.Errorf("short key: %v", err)
	}
}

func TestJoinNobody(t *testing.T) {
	_, err := Join(Config{Name: "w9", Bind: "127.0.0.1:0", Join: []string{"127.0.0.1:1"}, Logger: quiet(), JoinTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("join of an address where nobody listens: %v", err)
	}
}

// TestMetaTooLarge: a worker whose type list does not fit in gossip's
// 512 bytes still sends its metadata, with the hash of its types, so the
// others can tell it has the same types (it used to lose them silently and
// every submit failed with 422).
func TestMetaTooLarge(t *testing.T) {
	var types []string
	for i := range 100 {
		types = append(types, "a_rather_long_custom_type_name_"+strings.Repeat("x", i%7))
	}
	m, err := Join(Config{Name: "big", Bind: "127.0.0.1:0", Logger: quiet(),
		Meta: Meta{API: "127.0.0.1:8080", Types: types, TypesHash: TypesHashOf(types)}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	w2 := start(t, "w2", []string{m.Addr()}, nil)
	galetest.Eventually(t, "w2 to see big", 20*time.Second, func() bool { return names(w2.Members()) == "big,w2" })
	for _, mb := range w2.Members() {
		if mb.Name != "big" {
			continue
		}
		if mb.Meta.Types != nil || mb.Meta.TypesHash != TypesHashOf(types) || mb.Meta.API != "127.0.0.1:8080" {
			t.Errorf("big seen with %d types, hash %q, API %q; want no list, the hash of its types and its API", len(mb.Meta.Types), mb.Meta.TypesHash, mb.Meta.API)
		}
	}
	shuffled := append([]string{types[len(types)-1]}, types[:len(types)-1]...)
	if TypesHashOf(shuffled) != TypesHashOf(types) || TypesHashOf(types[1:]) == TypesHashOf(types) {
		t.Error("the hash depends on the order, or not on the list")
	}
}
