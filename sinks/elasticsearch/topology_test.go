package elasticsearch

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/sinktest"
)

func line(off int) string { return fmt.Sprintf(`{"n":%d,"user":"u%d"}`, off, off%7) }

// TestConformance: the Elasticsearch sink passes the suite every sink
// passes, against the testenv OpenSearch, each run into an index pattern
// of its own (bulk requests of 25 documents); the documents sit in the
// index of their day: the records start at 20:00 and cross midnight at
// record 240.
func TestConformance(t *testing.T) {
	prefix := uniqueIndex("conf")
	e := newES(t, prefix+"-*")
	sinktest.Conformance(t, sinktest.Backend[Config]{
		Type: Type(),
		Config: func(t testing.TB, place string) map[string]any {
			return map[string]any{"urls": []string{e.url}, "index": index(prefix, place) + "-{2006.01.02}", "bulk_max_docs": 25}
		},
		NoTimePartition: true, // daily indices instead, from the records' times
		NoPaths:         true,
		Wrap: func(w sinks.Writer) sinks.Writer {
			w.(*Writer).ItemBackoff = 5 * time.Millisecond
			return w
		},
		Check: func(t testing.TB, place string, got sinktest.Stored) {
			perDay := map[string]int{}
			for _, doc := range got.Docs {
				var n int
				fmt.Sscanf(string(doc), `{"n":%d,`, &n)
				perDay[sinktest.Time(n).Format("2006.01.02")]++
			}
			for day, want := range perDay {
				if got := e.count(index(prefix, place) + "-" + day); got != want {
					t.Errorf("%s: index of %s holds %d documents, want %d", place, day, got, want)
				}
			}
			if len(perDay) != 2 && len(got.Docs) == sinktest.Batches*sinktest.Records {
				t.Errorf("%s: documents of %d days, want the 2 the records span", place, len(perDay))
			}
		},
	})
}

// index is a run's index name (without the date): lowercase, no '/'.
func index(prefix, place string) string {
	return prefix + "-" + strings.NewReplacer("/", "-", "_", "-").Replace(place)
}
