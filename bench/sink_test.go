package bench

// Sink benchmarks:
//
//   - BenchmarkKafkaToLZ4: a Kafka topic into lz4 files of 1000 records,
//     by a careful hand-written program on sarama and on franz-go (the
//     baselines) and by Gale
//     (kafka spout -> file_sink), same topic, same run, each read checked.
//   - BenchmarkSinkWrite: each backend's sinks.Writer alone (file, HDFS,
//     Elasticsearch, S3 on Ceph's RADOS Gateway; Ceph with -tags
//     ceph,pacific in sink_ceph_test.go).
//
//	eval "$(testenv/testenv env)"
//	go test -run '^$' -bench 'KafkaToLZ4|SinkWrite' -benchtime 2x ./bench/
//	go test -tags ceph,pacific -run '^$' -bench SinkWrite -benchtime 2x ./bench/

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	hdfsc "github.com/colinmarc/hdfs/v2"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gale-stream/gale/internal/testenv"
	"github.com/gale-stream/gale/local"
	"github.com/gale-stream/gale/registry"
	"github.com/gale-stream/gale/sinks"
	"github.com/gale-stream/gale/sinks/elasticsearch"
	"github.com/gale-stream/gale/sinks/file"
	"github.com/gale-stream/gale/sinks/hdfs"
	s3sink "github.com/gale-stream/gale/sinks/s3"
	"github.com/gale-stream/gale/sinks/s3/s3test"
	kafkaspout "github.com/gale-stream/gale/spout/kafka"
	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// The topic of BenchmarkKafkaToLZ4: its own, so that it does not share
// BenchmarkKafka's (whose values are not JSON).
const (
	lz4Records    = 500000
	lz4Partitions = 4
	lz4ValueSize  = 100 // bytes of each record value, a JSON document
	lz4FileRecs   = 1000
)

// bareLZ4Rate is the baseline's records/s measured in this run (0: the
// baseline did not run), for Gale's pct-of-bare.
var bareLZ4Rate float64

// lz4Value is record i's value: a JSON document of exactly size bytes.
func lz4Value(i, size int) []byte {
	v := fmt.Appendf(nil, `{"n":%d,"user":"u%d","msg":"`, i, i%97)
	for j := 0; len(v) < size-2; j++ {
		v = append(v, 'a'+byte((i+j)%26))
	}
	return append(v, '"', '}')
}

// lz4BenchTopic creates and fills the topic of one BenchmarkKafkaToLZ4
// run (once: its sub-benchmarks share it), outside the timers: JSON values
// of lz4ValueSize bytes, spread evenly over the partitions. The topic
// (~60 MB in Kafka) is deleted when the benchmark ends.
func lz4BenchTopic(b *testing.B) (brokers, topic string) {
	brokers = os.Getenv(testenv.KafkaBrokersVar)
	if brokers == "" {
		b.Skip(testenv.KafkaBrokersVar + " is not set: start Kafka with testenv/testenv up kafka && eval \"$(testenv/testenv env)\"")
	}
	topic = fmt.Sprintf("gale-bench-lz4-%d-%s", time.Now().UnixNano(), uniqueSuffix())
	admin, err := sarama.NewClusterAdmin([]string{brokers}, benchSarama())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		defer admin.Close()
		if err := admin.DeleteTopic(topic); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			b.Errorf("delete topic %s: %v", topic, err)
		}
	})
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: lz4Partitions, ReplicationFactor: 1}, false); err != nil {
		b.Fatalf("create topic %s: %v", topic, err)
	}
	fillTopic(b, brokers, topic, lz4Records, func(i int) []byte { return lz4Value(i, lz4ValueSize) })
	return brokers, topic
}

// fillTopic writes n records, value(i) the i-th, round robin over the
// topic's lz4Partitions partitions.
func fillTopic(b *testing.B, brokers, topic string, n int, value func(i int) []byte) {
	prod, err := sarama.NewSyncProducer([]string{brokers}, benchSarama())
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	batch := make([]*sarama.ProducerMessage, 0, 2000)
	for i := range n {
		batch = append(batch, &sarama.ProducerMessage{Topic: topic, Partition: int32(i % lz4Partitions),
			Value: sarama.ByteEncoder(value(i))})
		if len(batch) == cap(batch) || i == n-1 {
			if err := prod.SendMessages(batch); err != nil {
				b.Fatalf("produce to %s: %v", topic, err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkKafkaToLZ4 reads the same topic of 500k JSON records of 100
// bytes (4 partitions) into lz4 files of 1000 records, written durably
// (temporary file, fsync, rename, fsync of the directory), twice in one
// run: with a hand-written program on sarama and on franz-go (the
// baselines), then with Gale (kafka spout, one task per partition, file
// ledger, bounded, batches of exactly 1000 records as the baselines'
// files -> file_sink, 2 tasks, batch grouping). One iteration reads the
// whole topic, from connecting to the end of the run (Gale's includes its
// shutdown); after each, the records in the files written are counted.
// Gale's rate is also reported as a percentage of the faster baseline's
// (pct-of-bare).
func BenchmarkKafkaToLZ4(b *testing.B) {
	brokers, topic := lz4BenchTopic(b)
	bareLZ4Rate = 0
	b.Run("bare-consumer-lz4", func(b *testing.B) {
		bareLZ4Rate = max(bareLZ4Rate, readToFiles(b, bareConsumeLZ4, brokers, topic))
	})
	b.Run("bare-franz-go-lz4", func(b *testing.B) {
		bareLZ4Rate = max(bareLZ4Rate, readToFiles(b, franzConsumeLZ4, brokers, topic))
	})
	b.Run("gale-kafka-file-sink", func(b *testing.B) {
		rate := readToFiles(b, galeFileSink, brokers, topic)
		if bareLZ4Rate > 0 {
			b.ReportMetric(100*rate/bareLZ4Rate, "pct-of-bare")
		}
	})
}

// readToFiles runs read b.N times, each into a fresh directory, checks the
// files, and reports the rate over the reads (not the checks). It returns
// the records/s.
func readToFiles(b *testing.B, read func(b *testing.B, brokers, topic, dir string), brokers, topic string) float64 {
	var total int64
	var elapsed time.Duration
	for range b.N {
		dir, err := os.MkdirTemp(b.TempDir(), "out-")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		read(b, brokers, topic, dir)
		elapsed += time.Since(start)
		b.StopTimer()
		if n := countFileRecords(b, dir); n != lz4Records {
			b.Fatalf("the files under %s hold %d records, want %d", dir, n, lz4Records)
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		total += lz4Records
	}
	rate := float64(total) / elapsed.Seconds()
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(float64(total*lz4ValueSize)/elapsed.Seconds()/1e6, "MB/s")
	return rate
}

// countFileRecords decodes every lz4 file under dir (sinks.Decode) and
// counts its lines; a temporary file left behind is an error.
func countFileRecords(b *testing.B, dir string) int64 {
	var n int64
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			return fmt.Errorf("temporary file left behind: %s", p)
		}
		if !strings.HasSuffix(d.Name(), ".lz4") {
			return fmt.Errorf("not an lz4 file: %s", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		content, err := sinks.Decode(nil, data)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if len(content) > 0 && content[len(content)-1] != '\n' {
			return fmt.Errorf("%s: last line without newline", p)
		}
		n += int64(bytes.Count(content, []byte{'\n'}))
		files++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if files == 0 {
		b.Fatalf("no file under %s", dir)
	}
	return n
}

// bareConsumeLZ4 is a baseline: one goroutine per partition reads it
// with a bare sarama consumer and writes every 1000 records as one file,
// as a careful hand-written program would (writePartitionFiles).
func bareConsumeLZ4(b *testing.B, brokers, topic, dir string) {
	c, err := sarama.NewConsumer([]string{brokers}, benchSarama())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	errs := make([]error, lz4Partitions)
	var wg sync.WaitGroup
	for p := range int32(lz4Partitions) {
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.Close()
			errs[p] = writePartitionFiles(dir, p, func(yield func(int64, []byte) bool) {
				for m := range pc.Messages() {
					if !yield(m.Offset, m.Value) {
						return
					}
				}
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
}

// franzConsumeLZ4 is bareConsumeLZ4 with a franz-go client per partition
// (direct consuming), the client Gale's kafka spout reads with.
func franzConsumeLZ4(b *testing.B, brokers, topic, dir string) {
	errs := make([]error, lz4Partitions)
	var wg sync.WaitGroup
	for p := range int32(lz4Partitions) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.FetchMaxPartitionBytes(4<<20),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().AtStart()}}))
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cl.Close()
			var fetchErr error
			errs[p] = writePartitionFiles(dir, p, func(yield func(int64, []byte) bool) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				for {
					fs := cl.PollFetches(ctx)
					if fetchErr = fs.Err(); fetchErr != nil {
						return
					}
					for it := fs.RecordIter(); !it.Done(); {
						if m := it.Next(); !yield(m.Offset, m.Value) {
							return
						}
					}
				}
			})
			errs[p] = errors.Join(errs[p], fetchErr)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
}

// writePartitionFiles writes the records of partition p, which recs
// yields in offset order from 0, as files of 1000 records into
// dir/<partition>, until the partition's last record: JSON lines (the
// values, which are JSON documents), an lz4 frame with sinks.Codec's
// settings (4 MiB blocks, content checksum, concurrency 1, fast) from
// one reused compressor, then a temporary file, fsync, rename, fsync of
// the directory.
func writePartitionFiles(dir string, p int32, recs iter.Seq2[int64, []byte]) error {
	pdir := filepath.Join(dir, fmt.Sprintf("%05d", p))
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	w := newLZ4FileWriter(pdir)
	last := int64(lz4Records/lz4Partitions) - 1
	content := make([]byte, 0, lz4FileRecs*(lz4ValueSize+1))
	var first int64
	n := 0
	for off, value := range recs {
		if n == 0 {
			first = off
		}
		content = append(content, value...)
		content = append(content, '\n')
		n++
		if n == lz4FileRecs || off >= last {
			name := fmt.Sprintf("%019d-%019d.jsonl.lz4", first, off+1)
			if err := w.write(name, content); err != nil {
				return err
			}
			content, n = content[:0], 0
		}
		if off >= last {
			return nil
		}
	}
	return fmt.Errorf("partition %d: the records ended before offset %d", p, last)
}

// lz4FileWriter writes lz4 files durably into one directory (one
// goroutine).
type lz4FileWriter struct {
	dir string
	zw  *lz4.Writer
	buf bytes.Buffer
}

func newLZ4FileWriter(dir string) *lz4FileWriter {
	w := &lz4FileWriter{dir: dir, zw: lz4.NewWriter(nil)}
	if err := w.zw.Apply(lz4.BlockSizeOption(lz4.Block4Mb), lz4.ChecksumOption(true),
		lz4.ConcurrencyOption(1), lz4.CompressionLevelOption(lz4.Fast)); err != nil {
		panic(err) // constant options
	}
	return w
}

func (w *lz4FileWriter) write(name string, content []byte) (err error) {
	w.buf.Reset()
	w.zw.Reset(&w.buf)
	if _, err := w.zw.Write(content); err != nil {
		return err
	}
	if err := w.zw.Close(); err != nil {
		return err
	}
	f, err := os.CreateTemp(w.dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(w.buf.Bytes()); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), filepath.Join(w.dir, name)); err != nil {
		return err
	}
	d, err := os.Open(w.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// TestBareLZ4MatchesCodec: the baseline's lz4 frames are byte for byte
// those of sinks.Codec (same settings), also when its compressor is reused.
func TestBareLZ4MatchesCodec(t *testing.T) {
	w := newLZ4FileWriter(t.TempDir())
	codec := sinks.Codec{Compression: sinks.CompressionLZ4}
	for i := range 3 {
		var content []byte
		for j := range lz4FileRecs {
			content = append(append(content, lz4Value(i*lz4FileRecs+j, lz4ValueSize)...), '\n')
		}
		name := fmt.Sprintf("f%d.jsonl.lz4", i)
		if err := w.write(name, content); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(w.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := codec.Encode(name, content)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("file %d: %d bytes differ from sinks.Codec's %d", i, len(got), len(want))
		}
	}
	if v := lz4Value(123456, lz4ValueSize); len(v) != lz4ValueSize {
		t.Fatalf("value of %d bytes, want %d: %s", len(v), lz4ValueSize, v)
	}
}

// galeFileSink reads the topic with Gale: kafka spout (4 tasks, file
// ledger in a fresh directory, bounded, batches of 1000 records, raw
// values) -> file_sink (format lines of "value", lz4, 2 tasks, batch
// grouping) into dir; the run ends when the topic is read and every batch
// is written and committed.
func galeFileSink(b *testing.B, brokers, topic, dir string) {
	galeToFiles(b, brokers, topic, map[string]any{"deserializer": "raw"}, map[string]any{
		"dir": dir, "format": sinks.FormatLines, "field": "value", "compression": sinks.CompressionLZ4})
}

// galeToFiles runs a bounded kafka spout on topic (spout: more of its
// config) into a file sink (sink: its config) to the end of the topic.
func galeToFiles(b *testing.B, brokers, topic string, spout, sink map[string]any) {
	reg := registry.New()
	reg.MustRegister(kafkaspout.Type())
	reg.MustRegister(file.Type())
	tb := topology.NewBuilder("bench-kafka-lz4")
	// one spout task per partition, as the baseline has one goroutine per
	// partition: each task plans and commits its batches in the ledger
	// (an fsync each) in its own loop; with 2 tasks for the 4 partitions
	// those fsyncs serialize and Gale measured ~55-65 % of the baseline
	// instead of ~65-87 % (2 cores, shared disk)
	spoutCfg := map[string]any{
		"brokers": []string{brokers}, "topics": []string{topic}, "start": "earliest", "bounded": true,
		// files of lz4FileRecs records, as the baselines' (no growth
		// under load: fewer, larger files would be less work)
		"batch":               map[string]any{"records": lz4FileRecs, "max_records": lz4FileRecs, "bytes": 4 << 20, "time": "1s"},
		"max_pending_batches": 8, "ledger": map[string]any{"dir": b.TempDir()},
	}
	maps.Copy(spoutCfg, spout)
	tb.Spout("kafka", kafkaspout.TypeName, lz4Partitions).Config(spoutCfg)
	sinkCfg := map[string]any{"dead_letter_dir": b.TempDir()}
	maps.Copy(sinkCfg, sink)
	tb.Bolt("files", "file_sink", 2).Config(sinkCfg).BatchGrouping("kafka")
	topo, err := tb.Build(reg)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := local.New(topo, local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := rt.Run(ctx); err != nil {
		b.Fatal(err)
	}
	if ctx.Err() != nil {
		b.Fatal("the topology did not finish within 10 minutes")
	}
}

// The batches of BenchmarkSinkWrite.
const (
	writeBatches    = 20   // batches per iteration
	writeBatchRecs  = 1000 // records per batch
	writeRecordSize = 200  // bytes of each JSON record (about)
)

// sinkWriteBackend is one sub-benchmark of BenchmarkSinkWrite; the Ceph
// one is added by sink_ceph_test.go (build tag ceph).
type sinkWriteBackend struct {
	name string
	run  func(b *testing.B)
}

var sinkWriteBackends = []sinkWriteBackend{
	{"file-lz4", benchFileWrite},
	{"hdfs-lz4", benchHDFSWrite},
	{"elasticsearch", benchESWrite},
	{"s3-rgw-lz4", benchS3Write},
}

// BenchmarkSinkWrite measures each backend's sinks.Writer alone, in one
// run: an iteration writes 20 batches of 1000 JSON records (~200 bytes
// each, ~200 KB per batch) with WriteBatch, one after the other from one
// goroutine, each batch new (no overwrite). Rates count the uncompressed
// content (records and a newline each). After the writes, the objects (or
// documents) stored are counted. Backends that are not running are
// skipped.
func BenchmarkSinkWrite(b *testing.B) {
	for _, be := range sinkWriteBackends {
		b.Run(be.name, be.run)
	}
}

// uniqueSuffix is random hex, for names no other run uses.
func uniqueSuffix() string {
	r := make([]byte, 4)
	rand.Read(r)
	return hex.EncodeToString(r)
}

// writeRecordLine is record off's line: a JSON document of about
// writeRecordSize bytes, with words drawn from a small vocabulary (text
// that compresses like logs do, not like a constant).
func writeRecordLine(off int64, rng *mrand.Rand) []byte {
	words := [...]string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
		"juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"}
	ts := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(off) * time.Millisecond)
	v := fmt.Appendf(nil, `{"n":%d,"ts":"%s","user":"u%04d","status":%d,"latency_ms":%d,"msg":"`,
		off, ts.Format(time.RFC3339Nano), rng.IntN(5000), 200+100*rng.IntN(4), rng.IntN(2000))
	for len(v) < writeRecordSize-2 {
		v = append(v, words[rng.IntN(len(words))]...)
		v = append(v, ' ')
	}
	v = bytes.TrimSuffix(v, []byte{' '})
	return append(v, '"', '}')
}

// writeRound returns the batches of one iteration, numbered from seq on,
// and their content bytes.
func writeRound(seq *uint64, rng *mrand.Rand) ([]*sinks.Batch, int64) {
	var content int64
	out := make([]*sinks.Batch, writeBatches)
	for i := range out {
		s := *seq
		*seq++
		m := &tuple.BatchMeta{ID: fmt.Sprintf("bench/00000/%012d", s), Source: "bench", Partition: 0, Seq: s,
			Start: int64(s) * writeBatchRecs, End: int64(s+1) * writeBatchRecs, Records: writeBatchRecs}
		bt := &sinks.Batch{Topology: "bench-sink-write", Meta: m, Records: make([]sinks.Record, writeBatchRecs)}
		for j := range bt.Records {
			off := m.Start + int64(j)
			line := writeRecordLine(off, rng)
			bt.Records[j] = sinks.Record{ID: fmt.Sprintf("bench/0/%d", off), Line: line,
				Time: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(off) * time.Millisecond)}
			content += int64(len(line) + 1)
		}
		out[i] = bt
	}
	return out, content
}

// benchWrites writes b.N rounds of batches with w and reports the rates
// over the WriteBatch calls only; then stored(batches, records) must
// confirm what was written.
func benchWrites(b *testing.B, w sinks.Writer, stored func(batches, records int) error) {
	ctx := context.Background()
	rng := mrand.New(mrand.NewPCG(1, 2))
	var seq uint64
	var records, content, written int64
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		round, size := writeRound(&seq, rng)
		b.StartTimer()
		start := time.Now()
		for _, bt := range round {
			n, err := w.WriteBatch(ctx, bt)
			if err != nil {
				b.Fatalf("write batch %s: %v", bt.Meta.ID, err)
			}
			written += n
		}
		elapsed += time.Since(start)
		records += int64(writeBatches * writeBatchRecs)
		content += size
	}
	b.StopTimer()
	if err := stored(int(seq), int(records)); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(content)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(written)/float64(content), "stored/content")
}

// objectCount checks that inv holds one object per batch written.
func objectCount(inv sinks.Inventory) func(batches, _ int) error {
	return func(batches, _ int) error {
		objs, err := inv.Objects(context.Background(), "bench-sink-write")
		if err != nil {
			return err
		}
		if len(objs) != batches {
			return fmt.Errorf("%d objects stored, want %d (one per batch)", len(objs), batches)
		}
		return nil
	}
}

func benchFileWrite(b *testing.B) {
	c := file.NewConfig()
	c.Dir = b.TempDir()
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	w := c.Writer()
	defer w.Close()
	benchWrites(b, w, objectCount(w))
}

func benchHDFSWrite(b *testing.B) {
	nn := os.Getenv(testenv.HDFSNameNodeVar)
	if nn == "" {
		b.Skip(testenv.HDFSNameNodeVar + " is not set: start HDFS with testenv/testenv up hdfs && eval \"$(testenv/testenv env)\"")
	}
	c := hdfs.NewConfig()
	c.NameNode = nn
	c.Dir = fmt.Sprintf("/gale-bench/sink-write-%d-%s", time.Now().UnixNano(), uniqueSuffix())
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	raw, err := hdfsc.NewClient(hdfsc.ClientOptions{Addresses: []string{nn}, User: c.User,
		NamenodeDialFunc: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		DatanodeDialFunc: (&net.Dialer{Timeout: 10 * time.Second}).DialContext})
	if err != nil {
		b.Fatalf("connect to hdfs://%s: %v", nn, err)
	}
	defer raw.Close()
	defer func() {
		if err := raw.RemoveAll(c.Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			b.Errorf("remove hdfs://%s%s: %v", nn, c.Dir, err)
		}
	}()
	w := c.Writer()
	defer w.Close()
	benchWrites(b, w, objectCount(w))
}

func benchESWrite(b *testing.B) {
	url := os.Getenv(testenv.ESURLVar)
	if url == "" {
		b.Skip(testenv.ESURLVar + " is not set: start OpenSearch with testenv/testenv up es && eval \"$(testenv/testenv env)\"")
	}
	c := elasticsearch.NewConfig()
	c.URLs = []string{url}
	c.Index = "gale-bench-sink-write-" + uniqueSuffix()
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	w, err := elasticsearch.NewWriter(c)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	client := w.Client()
	ctx := context.Background()
	// one shard, no replica (a single node), made before the timer: the
	// benchmark measures indexing, not index creation
	if _, err := client.Indices.Create(ctx, opensearchapi.IndicesCreateReq{Index: c.Index,
		Body: strings.NewReader(`{"settings":{"number_of_shards":1,"number_of_replicas":0}}`)}); err != nil {
		b.Fatalf("create index %s: %v", c.Index, err)
	}
	defer func() {
		if _, err := client.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{c.Index}}); err != nil {
			b.Errorf("delete index %s: %v", c.Index, err)
		}
	}()
	benchWrites(b, w, func(_, records int) error {
		if _, err := client.Indices.Refresh(ctx, &opensearchapi.IndicesRefreshReq{Index: []string{c.Index}}); err != nil {
			return fmt.Errorf("refresh %s: %w", c.Index, err)
		}
		r, err := client.Indices.Count(ctx, &opensearchapi.IndicesCountReq{Indices: []string{c.Index}})
		if err != nil {
			return fmt.Errorf("count %s: %w", c.Index, err)
		}
		if r.Count != records {
			return fmt.Errorf("index %s holds %d documents, want %d", c.Index, r.Count, records)
		}
		return nil
	})
}

// benchS3Write writes into a bucket of its own on the RADOS Gateway
// (created by the sink's create_bucket; emptied and deleted at the end).
func benchS3Write(b *testing.B) {
	env := testenv.S3(b)
	c := s3sink.NewConfig()
	c.Endpoint, c.Region, c.Bucket, c.CreateBucket = env.Endpoint, env.Region, s3test.UniqueBucket(b, "bench"), true
	c.AccessKeyEnv, c.SecretKeyEnv = testenv.S3AccessKeyVar, testenv.S3SecretKeyVar
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	s3test.DropBucket(b, s3test.Client(b), c.Bucket)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := c.Open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	benchWrites(b, w, objectCount(w))
}
