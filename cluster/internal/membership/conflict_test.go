package membership

import (
	"errors"
	"testing"
	"time"
)

// TestConflict_NewerStops: a second worker with a taken name is told to
// stop (ErrNameTaken, naming the other's address); the first goes on.
// (memberlist calls the conflict delegate with its node lock held: a call
// back into it there deadlocked both workers.)
func TestConflict_NewerStops(t *testing.T) {
	a, err := Join(Config{Name: "w1", Bind: "127.0.0.1:0", Logger: quiet(), Meta: Meta{Started: time.Now().Add(-time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	b, err := Join(Config{Name: "w1", Bind: "127.0.0.1:0", Join: []string{a.Addr()}, Logger: quiet(), Meta: Meta{Started: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	select {
	case err := <-b.Conflicts():
		if !errors.Is(err, ErrNameTaken) {
			t.Errorf("the newer worker: %v, want ErrNameTaken", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the newer worker was not told that its name is taken")
	}
	select {
	case err := <-a.Conflicts():
		t.Errorf("the older worker was told to stop: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
}
