package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gale-stream/gale/cluster/api"
	"github.com/gale-stream/gale/cluster/store"
)

// TestStoreErr: a store error becomes the API error the server maps to a
// status, and still matches the store's own error, which it wraps.
func TestStoreErr(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error // the API's sentinel
	}{
		{&store.RecordError{Op: "get", Kind: store.KindTopology, Name: "wc", Err: store.ErrNotFound}, api.ErrNotFound},
		{&store.RecordError{Op: "put", Kind: store.KindTopology, Name: "wc", Have: 2, Err: store.ErrExists}, api.ErrExists},
		{&store.RecordError{Op: "put", Kind: store.KindTopology, Name: "wc", Want: 1, Have: 2, Err: store.ErrConflict}, api.ErrBadRequest},
		{&store.RecordError{Op: "get", Kind: store.KindTopology, Name: "wc", Err: store.ErrClosed}, api.ErrUnavailable},
		{context.DeadlineExceeded, api.ErrUnavailable},
	} {
		got := storeErr(tc.err)
		if !errors.Is(got, tc.want) {
			t.Errorf("storeErr(%v) = %v, want it to match %v", tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("storeErr(%v) = %v, does not wrap the store's error", tc.err, got)
		}
		if !strings.Contains(got.Error(), tc.err.Error()) {
			t.Errorf("storeErr(%v) = %q, want the store's message in it", tc.err, got)
		}
	}
	var re *store.RecordError
	if err := storeErr(&store.RecordError{Op: "get", Kind: store.KindTopology, Name: "wc", Err: store.ErrNotFound}); !errors.As(err, &re) || re.Name != "wc" {
		t.Errorf("storeErr: %v, want the *store.RecordError reachable with errors.As", err)
	}
}
