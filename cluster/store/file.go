package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gale-stream/gale/internal/kvlog"
)

// FileStore is the embedded single-node store of local and dev mode: a
// kvlog.FileLog in a directory (its layout is the FileLog's: DIR/LOCK,
// DIR/ID, DIR/log), the core the file ledger sits on too. The log is an
// append-only file of checksummed transactions, written under an flock of
// DIR/LOCK (between processes on one machine as well as between goroutines
// and instances), fsynced, cut back to its last whole transaction after a
// crash and compacted in place when its dead records outweigh the live
// ones. Records are keyed and encoded as in a KafkaStore.
//
// Every write is a kvlog.Update by one owner ("cluster-store"): under the
// flock, it reads the record, checks the expected version or epoch, and
// appends the new one, fenced against any writer that took the owner in
// between. Reads take no lock and always see the latest completed write.
// Watch polls the log (WithPollInterval, 200 ms by default) and reports a
// change within about one interval.
//
// A directory written by an older Gale (a JSON file per record:
// topologies/NAME.json, assignments/NAME.json, leases/NAME.json, and
// tmp/) is migrated when opened: its records are imported into the log,
// except those the log has already, then the old folders are removed. A
// migration that a crash interrupted is finished by the next open. Stop
// the processes of an older Gale on the directory before upgrading: once
// it is migrated, the files they would write are read by no one.
//
// flock is advisory and local: every writer must go through a FileStore,
// and DIR must not be shared between machines (NFS flock emulation is not
// to be trusted). A FileStore is safe for concurrent use.
type FileStore struct {
	*logStore
	dir  string
	poll time.Duration
}

var (
	_ Store = (*FileStore)(nil)
)

// FileOption configures a FileStore.
type FileOption func(*FileStore)

// WithPollInterval sets how often Watch reads the log (default 200 ms).
func WithPollInterval(d time.Duration) FileOption {
	return func(s *FileStore) {
		if d > 0 {
			s.poll = d
		}
	}
}

// fileOwner owns the writes of every FileStore.
const fileOwner = "cluster-store"

// OpenFileStore opens (creating it if needed) the store in dir, and
// migrates a store of the older layout found there.
func OpenFileStore(dir string, opts ...FileOption) (*FileStore, error) {
	s := &FileStore{dir: dir, poll: 200 * time.Millisecond}
	for _, o := range opts {
		o(s)
	}
	l, err := kvlog.OpenFile(dir, kvlog.WithPoll(s.poll))
	if err != nil {
		return nil, fmt.Errorf("open file store %s: %w", dir, err)
	}
	if err := migrateFiles(context.Background(), l); err != nil {
		l.Close()
		return nil, fmt.Errorf("open file store %s: migrate the JSON files: %w", dir, err)
	}
	s.logStore = newLogStore(l, fileOwner, kvlog.UpdateOptions{})
	return s, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// Close stops the watchers and the writes in progress, which fail with
// ErrClosed (they may still have happened). It may be called more than
// once.
func (s *FileStore) Close() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("close file store %s: %w", s.dir, err)
	}
	return nil
}

// The folders of the store's first layout, a JSON file per record.
var oldDirs = []struct {
	name string
	kind Kind
}{{"topologies", KindTopology}, {"assignments", KindAssignment}, {"leases", KindLease}, {"tmp", ""}}

// migrateFiles imports the records of the first layout into l, then
// removes its folders. A record the log holds already is not imported:
// it was imported by a migration that did not finish, or written since,
// and is newer than the file. Importing is an Update of the store's owner,
// so it cannot overwrite a write of a store that opened since.
func migrateFiles(ctx context.Context, l *kvlog.FileLog) error {
	var found []string
	for _, d := range oldDirs {
		if _, err := os.Stat(filepath.Join(l.Dir(), d.name)); err == nil {
			found = append(found, d.name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if len(found) == 0 {
		return nil
	}
	err := kvlog.Update(ctx, l, fileOwner, kvlog.UpdateOptions{}, func() ([]kvlog.Record, error) {
		var recs []kvlog.Record
		for _, d := range oldDirs {
			if d.kind == "" {
				continue // tmp/: files being written when a writer crashed
			}
			ents, err := os.ReadDir(filepath.Join(l.Dir(), d.name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return nil, err
			}
			for _, e := range ents {
				name, ok := strings.CutSuffix(e.Name(), ".json")
				if !ok || !e.Type().IsRegular() || checkName("migrate", d.kind, name) != nil {
					continue // the old store ignored it too
				}
				key := recordKey(d.kind, name)
				if v, err := l.Get(ctx, key); err != nil {
					return nil, err
				} else if v != nil {
					continue
				}
				b, err := os.ReadFile(filepath.Join(l.Dir(), d.name, e.Name()))
				if errors.Is(err, fs.ErrNotExist) {
					continue // removed by a migration running alongside
				} else if err != nil {
					return nil, err
				}
				recs = append(recs, kvlog.Record{Key: key, Value: b}) // verbatim: a corrupt record stays one
			}
		}
		return recs, nil
	})
	if err != nil {
		return err
	}
	for _, name := range found {
		if err := os.RemoveAll(filepath.Join(l.Dir(), name)); err != nil {
			return err
		}
	}
	d, err := os.Open(l.Dir())
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
