package sinktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/tuple"
)

// WitnessRequirements pin the Python readers of Avro and Parquet files
// (fastavro; pyarrow; cramjam, fastavro's snappy) — none has other
// dependencies.
var WitnessRequirements = []string{"fastavro==1.13.1", "pyarrow==26.0.1", "cramjam==2.14.0"}

// witnessScript reads Avro files with fastavro or Parquet files with
// pyarrow and prints, per file, its records normalized to JSON (bytes as
// {"bytes": hex}, timestamps as {"us": microseconds since the epoch},
// dates as {"date": "YYYY-MM-DD"}, decimals as text) and what the reader
// says of the file (codec, row groups, column types).
const witnessScript = `
import datetime, decimal, json, sys
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def norm(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            raise SystemExit("a timestamp without time zone: %r" % v)
        return {"us": (v - EPOCH) // datetime.timedelta(microseconds=1)}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    raise SystemExit("unexpected %r" % type(v))
mode, out = sys.argv[1], {}
for path in sys.argv[2:]:
    if mode == "avro":
        import fastavro
        with open(path, "rb") as f:
            r = fastavro.reader(f)
            recs = [norm(x) for x in r]
            out[path] = {"records": recs, "meta": {"codec": r.codec}}
    else:
        import pyarrow.parquet as pq
        pf = pq.ParquetFile(path)
        t = pf.read()
        recs = [norm(x) for x in t.to_pylist(maps_as_pydicts="strict")]
        md = pf.metadata
        cols = {t.schema.field(i).name: str(t.schema.field(i).type) for i in range(len(t.schema))}
        comp = md.row_group(0).column(0).compression if md.num_row_groups else ""
        out[path] = {"records": recs, "meta": {"row_groups": md.num_row_groups, "rows": md.num_rows,
                     "compression": comp, "columns": cols, "created_by": md.created_by}}
json.dump(out, sys.stdout)
`

// Witnessed is what the Python reader found in one file.
type Witnessed struct {
	// Records are the file's records, normalized (see the script) and
	// decoded with json.Number numbers.
	Records []any `json:"records"`
	// Meta: for Avro "codec"; for Parquet "row_groups", "rows",
	// "compression", "columns" (name -> Arrow type), "created_by".
	Meta map[string]any `json:"meta"`
}

// Witness has fastavro (format "avro") or pyarrow (format "parquet"),
// readers Gale did not write, read files (name -> content) and returns
// what they found, by name. It skips the test loudly (fails it with
// CI=true) when the Python venv cannot be built.
func Witness(t testing.TB, format string, files map[string][]byte) map[string]Witnessed {
	t.Helper()
	py := testenv.PythonVenv(t, "formats", WitnessRequirements...)
	dir := t.TempDir()
	script := filepath.Join(dir, "witness.py")
	if err := os.WriteFile(script, []byte(witnessScript), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{script, format}
	paths := map[string]string{}
	for i, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, fmt.Sprintf("f%d.%s", i, format))
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		paths[p] = name
		args = append(args, p)
	}
	cmd := exec.Command(py, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the %s witness failed: %v\n%s", format, err, stderr.String())
	}
	var got map[string]Witnessed
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("the %s witness printed %q: %v", format, out, err)
	}
	byName := map[string]Witnessed{}
	for p, w := range got {
		byName[paths[p]] = w
	}
	return byName
}

// LineSchema is the Avro schema of Line's records in the Formats runs:
// "user" is an enum of u0..u5, so that the records of user u6 (g%7 == 6)
// do not fit and go to the dead letters.
const LineSchema = `{"type": "record", "name": "Line", "namespace": "gale.test", "fields": [
  {"name": "n", "type": "long"},
  {"name": "user", "type": {"type": "enum", "name": "User", "symbols": ["u0", "u1", "u2", "u3", "u4", "u5"]}},
  {"name": "note", "type": ["null", "string"], "default": null}]}`

// Formats runs the sink with the container formats, avro then parquet,
// each a subtest, with the runs of the conformance suite: a clean run and
// a chaos run (replayed batches, failed writes) write the same names with
// the same bytes; fastavro or pyarrow reads every object: each record of
// Line (schema LineSchema) once, in its hour's object, in tuple-id order;
// the records that do not fit the schema (user u6) are in the dead-letter
// files with the path of the field at fault; sinks.LinesSum.AddObject
// (what `gale verify` sums) counts each object's records.
func Formats[C any](t *testing.T, b Backend[C]) {
	for _, format := range []string{sinks.FormatAvro, sinks.FormatParquet} {
		t.Run(format, func(t *testing.T) {
			s := &suite[C]{b: b}
			config := func(place, dlq string) string {
				cfg := s.b.Config(t, place)
				for k, v := range map[string]any{"format": format, "schema": json.RawMessage(LineSchema),
					"dead_letter_dir": dlq} {
					cfg[k] = v
				}
				if format == sinks.FormatAvro {
					cfg["avro_block_records"] = 7 // several blocks an object
				} else {
					cfg["parquet_row_group_rows"] = 16
				}
				js, err := json.Marshal(cfg)
				if err != nil {
					t.Fatal(err)
				}
				// the suite's defaults (field, backoff, time_partition)
				var m map[string]any
				if err := json.Unmarshal([]byte(s.config(t, place)), &m); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(js, &m); err != nil {
					t.Fatal(err)
				}
				js, _ = json.Marshal(m)
				return string(js)
			}
			cleanPlace, chaosPlace := place(t, "clean"), place(t, "chaos")
			cleanDLQ, chaosDLQ := filepath.Join(t.TempDir(), "dlq"), filepath.Join(t.TempDir(), "dlq")
			cleanCfg, chaosCfg := config(cleanPlace, cleanDLQ), config(chaosPlace, chaosDLQ)
			clean := &run{source: s.source(t, cleanPlace)}
			s.run(t, clean, cleanCfg)
			chaosRun := &run{source: s.source(t, chaosPlace), failOnce: chaos, writeFails: 3}
			s.run(t, chaosRun, chaosCfg)
			a, bb := s.read(t, cleanCfg), s.read(t, chaosCfg)
			if s.b.Check != nil {
				s.b.Check(t, cleanPlace, a)
				s.b.Check(t, chaosPlace, bb)
			}
			if clean.source != chaosRun.source {
				bb = rename(bb, chaosRun.source, clean.source)
			}
			same(t, "clean vs chaos", a, bb)
			for name := range a.Objects {
				if !strings.HasSuffix(name, "."+format) {
					t.Errorf("object %s: want the extension .%s", name, format)
				}
			}
			seen := map[int]int{}
			for name, w := range Witness(t, format, a.Objects) {
				last := int64(-1)
				for _, r := range w.Records {
					m, _ := r.(map[string]any)
					n, err := m["n"].(json.Number).Int64()
					if err != nil {
						t.Fatalf("%s: record %v", name, r)
					}
					if want := map[string]any{"n": json.Number(fmt.Sprint(n)), "user": fmt.Sprintf("u%d", n%7), "note": nil}; !equalJSON(m, want) {
						t.Errorf("%s: record %v, want %v", name, m, want)
					}
					if hour := Time(int(n)).Format("dt=2006-01-02/hh=15"); !s.b.NoTimePartition && !strings.Contains(name, "/"+hour+"/") {
						t.Errorf("record %d in %s, want hour %s", n, name, hour)
					}
					if n <= last {
						t.Errorf("%s: record %d after %d: not in tuple-id order", name, n, last)
					}
					last = n
					seen[int(n)]++
				}
				var sum sinks.LinesSum
				if err := sum.AddObject(name, a.Objects[name]); err != nil || sum.Len() != len(w.Records) {
					t.Errorf("%s: verify's sum counts %d records (%v), the witness %d", name, sum.Len(), err, len(w.Records))
				}
			}
			for g := range Batches * Records {
				if want := map[bool]int{true: 0, false: 1}[g%7 == 6]; seen[g] != want {
					t.Errorf("record %d written %d times, want %d", g, seen[g], want)
				}
			}
			// the records that do not fit: dead letters naming the field
			dead := 0
			filepath.WalkDir(cleanDLQ, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				for _, line := range sinks.SplitLines(data) {
					var dl map[string]string
					if err := json.Unmarshal(line, &dl); err != nil || !strings.Contains(dl["error"], "at value.user: \"u6\" is not a symbol") {
						t.Errorf("dead letter %s: %s", p, line)
					}
					dead++
				}
				return nil
			})
			if want := Batches * Records / 7; dead < want || dead > want+1 {
				t.Errorf("%d dead letters, want %d (user u6)", dead, Batches*Records/7)
			}
			t.Logf("%s: %d objects, %d records read by the witness, %d dead letters", format, len(a.Objects), len(seen), dead)
		})
	}
}

// equalJSON compares two decoded JSON values.
func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// Encode formats values as the tuples of one batch and encodes its one
// object; it returns the object's name and content and the rejections.
func Encode(t testing.TB, c *sinks.Common, values []any) (string, []byte, []error) {
	t.Helper()
	f := c.Options("test", nil).Format
	b := &sinks.Batch{Topology: "topo", Meta: &tuple.BatchMeta{ID: "ev/00001/000000000007", Source: "ev", Partition: 1, Seq: 7, Start: 70, End: 70 + int64(len(values))}}
	var rejected []error
	for i, v := range values {
		tp := &tuple.Tuple{ID: fmt.Sprintf("ev/1/%d", 70+i), Fields: tuple.Fields{"value", "timestamp"}, Values: tuple.Values{v, int64(0)}}
		r, err := f.Record(tp)
		if err != nil {
			rejected = append(rejected, err)
			continue
		}
		b.Records = append(b.Records, r)
	}
	parts := c.Naming("").Parts(b)
	if len(parts) != 1 {
		t.Fatalf("%d parts", len(parts))
	}
	data, err := parts[0].Encode()
	if err != nil {
		t.Fatal(err)
	}
	return parts[0].Name, data, rejected
}
