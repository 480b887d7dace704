package io.galestream.bench.storm;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * Input data and in-JVM counters shared by the topology's components and the
 * driver. LocalCluster runs every executor in this JVM, so components look
 * their counters up by run id (each measured run gets a fresh id, so a
 * killed topology that is still draining cannot pollute the next run).
 */
final class Shared {
    private Shared() {}

    /** The same sentences, in the same order, as Gale's bench/wordcount_test.go. */
    static final List<String> SENTENCES = List.of(
        "the cow jumped over the moon",
        "an apple a day keeps the doctor away",
        "four score and seven years ago",
        "snow white and the seven dwarfs",
        "i am at two with nature",
        "the quick brown fox",
        "jumps over the lazy dog",
        "to be or not to be",
        "all that glitters is not gold",
        "a stitch in time saves nine");

    /** Counters of one run. Written by executor threads, read by the driver. */
    static final class RunStats {
        final LongAdder spoutEmitted = new LongAdder();
        final LongAdder spoutEmittedWords = new LongAdder();
        final LongAdder spoutAcked = new LongAdder();
        final LongAdder spoutFailed = new LongAdder();
        final LongAdder splitExecuted = new LongAdder();
        final LongAdder wordsCounted = new LongAdder();
        final LongAdder noopExecuted = new LongAdder();
        /** Complete latency (spout emit to spout ack callback), microseconds. */
        final Recorder completeLatencyMicros = new Recorder(3);

        Snapshot snapshot() {
            Snapshot s = new Snapshot();
            s.nanos = System.nanoTime();
            s.emitted = spoutEmitted.sum();
            s.emittedWords = spoutEmittedWords.sum();
            s.acked = spoutAcked.sum();
            s.failed = spoutFailed.sum();
            s.splitExecuted = splitExecuted.sum();
            s.wordsCounted = wordsCounted.sum();
            s.noopExecuted = noopExecuted.sum();
            s.cpuNanos = OS.getProcessCpuTime();
            return s;
        }
    }

    static final class Snapshot {
        long nanos;
        long emitted;
        long emittedWords;
        long acked;
        long failed;
        long splitExecuted;
        long wordsCounted;
        long noopExecuted;
        /** CPU time (user + system) of the whole JVM process so far, nanoseconds. */
        long cpuNanos;
    }

    /** HotSpot's extension of the platform bean; it has the process CPU time. */
    private static final OperatingSystemMXBean OS =
        (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private static final ConcurrentHashMap<String, RunStats> RUNS = new ConcurrentHashMap<>();

    static RunStats stats(String runId) {
        return RUNS.computeIfAbsent(runId, k -> new RunStats());
    }

    static void forget(String runId) {
        RUNS.remove(runId);
    }
}
