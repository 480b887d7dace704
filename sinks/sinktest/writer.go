package sinktest

import (
	"bytes"
	"context"
	"maps"
	"path"
	"slices"
	"testing"
	"time"

	"github.com/gale-stream/gale/sinks"
)

// Open opens a writer with open (within a minute) and closes it when t
// ends.
func Open[W interface{ Close() error }](t testing.TB, open func(context.Context) (W, error)) W {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// ReadAll returns the objects of topology that inv lists, in its order,
// and their decoded content.
func ReadAll(t testing.TB, inv sinks.Inventory, topology string) ([]string, map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	names, err := inv.Objects(ctx, topology)
	if err != nil {
		t.Fatal(err)
	}
	content := map[string][]byte{}
	for _, n := range names {
		if content[n], err = inv.Read(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	return names, content
}

// CheckRewrite is the idempotent rewrite every object store's Writer must
// pass. Batch(7, JSONLines(500)) written twice (a replay) leaves one
// object, named by naming from the batch alone, holding codec's encoding of
// the batch's content, the same bytes after both writes, each of which
// reports their size; w's Inventory (when it has one) lists it, nothing
// for a topology whose name is a prefix of "topo", and reads the content
// back. Then the empty Batch(8, nil) leaves an object too, which reads back
// empty. stored returns every object the backend holds: name -> stored
// bytes. CheckRewrite returns the first object's name and content, for the
// backend's own checks (metadata, ...).
func CheckRewrite(t testing.TB, w sinks.Writer, naming sinks.Naming, codec sinks.Codec, stored func() map[string][]byte) (name string, content []byte) {
	t.Helper()
	ctx := context.Background()
	b := Batch(7, JSONLines(500))
	parts := naming.Parts(b)
	if len(parts) != 1 {
		t.Fatalf("%d parts, want 1", len(parts))
	}
	name, content = parts[0].Name, parts[0].Content()
	if want := path.Join(naming.Prefix, "topo/events/00003/000000000007-0000000000000007000-0000000000000007500") + naming.Ext; name != want {
		t.Fatalf("name %q, want %q", name, want)
	}
	n1, err := w.WriteBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	first := stored()
	n2, err := w.WriteBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	second := stored()
	if len(second) != 1 || second[name] == nil {
		t.Fatalf("objects after two writes: %v, want only %s", slices.Sorted(maps.Keys(second)), name)
	}
	if !bytes.Equal(first[name], second[name]) || n1 != n2 || n1 != int64(len(second[name])) {
		t.Fatalf("the replay changed the object: %d then %d bytes (reported %d, %d)", len(first[name]), len(second[name]), n1, n2)
	}
	want, err := codec.Encode(name, content)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(second[name], want) {
		t.Fatal("the stored bytes are not Codec.Encode of the content")
	}
	inv, _ := w.(sinks.Inventory)
	if inv != nil {
		if objs, err := inv.Objects(ctx, "topo"); err != nil || !slices.Equal(objs, []string{name}) {
			t.Fatalf("Objects = %v, %v; want [%s]", objs, err, name)
		}
		if objs, err := inv.Objects(ctx, "top"); err != nil || len(objs) != 0 {
			t.Fatalf("Objects(top) = %v, %v; want none", objs, err)
		}
		if read, err := inv.Read(ctx, name); err != nil || !bytes.Equal(read, content) {
			t.Fatalf("Read = %d bytes, %v; want the %d bytes of content", len(read), err, len(content))
		}
	}

	if _, err := w.WriteBatch(ctx, Batch(8, nil)); err != nil {
		t.Fatal(err)
	}
	empty := naming.Parts(Batch(8, nil))[0].Name
	if got := stored(); len(got) != 2 || got[empty] == nil {
		t.Fatalf("objects after an empty batch: %v, want %s and %s", slices.Sorted(maps.Keys(got)), name, empty)
	}
	if inv != nil {
		if read, err := inv.Read(ctx, empty); err != nil || len(read) != 0 {
			t.Fatalf("Read of the empty batch's object = %q, %v", read, err)
		}
	}
	return name, content
}
