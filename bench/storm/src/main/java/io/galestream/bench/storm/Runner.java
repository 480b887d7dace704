package io.galestream.bench.storm;

import static io.galestream.bench.storm.WordCountBench.fmt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.apache.storm.Config;
import org.apache.storm.LocalCluster;
import org.apache.storm.generated.KillOptions;
import org.apache.storm.generated.TopologySummary;
import org.apache.storm.topology.TopologyBuilder;
import org.apache.storm.tuple.Fields;
import org.apache.storm.utils.Utils;

/** Drives the runs in one LocalCluster. Kept apart from main() so logging is configured first. */
final class Runner {
    private Runner() {}

    /** Storm settings that decide batching and queueing; printed so the report shows what was in force. */
    private static final String[] BATCHING_KEYS = {
        "topology.producer.batch.size",
        "topology.transfer.batch.size",
        "topology.executor.receive.buffer.size",
        "topology.transfer.buffer.size",
        "topology.batch.flush.interval.millis",
        "topology.spout.recvq.skips",
        "topology.spout.wait.strategy",
        "topology.bolt.wait.strategy",
        "topology.backpressure.wait.strategy",
        "topology.disable.loadaware.messaging",
        "topology.stats.sample.rate",
        "topology.message.timeout.secs",
    };

    private static final class Result {
        String mode;
        int pending;
        double seconds;
        double sentencesPerS;
        double emittedWordsPerS;
        double wordsPerS;
        double splitPerS;
        double ackedPerS;
        long failed;
        long latencyCount;
        double p50Ms;
        double p90Ms;
        double p99Ms;
        double p999Ms;
        double maxMs;
        double meanMs;
    }

    /** The rows= runs, in the order they may be given. */
    static final List<String> ROWS = List.of("const", "wordcount", "wordcount-fail");

    /** In the wordcount-fail row, each count task fails every FAIL_EVERY-th tuple it receives. */
    private static final int FAIL_EVERY = 100;

    private static final double MIB = 1024.0 * 1024.0;

    /** One rows= run. Rates are per second of the measured window. */
    private static final class RowResult {
        String row;
        /** Whether the row acks (1 acker, message ids); otherwise acked, failed and latency are "-". */
        boolean acking;
        double seconds;
        double tuplesPerS;
        double emittedPerS;
        double ackedPerS;
        double failedPerS;
        double boltExecutedPerS;
        long latencyCount;
        double p50Ms;
        double p90Ms;
        double p99Ms;
        double maxMs;
        double cpuS;
        double cpuSPerM;
        double peakRssMb;
        double heapMaxMb;
    }

    /** Prints the Storm version and the batching/queue settings in force to stderr. */
    private static void printSettings(Map<String, Object> overrides) {
        Map<String, Object> defaults = Utils.readStormConfig();
        defaults.putAll(overrides);
        StringBuilder sb = new StringBuilder("storm " + org.apache.storm.utils.VersionInfo.getVersion()
            + " on Java " + System.getProperty("java.version") + "; batching/queue settings in force:");
        for (String k : BATCHING_KEYS) {
            sb.append("\n  ").append(k).append(" = ").append(defaults.get(k));
        }
        for (Map.Entry<String, Object> e : overrides.entrySet()) {
            sb.append("\n  override: ").append(e.getKey()).append(" = ").append(e.getValue());
        }
        System.err.println(sb);
    }

    static int run(int warmup, int measure, List<String> modes, List<Integer> pendings,
                   Map<String, Object> overrides) throws Exception {
        printSettings(overrides);

        long t0 = System.nanoTime();
        List<Result> results = new ArrayList<>();
        int n = 0;
        try (LocalCluster cluster = new LocalCluster()) {
            System.err.println(fmt("LocalCluster up in %.1f s", (System.nanoTime() - t0) / 1e9));
            for (String mode : modes) {
                boolean acked = mode.equals("acked");
                List<Integer> ps = acked ? pendings : List.of(0);
                for (int pending : ps) {
                    Result r = runOne(cluster, ++n, acked, pending, warmup, measure, overrides);
                    results.add(r);
                    System.out.println(resultLine(r));
                    System.out.flush();
                }
            }
        }
        System.out.println();
        System.out.println("Storm " + org.apache.storm.utils.VersionInfo.getVersion()
            + " word-count baseline (LocalCluster, 1 worker, spout x1 -> split x2 -> count x2), "
            + fmt("warm-up %d s, measured %d s each", warmup, measure)
            + (overrides.isEmpty() ? "" : ", overrides " + overrides));
        System.out.println(fmt("  %-8s %7s %13s %13s %13s %9s %9s %9s",
            "mode", "pending", "sentences/s", "words/s", "acked/s", "p50 ms", "p99 ms", "failed"));
        for (Result r : results) {
            boolean a = r.mode.equals("acked");
            System.out.println(fmt("  %-8s %7s %13.0f %13.0f %13s %9s %9s %9s",
                r.mode, a ? String.valueOf(r.pending) : "-", r.sentencesPerS, r.wordsPerS,
                a ? fmt("%.0f", r.ackedPerS) : "-", a ? fmt("%.2f", r.p50Ms) : "-",
                a ? fmt("%.2f", r.p99Ms) : "-", a ? String.valueOf(r.failed) : "-"));
        }
        System.out.println(fmt("total wall time %.1f s", (System.nanoTime() - t0) / 1e9));
        return 0;
    }

    private static String resultLine(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(fmt("RESULT storm mode=%s pending=%d window_s=%.1f sentences_per_s=%.0f words_per_s=%.0f"
                + " emitted_words_per_s=%.0f split_per_s=%.0f",
            r.mode, r.pending, r.seconds, r.sentencesPerS, r.wordsPerS, r.emittedWordsPerS, r.splitPerS));
        if (r.mode.equals("acked")) {
            sb.append(fmt(" acked_per_s=%.0f failed=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f"
                    + " max_ms=%.3f mean_ms=%.3f latency_samples=%d",
                r.ackedPerS, r.failed, r.p50Ms, r.p90Ms, r.p99Ms, r.p999Ms, r.maxMs, r.meanMs, r.latencyCount));
        }
        return sb.toString();
    }

    private static Result runOne(LocalCluster cluster, int n, boolean acked, int pending, int warmup,
                                 int measure, Map<String, Object> overrides) throws Exception {
        String mode = acked ? "acked" : "unacked";
        String name = "gale-wordcount-" + mode + (acked ? "-p" + pending : "") + "-" + n;
        String runId = name;
        Shared.RunStats stats = Shared.stats(runId);

        TopologyBuilder b = new TopologyBuilder();
        b.setSpout("spout", new SentenceSpout(runId, acked), 1);
        b.setBolt("split", new SplitBolt(runId, acked), 2).shuffleGrouping("spout");
        b.setBolt("count", new CountBolt(runId), 2).fieldsGrouping("split", new Fields("word"));

        Config conf = new Config();
        conf.setNumWorkers(1);
        conf.setNumAckers(acked ? 1 : 0);
        if (acked) {
            conf.setMaxSpoutPending(pending);
        }
        conf.setMessageTimeoutSecs(30);
        conf.setDebug(false);
        conf.putAll(overrides);

        System.err.println(fmt("[%s] submitting (ackers=%d, max.spout.pending=%s)", name, acked ? 1 : 0,
            acked ? String.valueOf(pending) : "unset"));
        submitAndWarmUp(cluster, name, conf, b, stats, warmup);

        stats.completeLatencyMicros.reset();
        Shared.Snapshot s0 = stats.snapshot();
        Thread.sleep(measure * 1000L);
        Shared.Snapshot s1 = stats.snapshot();
        Histogram h = stats.completeLatencyMicros.getIntervalHistogram();

        Result r = new Result();
        r.mode = mode;
        r.pending = acked ? pending : 0;
        r.seconds = (s1.nanos - s0.nanos) / 1e9;
        r.sentencesPerS = (s1.emitted - s0.emitted) / r.seconds;
        r.emittedWordsPerS = (s1.emittedWords - s0.emittedWords) / r.seconds;
        r.wordsPerS = (s1.wordsCounted - s0.wordsCounted) / r.seconds;
        r.splitPerS = (s1.splitExecuted - s0.splitExecuted) / r.seconds;
        r.ackedPerS = (s1.acked - s0.acked) / r.seconds;
        r.failed = s1.failed - s0.failed;
        r.latencyCount = h.getTotalCount();
        if (r.latencyCount > 0) {
            r.p50Ms = h.getValueAtPercentile(50) / 1000.0;
            r.p90Ms = h.getValueAtPercentile(90) / 1000.0;
            r.p99Ms = h.getValueAtPercentile(99) / 1000.0;
            r.p999Ms = h.getValueAtPercentile(99.9) / 1000.0;
            r.maxMs = h.getMaxValue() / 1000.0;
            r.meanMs = h.getMean() / 1000.0;
        }
        kill(cluster, name, stats);
        Shared.forget(runId);
        return r;
    }

    static int runRows(int warmup, int measure, List<String> rows, int pending, Map<String, Object> overrides)
            throws Exception {
        printSettings(overrides);

        long t0 = System.nanoTime();
        List<RowResult> results = new ArrayList<>();
        int n = 0;
        try (LocalCluster cluster = new LocalCluster()) {
            System.err.println(fmt("LocalCluster up in %.1f s", (System.nanoTime() - t0) / 1e9));
            for (String row : rows) {
                RowResult r = runRow(cluster, ++n, row, pending, warmup, measure, overrides);
                results.add(r);
                System.out.println(rowLine(r));
                System.out.flush();
            }
        }
        System.out.println();
        System.out.println("Storm " + org.apache.storm.utils.VersionInfo.getVersion()
            + " rows (LocalCluster, 1 worker; wordcount rows: spout x1 -> split x2 -> count x2, "
            + fmt("max spout pending %d), warm-up %d s, measured %d s each", pending, warmup, measure)
            + (overrides.isEmpty() ? "" : ", overrides " + overrides));
        System.out.println(fmt("  %-14s %11s %11s %11s %9s %11s %8s %8s %7s %8s %8s",
            "row", "tuples/s", "emitted/s", "acked/s", "failed/s", "executed/s", "p50 ms", "p99 ms",
            "cpu s", "cpu s/M", "rss MiB"));
        for (RowResult r : results) {
            System.out.println(fmt("  %-14s %11.0f %11.0f %11s %9s %11.0f %8s %8s %7.2f %8s %8s",
                r.row, r.tuplesPerS, r.emittedPerS, opt(r.acking, "%.0f", r.ackedPerS),
                opt(r.acking, "%.0f", r.failedPerS), r.boltExecutedPerS,
                opt(r.latencyCount > 0, "%.2f", r.p50Ms), opt(r.latencyCount > 0, "%.2f", r.p99Ms),
                r.cpuS, opt(!Double.isNaN(r.cpuSPerM), "%.2f", r.cpuSPerM),
                opt(!Double.isNaN(r.peakRssMb), "%.0f", r.peakRssMb)));
        }
        System.out.println(fmt("total wall time %.1f s", (System.nanoTime() - t0) / 1e9));
        return 0;
    }

    /** v formatted with f when it applies, else "-". */
    private static String opt(boolean applies, String f, double v) {
        return applies ? fmt(f, v) : "-";
    }

    private static String rowLine(RowResult r) {
        boolean lat = r.latencyCount > 0;
        return fmt("RESULT storm row=%s window_s=%.3f tuples_per_s=%.0f emitted_per_s=%.0f acked_per_s=%s"
                + " failed_per_s=%s bolt_executed_per_s=%.0f p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s"
                + " cpu_s=%.3f cpu_s_per_m=%s peak_rss_mb=%s heap_max_mb=%.0f",
            r.row, r.seconds, r.tuplesPerS, r.emittedPerS, opt(r.acking, "%.0f", r.ackedPerS),
            opt(r.acking, "%.1f", r.failedPerS), r.boltExecutedPerS,
            opt(lat, "%.3f", r.p50Ms), opt(lat, "%.3f", r.p90Ms), opt(lat, "%.3f", r.p99Ms), opt(lat, "%.3f", r.maxMs),
            r.cpuS, opt(!Double.isNaN(r.cpuSPerM), "%.3f", r.cpuSPerM),
            opt(!Double.isNaN(r.peakRssMb), "%.1f", r.peakRssMb), r.heapMaxMb);
    }

    private static RowResult runRow(LocalCluster cluster, int n, String row, int pending, int warmup,
                                    int measure, Map<String, Object> overrides) throws Exception {
        String name = "gale-row-" + row + "-" + n;
        String runId = name;
        Shared.RunStats stats = Shared.stats(runId);
        boolean acking = !row.equals("const");

        TopologyBuilder b = new TopologyBuilder();
        Config conf = new Config();
        conf.setNumWorkers(1);
        if (acking) {
            // wordcount-fail: the count tasks fail some words, the spout replays those sentences.
            boolean failing = row.equals("wordcount-fail");
            b.setSpout("spout", new SentenceSpout(runId, true, failing), 1);
            b.setBolt("split", new SplitBolt(runId, true), 2).shuffleGrouping("spout");
            b.setBolt("count", new CountBolt(runId, failing ? FAIL_EVERY : 0), 2)
                .fieldsGrouping("split", new Fields("word"));
            conf.setNumAckers(1);
            conf.setMaxSpoutPending(pending);
        } else {
            b.setSpout("spout", new ConstSpout(runId), 1);
            b.setBolt("noop", new NoopBolt(runId), 1).shuffleGrouping("spout");
            conf.setNumAckers(0);
        }
        conf.setMessageTimeoutSecs(30);
        conf.setDebug(false);
        conf.putAll(overrides);

        System.err.println(fmt("[%s] submitting (ackers=%d, max.spout.pending=%s)", name, acking ? 1 : 0,
            acking ? String.valueOf(pending) : "unset"));
        submitAndWarmUp(cluster, name, conf, b, stats, warmup);

        stats.completeLatencyMicros.reset();
        Shared.Snapshot s0 = stats.snapshot();
        Thread.sleep(measure * 1000L);
        Shared.Snapshot s1 = stats.snapshot();
        Histogram h = stats.completeLatencyMicros.getIntervalHistogram();

        RowResult r = new RowResult();
        r.row = row;
        r.acking = acking;
        r.seconds = (s1.nanos - s0.nanos) / 1e9;
        r.emittedPerS = (s1.emitted - s0.emitted) / r.seconds;
        r.ackedPerS = (s1.acked - s0.acked) / r.seconds;
        r.failedPerS = (s1.failed - s0.failed) / r.seconds;
        r.tuplesPerS = acking ? r.ackedPerS : r.emittedPerS;
        r.boltExecutedPerS = acking
            ? (s1.wordsCounted - s0.wordsCounted) / r.seconds
            : (s1.noopExecuted - s0.noopExecuted) / r.seconds;
        r.latencyCount = h.getTotalCount();
        if (r.latencyCount > 0) {
            r.p50Ms = h.getValueAtPercentile(50) / 1000.0;
            r.p90Ms = h.getValueAtPercentile(90) / 1000.0;
            r.p99Ms = h.getValueAtPercentile(99) / 1000.0;
            r.maxMs = h.getMaxValue() / 1000.0;
        }
        r.cpuS = (s1.cpuNanos - s0.cpuNanos) / 1e9;
        double tuples = r.tuplesPerS * r.seconds;
        r.cpuSPerM = tuples > 0 ? r.cpuS / tuples * 1e6 : Double.NaN;
        r.peakRssMb = peakRssMiB();
        r.heapMaxMb = Runtime.getRuntime().maxMemory() / MIB;
        kill(cluster, name, stats);
        Shared.forget(runId);
        return r;
    }

    /**
     * VmHWM from /proc/self/status in MiB: the peak resident set size of this JVM
     * since it started (so it includes LocalCluster and any earlier row), or NaN
     * where there is no such file.
     */
    private static double peakRssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024 / MIB; // the value is in kB
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("peak RSS: " + e);
        }
        return Double.NaN;
    }

    /** Submits the topology, waits for its first spout emit, then sleeps through the warm-up. */
    private static void submitAndWarmUp(LocalCluster cluster, String name, Config conf, TopologyBuilder b,
                                        Shared.RunStats stats, int warmup) throws Exception {
        long submitted = System.nanoTime();
        cluster.submitTopology(name, conf, b.createTopology());

        // Wait for the first tuple, then warm up.
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (stats.spoutEmitted.sum() == 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + ": no tuple emitted within 180 s of submission");
            }
            Thread.sleep(20);
        }
        System.err.println(fmt("[%s] first tuple %.1f s after submit; warming up %d s", name,
            (System.nanoTime() - submitted) / 1e9, warmup));
        Thread.sleep(warmup * 1000L);
    }

    private static void kill(LocalCluster cluster, String name, Shared.RunStats stats) throws Exception {
        long t = System.nanoTime();
        KillOptions ko = new KillOptions();
        ko.set_wait_secs(0);
        cluster.killTopologyWithOpts(name, ko);
        long deadline = System.nanoTime() + 60_000_000_000L;
        long last = -1;
        while (System.nanoTime() < deadline) {
            boolean present = false;
            for (TopologySummary ts : cluster.getTopologySummaries()) {
                if (ts.get_name().equals(name)) {
                    present = true;
                }
            }
            long now = stats.spoutEmitted.sum();
            if (!present && now == last) {
                break;
            }
            last = now;
            Thread.sleep(500);
        }
        System.err.println(fmt("[%s] killed in %.1f s", name, (System.nanoTime() - t) / 1e9));
    }
}
