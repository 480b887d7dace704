package io.galestream.bench.flink;

import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.java.tuple.Tuple2;

/**
 * The map before the sink: passes each record's value on. With fail_partition=P it throws once
 * (a task failure; the job restarts from its last checkpoint) on the first record of partition P
 * it sees once the job has run for {@link #DELAY_NANOS}.
 *
 * <p>The state is static: the MiniCluster runs the tasks in this JVM, and the job's classes come
 * from the application class path (no user jars), so the flag is JVM-wide and survives the
 * restart: it throws once in all, not once per subtask or attempt.
 */
final class FailOnce implements MapFunction<Tuple2<Integer, String>, String> {
    private static final long serialVersionUID = 1L;

    static final long DELAY_NANOS = 5_000_000_000L;

    private static volatile int partition = -1;
    private static volatile long startNanos = Long.MAX_VALUE;
    private static final AtomicBoolean failed = new AtomicBoolean();

    static void configure(int p) {
        partition = p;
    }

    /** Starts the 5 s clock (called when the job is RUNNING). */
    static void start() {
        startNanos = System.nanoTime();
    }

    @Override
    public String map(Tuple2<Integer, String> rec) {
        int p = partition;
        if (p >= 0 && rec.f0 == p && !failed.get()) {
            long start = startNanos;
            if (start != Long.MAX_VALUE && System.nanoTime() - start >= DELAY_NANOS && failed.compareAndSet(false, true)) {
                System.err.println("FailOnce: failing the task on a record of partition " + p + " (once)");
                throw new RuntimeException("gale-bench: injected failure on partition " + p);
            }
        }
        return rec.f1;
    }
}
