package store_test

import (
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/cluster/store/storetest"
)

func TestFileStore_Conformance(t *testing.T) {
	dir := t.TempDir()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenFileStore(dir, store.WithPollInterval(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
