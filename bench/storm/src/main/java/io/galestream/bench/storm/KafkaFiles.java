package io.galestream.bench.storm;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Peers mode of the Storm baseline (the runners' contract: go doc ./bench/cmd/benchpeers; README.md):
 * Kafka topic -> files, each record value written unchanged as one line.
 *
 * <pre>
 * run.sh kafka-files brokers=HOST:PORT topic=T group=G out=URI parallelism=N
 *                    [checkpoint_ms=1000 (ignored)] [fail_partition=P]
 *                    [pending=5000] [sync_tuples=1000] [tick_s=1] [rotate_mb=128]
 *                    [max_uncommitted=200000] [local_checksum=false] [conf.STORM_KEY=VALUE ...]
 * </pre>
 *
 * <p>Topology in LocalCluster (1 worker): KafkaSpout x N (at-least-once, first poll EARLIEST)
 * [--fields(partition)--> fail-once x N, when fail_partition is given] --localOrShuffle--> HdfsBolt x N.
 * Prints RUNNING on stdout once every spout task is activated, then runs until SIGTERM.
 *
 * <p>Like WordCountBench, this class touches no Storm or logging class in static initialisers, so
 * the log4j2 configuration property set in main() is in force before anything logs.
 */
public final class KafkaFiles {
    private KafkaFiles() {}

    /** Settings and their defaults; "" means required (or, for fail_partition, off). */
    static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("brokers", "");
        d.put("topic", "");
        d.put("group", "");
        d.put("out", "");
        d.put("parallelism", "1");
        d.put("checkpoint_ms", "1000");
        d.put("fail_partition", "");
        d.put("pending", "5000");
        d.put("sync_tuples", "1000");
        d.put("tick_s", "1");
        d.put("rotate_mb", "128");
        d.put("max_uncommitted", "200000");
        d.put("local_checksum", "false");
        return d;
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("log4j2.configurationFile") == null
            && System.getProperty("log4j.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2-bench.xml");
        }
        // stdout carries only RUNNING: anything a library prints there goes to stderr.
        PrintStream stdout = System.out;
        System.setOut(System.err);

        Map<String, String> opts = defaults();
        Map<String, Object> overrides = new LinkedHashMap<>();
        for (String a : args) {
            String arg = a.startsWith("--") ? a.substring(2) : a;
            int eq = arg.indexOf('=');
            if (arg.startsWith("conf.") && eq > 5) {
                overrides.put(arg.substring(5, eq), WordCountBench.parseValue(arg.substring(eq + 1)));
            } else if (eq > 0 && opts.containsKey(arg.substring(0, eq))) {
                opts.put(arg.substring(0, eq), arg.substring(eq + 1));
            } else {
                System.err.println("kafka-files: unknown argument: " + a);
                usage();
                System.exit(2);
            }
        }
        for (String k : new String[] {"brokers", "topic", "group", "out"}) {
            if (opts.get(k).isEmpty()) {
                System.err.println("kafka-files: " + k + "= is required");
                usage();
                System.exit(2);
            }
        }
        KafkaFilesRunner.Settings s;
        try {
            s = KafkaFilesRunner.Settings.of(opts, overrides);
        } catch (IllegalArgumentException e) {
            System.err.println("kafka-files: " + e.getMessage());
            usage();
            System.exit(2);
            return;
        }
        KafkaFilesRunner.run(s, stdout);
    }

    private static void usage() {
        System.err.println("usage: run.sh kafka-files brokers=HOST:PORT topic=T group=G out=file:///ABS/DIR|hdfs://HOST:PORT/DIR"
            + " [parallelism=1] [checkpoint_ms=1000 (ignored)] [fail_partition=P] [pending=5000] [sync_tuples=1000]"
            + " [tick_s=1] [rotate_mb=128] [max_uncommitted=200000] [local_checksum=false] [conf.STORM_KEY=VALUE ...]");
    }
}
