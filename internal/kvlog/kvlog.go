// Package kvlog is the core of Gale's durable state: a compacted log of
// key/value records, read through a live view of it and written, in
// transactions, by fenced writers. The batch ledger of the Kafka spout
// (internal/ledger) and the cluster store (cluster/store) both sit on it,
// so fencing, read barriers, compaction and tombstones are written once.
//
// A Log holds the latest value of every key; writing a nil value (a
// tombstone) deletes the key, and compaction keeps the log's size in the
// order of its live keys however long it has been written to. Reads come
// from the log's view: Get, Scan and Watch see what the view applied, and
// Sync is a read barrier — it returns once the view holds every record
// committed before the call.
//
// Writes go through a Writer, which belongs to an owner (any string): taking
// a Writer for an owner fences every earlier Writer of the same owner,
// whose next Write fails with ErrFenced and never reaches the log, however
// the two processes' clocks or networks behave. A Write is atomic (all its
// records or none) and durable when it returns; the Log that wrote it
// reads it back at once. Update builds a compare-and-set on that: read,
// decide, fence, read again, write — of concurrent updaters of one owner,
// each sees the records the previous one wrote.
//
// Two implementations pass one conformance suite (internal/kvlog/kvlogtest):
//
//   - Kafka: a compacted topic of one partition, read through a goka View
//     (read_committed) and written by transactional producers whose
//     transactional.id derives from the owner, so that the broker itself
//     fences older writers. The topic is created compacting quickly (small
//     segments, a low dirty ratio, tombstones kept a few minutes), so that
//     opening it reads about its live keys.
//   - Files: a directory holding one append-only log of checksummed
//     transactions, written under an flock (between processes of one
//     machine), with the owners' epochs recorded in the log itself, and
//     compacted in place (rewritten and renamed) when its dead records
//     outweigh the live ones.
package kvlog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Record is one key's new value; a nil Value is a tombstone (the key is
// deleted). Keys are non-empty and do not start with a NUL byte (the log's
// own).
type Record struct {
	Key   string
	Value []byte
}

// Change tells a watcher that a key changed: read its value with Get.
type Change struct {
	Key     string
	Deleted bool
}

// Log is a compacted key/value log; see the package doc. Its methods may
// be called concurrently.
type Log interface {
	// Get returns key's value in the view, or nil when it has none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Scan calls fn for every live key with prefix in the view, in key
	// order, until fn returns an error (returned).
	Scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error
	// Sync is a read barrier: it returns once the view holds every record
	// committed before the call.
	Sync(ctx context.Context) error
	// Watch streams the keys the view changes from now on, until ctx ends
	// or the Log closes (the channel is then closed). A watcher that reads
	// slowly gets the latest change of each key once (memory is bounded
	// by the number of keys).
	Watch(ctx context.Context) (<-chan Change, error)
	// Writer takes ownership of owner: every earlier Writer of owner is
	// fenced. It returns once the view holds every record committed
	// before (a Sync).
	Writer(ctx context.Context, owner string) (Writer, error)
	// Close stops the view and the watchers. Writers must be closed first.
	Close() error
}

// Writer writes records for its owner; see Log.Writer. It is used by one
// goroutine at a time.
type Writer interface {
	// Write commits records atomically and returns once they are durable
	// and in the view of the Log that made the Writer. It fails with
	// ErrFenced once another Writer took the owner, with ErrGone when the
	// log's storage disappeared; after either, every later Write fails so.
	// A Write that failed otherwise (a broker's error, ctx ended) may or
	// may not have happened, and may still happen: Settle, Sync, then read
	// the view to know.
	Write(ctx context.Context, records ...Record) error
	// Settle ends what a failed Write left under way (Kafka: the call
	// still running, a transaction left open, which the next Write would
	// otherwise commit first): once it returns nil, that Write is in the
	// log or never will be, and a Sync then shows which. It fails with
	// ErrFenced or ErrGone once the writer knows it is (a Write told it,
	// or ending the transaction did).
	Settle(ctx context.Context) error
	// Close releases the writer; it does not fence anyone. It may be
	// called more than once.
	Close() error
}

// Errors of the logs.
var (
	// ErrFenced: another Writer took the owner.
	ErrFenced = errors.New("kvlog: fenced by a newer writer")
	// ErrGone: the log's storage was deleted (or replaced) while in use.
	ErrGone = errors.New("kvlog: storage deleted while in use")
	// ErrClosed: the log or writer was closed.
	ErrClosed = errors.New("kvlog: closed")
	// ErrCorrupt: the storage holds data that cannot be read.
	ErrCorrupt = errors.New("kvlog: corrupt data")
	// ErrInvalid: a bad key or owner (empty, or starting with NUL).
	ErrInvalid = errors.New("kvlog: invalid key")
	// ErrStalled: a read barrier did not complete in time: the view does
	// not advance (a dead writer's open transaction, a broker down).
	ErrStalled = errors.New("kvlog: the view does not advance")
)

// checkRecords refuses keys that are empty or the log's own.
func checkRecords(records []Record) error {
	for _, r := range records {
		if r.Key == "" || r.Key[0] == 0 {
			return fmt.Errorf("%w: %q", ErrInvalid, r.Key)
		}
	}
	return nil
}

func checkOwner(owner string) error {
	if owner == "" || owner[0] == 0 || strings.ContainsRune(owner, '\n') {
		return fmt.Errorf("%w: owner %q", ErrInvalid, owner)
	}
	return nil
}

// UpdateOptions tune Update.
type UpdateOptions struct {
	// Attempts is how often a write that was fenced by a concurrent
	// updater (or failed on the way) is tried (default 10).
	Attempts int
	// Patience bounds the first read barrier: a barrier that stalls (a
	// dead writer's transaction holds the view back) makes Update fence
	// first and read again (default 2 s).
	Patience time.Duration
}

// Update writes what decide returns as owner, compare-and-set: decide reads
// the view (Get, Scan) and returns the records to write, or an error to
// stop with (a conflict: nothing is written and no one is fenced). Update
// reads the view up to date (Sync), decides, takes a Writer for owner
// (fencing the others), reads again and decides again (a writer may have
// written in between), and writes. A write fenced by a concurrent updater
// is tried again after a jittered backoff, fencing first. When the outcome
// of a write was unknown and the view then holds exactly what it wrote,
// Update reports the success it was. decide may run several times.
func Update(ctx context.Context, l Log, owner string, opts UpdateOptions, decide func() ([]Record, error)) error {
	if opts.Attempts <= 0 {
		opts.Attempts = 10
	}
	if opts.Patience <= 0 {
		opts.Patience = 2 * time.Second
	}
	var attempted []Record // what a failed attempt tried to write
	var lastErr error
	for attempt := range opts.Attempts {
		if attempt > 0 {
			// the writer that fenced us gets time to finish before we
			// fence it in turn
			d := time.Duration(5+rand.IntN(20)) * time.Millisecond << min(attempt-1, 5)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return errors.Join(ctx.Err(), lastErr)
			}
		}
		done, tried, err := tryUpdate(ctx, l, owner, opts, decide, attempt > 0, attempted)
		if done {
			return err
		}
		lastErr = err
		if tried != nil {
			attempted = tried
		}
	}
	return fmt.Errorf("%d attempts: %w", opts.Attempts, lastErr)
}

func tryUpdate(ctx context.Context, l Log, owner string, opts UpdateOptions, decide func() ([]Record, error),
	retry bool, attempted []Record) (done bool, tried []Record, err error) {
	var w Writer
	defer func() {
		if w != nil {
			_ = w.Close()
		}
	}()
	if retry {
		// fence first: it ends a transaction an earlier attempt may have
		// left open, which would hold the barrier back
		if w, err = l.Writer(ctx, owner); err != nil {
			return errors.Is(err, ErrClosed) || errors.Is(err, ErrGone) || ctx.Err() != nil, nil, err
		}
	} else {
		sctx, cancel := context.WithTimeout(ctx, opts.Patience)
		err := l.Sync(sctx)
		cancel()
		if err != nil && (ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrStalled)) {
			return true, nil, err
		}
		if err != nil {
			return false, nil, err // stalled: fence, then read again
		}
	}
	if attempted != nil && holds(ctx, l, attempted) {
		return true, nil, nil // the failed write had gone through
	}
	records, err := decide() // a conflict fails here without fencing anyone
	if err != nil {
		return true, nil, err
	}
	if w == nil {
		if w, err = l.Writer(ctx, owner); err != nil {
			return errors.Is(err, ErrClosed) || errors.Is(err, ErrGone) || ctx.Err() != nil, nil, err
		}
		// a writer may have written between the read and the fencing
		if records, err = decide(); err != nil {
			return true, nil, err
		}
	}
	if len(records) == 0 {
		return true, nil, nil
	}
	err = w.Write(ctx, records...)
	switch {
	case err == nil:
		return true, nil, nil
	case errors.Is(err, ErrFenced):
		return false, records, err
	case errors.Is(err, ErrClosed), errors.Is(err, ErrGone), errors.Is(err, ErrInvalid), ctx.Err() != nil:
		return true, nil, err
	}
	return false, records, err
}

// holds reports whether the view holds exactly records (a tombstone: no
// value).
func holds(ctx context.Context, l Log, records []Record) bool {
	for _, r := range records {
		v, err := l.Get(ctx, r.Key)
		if err != nil || (v == nil) != (r.Value == nil) || string(v) != string(r.Value) {
			return false
		}
	}
	return true
}
