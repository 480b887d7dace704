package io.galestream.bench.flink;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

/**
 * Apache Flink peer of Gale's Kafka to files rows (the runners' contract: go doc ./bench/cmd/benchpeers; bench/flink/README.md).
 *
 * <p>Kafka topic (earliest offsets, unbounded) --> map (carries each record value; with
 * fail_partition=P throws once) --> FileSink (row format, one value per line, no bucket
 * subdirectories, part files rolled and committed at each checkpoint), checkpointing EXACTLY_ONCE,
 * in a MiniCluster in this JVM. Prints RUNNING on stdout once the job is running; runs until
 * SIGTERM (a shutdown hook cancels the job).
 *
 * <pre>
 * KafkaFiles brokers=HOST:PORT topic=T group=G out=URI [parallelism=N] [checkpoint_ms=1000] [fail_partition=P]
 * </pre>
 *
 * <p>This class touches no Flink or logging class in static initialisers, so the log4j2
 * configuration property set in main() is in force before anything logs.
 */
public final class KafkaFiles {
    private KafkaFiles() {}

    /** Restart attempts of the fixed-delay restart strategy, and the delay between them. */
    static final int RESTART_ATTEMPTS = 3;

    static final Duration RESTART_DELAY = Duration.ofSeconds(1);

    public static void main(String[] args) throws Exception {
        if (System.getProperty("log4j2.configurationFile") == null
            && System.getProperty("log4j.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2-bench.xml");
        }
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("brokers", "");
        opts.put("topic", "");
        opts.put("group", "");
        opts.put("out", "");
        opts.put("parallelism", "1");
        opts.put("checkpoint_ms", "1000");
        opts.put("fail_partition", "");
        for (String a : args) {
            String arg = a.startsWith("--") ? a.substring(2) : a;
            int eq = arg.indexOf('=');
            if (eq > 0 && opts.containsKey(arg.substring(0, eq))) {
                opts.put(arg.substring(0, eq), arg.substring(eq + 1));
            } else {
                System.err.println("KafkaFiles: unknown argument: " + a);
                usage();
                System.exit(2);
            }
        }
        for (String k : new String[] {"brokers", "topic", "group", "out"}) {
            if (opts.get(k).isEmpty()) {
                System.err.println("KafkaFiles: " + k + "= is required");
                usage();
                System.exit(2);
            }
        }
        int parallelism = Integer.parseInt(opts.get("parallelism"));
        long checkpointMs = Long.parseLong(opts.get("checkpoint_ms"));
        int failPartition = opts.get("fail_partition").isEmpty() ? -1 : Integer.parseInt(opts.get("fail_partition"));
        if (parallelism < 1 || checkpointMs < 10) {
            System.err.println("KafkaFiles: parallelism must be >= 1 and checkpoint_ms >= 10");
            System.exit(2);
        }

        Configuration conf = new Configuration();
        String out = opts.get("out");
        if (out.startsWith("hdfs://")) {
            // Like Gale's HDFS sink with replication and block size unset: the cluster's
            // defaults (the NameNode's server defaults), not the Hadoop client's (3 and 128 MiB).
            org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(out);
            try (org.apache.hadoop.fs.FileSystem fs =
                    org.apache.hadoop.fs.FileSystem.newInstance(hp.toUri(), new org.apache.hadoop.conf.Configuration())) {
                org.apache.hadoop.fs.FsServerDefaults d = fs.getServerDefaults(hp);
                conf.set(stringOption("flink.hadoop.dfs.replication"), Short.toString(d.getReplication()));
                conf.set(stringOption("flink.hadoop.dfs.blocksize"), Long.toString(d.getBlockSize()));
                System.err.println("KafkaFiles: HDFS server defaults: replication " + d.getReplication()
                    + ", block size " + d.getBlockSize());
            }
            // The local environment does not hand its configuration to Flink's file systems:
            // initialise them here so that the flink.hadoop.* keys reach HadoopFsFactory.
            FileSystem.initialize(conf, null);
        }
        // The MiniCluster's endpoints (REST, blob server, RPC) on loopback only, random ports.
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(JobManagerOptions.BIND_HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.BIND_HOST, "127.0.0.1");
        conf.set(TaskManagerOptions.HOST, "127.0.0.1");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, RESTART_DELAY);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
        env.enableCheckpointing(checkpointMs, CheckpointingMode.EXACTLY_ONCE);

        KafkaSource<Tuple2<Integer, String>> source = KafkaSource.<Tuple2<Integer, String>>builder()
            .setBootstrapServers(opts.get("brokers"))
            .setTopics(opts.get("topic"))
            .setGroupId(opts.get("group"))
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setDeserializer(new PartitionValue())
            .setProperty("commit.offsets.on.checkpoint", "true")
            .build();

        FileSink<String> sink = FileSink
            .forRowFormat(new Path(out), new SimpleStringEncoder<String>("UTF-8"))
            .withBucketAssigner(new BasePathBucketAssigner<>())
            .withRollingPolicy(OnCheckpointRollingPolicy.build())
            .build();

        DataStream<Tuple2<Integer, String>> records = env
            .fromSource(source, WatermarkStrategy.noWatermarks(), "kafka")
            .uid("kafka");
        FailOnce.configure(failPartition);
        records.map(new FailOnce()).returns(Types.STRING).name("value").uid("value")
            .sinkTo(sink).name("files").uid("files");

        JobClient client = env.executeAsync("gale-bench kafka-files");
        Thread hook = new Thread(() -> {
            try {
                client.cancel().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // exiting anyway
            }
        }, "cancel-on-sigterm");
        Runtime.getRuntime().addShutdownHook(hook);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            JobStatus st = client.getJobStatus().get();
            if (st == JobStatus.RUNNING) {
                break;
            }
            if (st.isGloballyTerminalState() || System.nanoTime() > deadline) {
                System.err.println("KafkaFiles: job is " + st + ", not RUNNING");
                System.exit(1);
            }
            Thread.sleep(50);
        }
        FailOnce.start();
        System.out.println("RUNNING");
        System.out.flush();
        double cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime() / 1e9;
        System.err.printf("KafkaFiles: job %s RUNNING %.1f s after the JVM started, %.1f CPU s (parallelism %d, checkpoint every %d ms%s)%n",
            client.getJobID(), ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0, cpu, parallelism, checkpointMs,
            failPartition >= 0 ? ", fail_partition " + failPartition : "");

        try {
            client.getJobExecutionResult().get();
            System.err.println("KafkaFiles: the job finished");
        } catch (Exception e) {
            System.err.println("KafkaFiles: the job failed: " + e);
            System.exit(1);
        }
    }

    private static ConfigOption<String> stringOption(String key) {
        return ConfigOptions.key(key).stringType().noDefaultValue();
    }

    private static void usage() {
        System.err.println(
            "usage: KafkaFiles brokers=HOST:PORT topic=T group=G out=URI [parallelism=1] [checkpoint_ms=1000] [fail_partition=P]");
    }
}
