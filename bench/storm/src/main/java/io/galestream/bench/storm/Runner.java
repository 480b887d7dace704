package io.galestream.bench.storm;

import static io.galestream.bench.storm.WordCountBench.fmt;

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

    static int run(int warmup, int measure, List<String> modes, List<Integer> pendings,
                   Map<String, Object> overrides) throws Exception {
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
