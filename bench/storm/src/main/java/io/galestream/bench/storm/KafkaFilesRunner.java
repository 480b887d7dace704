package io.galestream.bench.storm;

import static io.galestream.bench.storm.WordCountBench.fmt;

import java.io.PrintStream;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.storm.Config;
import org.apache.storm.LocalCluster;
import org.apache.storm.generated.KillOptions;
import org.apache.storm.hdfs.bolt.HdfsBolt;
import org.apache.storm.hdfs.bolt.format.DefaultFileNameFormat;
import org.apache.storm.hdfs.bolt.rotation.FileSizeRotationPolicy;
import org.apache.storm.hdfs.bolt.sync.CountSyncPolicy;
import org.apache.storm.kafka.spout.FirstPollOffsetStrategy;
import org.apache.storm.kafka.spout.KafkaSpoutConfig;
import org.apache.storm.kafka.spout.KafkaSpoutRetryExponentialBackoff;
import org.apache.storm.kafka.spout.KafkaSpoutRetryExponentialBackoff.TimeInterval;
import org.apache.storm.topology.TopologyBuilder;
import org.apache.storm.tuple.Fields;

/** Builds and runs the kafka-files topology in a LocalCluster until SIGTERM (see KafkaFiles, README.md). */
final class KafkaFilesRunner {
    private KafkaFilesRunner() {}

    static final String TOPOLOGY = "gale-kafka-files";
    static final String[] FIELDS = {"partition", "offset", "value"};
    /** Topology config key of the Hadoop Configuration entries HdfsBolt applies (withConfigKey). */
    static final String HDFS_CONFIG_KEY = "gale.hdfs.config";

    /** In-JVM counters (LocalCluster runs every executor in this JVM). */
    static volatile CountDownLatch ACTIVATED = new CountDownLatch(1);
    static final LongAdder ACKED = new LongAdder();
    static final LongAdder FAILED = new LongAdder();
    static final LongAdder FAILED_BY_BOLT = new LongAdder();

    /** Parsed arguments. */
    static final class Settings {
        String brokers;
        String topic;
        String group;
        /** out= without a trailing '/': the HdfsBolt fsUrl; files go directly under it. */
        String out;
        int parallelism;
        /** -1: no failing bolt. */
        int failPartition = -1;
        int pending;
        int syncTuples;
        int tickSeconds;
        float rotateMb;
        int maxUncommitted;
        boolean localChecksum;
        Map<String, Object> overrides;

        static Settings of(Map<String, String> o, Map<String, Object> overrides) {
            Settings s = new Settings();
            s.brokers = o.get("brokers");
            s.topic = o.get("topic");
            s.group = o.get("group");
            s.out = o.get("out").replaceAll("/+$", "");
            URI u = URI.create(s.out);
            if (!"file".equals(u.getScheme()) && !"hdfs".equals(u.getScheme())) {
                throw new IllegalArgumentException("out= must be file:///ABS/DIR or hdfs://HOST:PORT/DIR, not " + s.out);
            }
            if (u.getPath() == null || u.getPath().isEmpty() || u.getPath().equals("/")) {
                throw new IllegalArgumentException("out= needs a directory below the root: " + s.out);
            }
            s.parallelism = positive(o, "parallelism");
            if (!o.get("fail_partition").isEmpty()) {
                s.failPartition = Integer.parseInt(o.get("fail_partition"));
            }
            s.pending = positive(o, "pending");
            s.syncTuples = positive(o, "sync_tuples");
            s.tickSeconds = positive(o, "tick_s");
            s.rotateMb = Float.parseFloat(o.get("rotate_mb"));
            s.maxUncommitted = positive(o, "max_uncommitted");
            s.localChecksum = Boolean.parseBoolean(o.get("local_checksum"));
            s.overrides = overrides;
            return s;
        }

        private static int positive(Map<String, String> o, String k) {
            int v = Integer.parseInt(o.get(k));
            if (v <= 0) {
                throw new IllegalArgumentException(k + "= must be > 0");
            }
            return v;
        }
    }

    static void run(Settings s, PrintStream stdout) throws Exception {
        long t0 = System.nanoTime();
        ACTIVATED = new CountDownLatch(s.parallelism);

        KafkaSpoutConfig<byte[], byte[]> spoutConfig = new KafkaSpoutConfig.Builder<byte[], byte[]>(s.brokers, s.topic)
            .setProp(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class)
            .setProp(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class)
            .setGroupId(s.group)
            .setFirstPollOffsetStrategy(FirstPollOffsetStrategy.EARLIEST)
            .setProcessingGuarantee(KafkaSpoutConfig.ProcessingGuarantee.AT_LEAST_ONCE)
            .setRecordTranslator(new RecordFields(), new Fields(FIELDS))
            // A failed tuple is retried after 10 ms (then 20, 40, ... ms, at most 200 ms), without limit.
            .setRetry(new KafkaSpoutRetryExponentialBackoff(TimeInterval.milliSeconds(10),
                TimeInterval.milliSeconds(10), Integer.MAX_VALUE, TimeInterval.milliSeconds(200)))
            .setOffsetCommitPeriodMs(1000)
            .setMaxUncommittedOffsets(s.maxUncommitted)
            .build();

        HdfsBolt hdfs = new HdfsBolt()
            .withFsUrl(s.out)
            .withConfigKey(HDFS_CONFIG_KEY)
            // Files directly under out: fsUrl + "/" + NAME, NAME = files-TASKID-ROTATION-MILLIS.txt.
            .withFileNameFormat(new DefaultFileNameFormat().withPath("/").withPrefix("").withExtension(".txt"))
            .withRecordFormat(new ValueLineFormat())
            .withSyncPolicy(new CountSyncPolicy(s.syncTuples))
            .withTickTupleIntervalSeconds(s.tickSeconds)
            .withRotationPolicy(new FileSizeRotationPolicy(s.rotateMb, FileSizeRotationPolicy.Units.MB));

        TopologyBuilder b = new TopologyBuilder();
        b.setSpout("kafka", new CountingKafkaSpout(spoutConfig), s.parallelism);
        String into = "kafka";
        if (s.failPartition >= 0) {
            b.setBolt("fail-once", new FailOnceBolt(s.failPartition), s.parallelism)
                .fieldsGrouping("kafka", new Fields("partition"));
            into = "fail-once";
        }
        b.setBolt("files", hdfs, s.parallelism).localOrShuffleGrouping(into);

        Map<String, Object> hadoop = new HashMap<>();
        if (s.out.startsWith("file:") && !s.localChecksum) {
            // LocalFileSystem is a ChecksumFileSystem over RawLocalFileSystem; its stream's hsync only pushes
            // whole 512-byte checksum chunks into the raw stream's 4 KiB buffer, without flushing it, so
            // synced (and acked) lines can stay invisible until later writes or a close.
            // RawLocalFileSystem's hsync flushes and fsyncs. Uncached: the cache ignores this setting.
            hadoop.put("fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem");
            hadoop.put("fs.file.impl.disable.cache", "true");
        }

        Config conf = new Config();
        conf.setNumWorkers(1);
        conf.setNumAckers(1);
        conf.setMaxSpoutPending(s.pending);
        conf.setMessageTimeoutSecs(30);
        conf.put(HDFS_CONFIG_KEY, hadoop);
        conf.putAll(s.overrides);

        System.err.println(fmt("kafka-files: storm %s on Java %s; topic %s, group %s, out %s, parallelism %d, "
                + "fail_partition %s; max.spout.pending %d per spout task, sync every %d tuples per file + tick %d s, "
                + "rotation at %.0f MB, max uncommitted offsets %d per partition%s%s",
            org.apache.storm.utils.VersionInfo.getVersion(), System.getProperty("java.version"), s.topic, s.group,
            s.out, s.parallelism, s.failPartition < 0 ? "off" : String.valueOf(s.failPartition), s.pending,
            s.syncTuples, s.tickSeconds, s.rotateMb, s.maxUncommitted,
            hadoop.isEmpty() ? "" : ", local files through RawLocalFileSystem",
            s.overrides.isEmpty() ? "" : ", overrides " + s.overrides));

        // As new LocalCluster() (message timeouts on), but the supervisor waits 0 s instead of 3 s between
        // the steps of killing the worker, so that close() on SIGTERM is quick.
        LocalCluster cluster = new LocalCluster.Builder()
            .withDaemonConf(Config.TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS, true)
            .withDaemonConf(Config.SUPERVISOR_WORKER_SHUTDOWN_SLEEP_SECS, 0)
            .build();
        System.err.println(fmt("kafka-files: LocalCluster up in %.1f s", (System.nanoTime() - t0) / 1e9));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(cluster), "kafka-files-shutdown"));

        cluster.submitTopology(TOPOLOGY, conf, b.createTopology());
        if (!ACTIVATED.await(180, TimeUnit.SECONDS)) {
            System.err.println("kafka-files: the spout tasks were not all activated within 180 s");
            System.exit(1);
        }
        System.err.println(fmt("kafka-files: running %.1f s after start", (System.nanoTime() - t0) / 1e9));
        stdout.println("RUNNING");
        stdout.flush();
        while (true) {
            Thread.sleep(60_000);
        }
    }

    /** The shutdown hook halts the JVM if closing LocalCluster takes longer. */
    private static final long HALT_AFTER_MS = 5_000;

    /** SIGTERM: kill the topology at once and close the cluster; halt if that takes too long. */
    private static void shutdown(LocalCluster cluster) {
        long t0 = System.nanoTime();
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(HALT_AFTER_MS);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("kafka-files: LocalCluster did not stop within " + HALT_AFTER_MS + " ms; halting");
            Runtime.getRuntime().halt(143);
        }, "kafka-files-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        System.err.println(fmt("kafka-files: stopping; spout acked %d, failed %d (failed by fail-once: %d)",
            ACKED.sum(), FAILED.sum(), FAILED_BY_BOLT.sum()));
        try {
            KillOptions ko = new KillOptions();
            ko.set_wait_secs(0);
            cluster.killTopologyWithOpts(TOPOLOGY, ko);
            System.err.println(fmt("kafka-files: topology killed after %.1f s", (System.nanoTime() - t0) / 1e9));
        } catch (Throwable e) {
            System.err.println("kafka-files: kill: " + e);
        }
        try {
            cluster.close();
        } catch (Throwable e) {
            System.err.println("kafka-files: close: " + e);
        }
        System.err.println(fmt("kafka-files: stopped in %.1f s", (System.nanoTime() - t0) / 1e9));
        System.err.flush();
    }
}
