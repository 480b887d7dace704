package io.galestream.bench.storm;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import org.apache.storm.spout.SpoutOutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichSpout;
import org.apache.storm.tuple.Fields;
import org.apache.storm.tuple.Values;

/**
 * Emits the fixed sentences, cycled in order, one per nextTuple call, as fast
 * as Storm calls it. When reliable, each tuple carries a message id holding
 * its emit time, and the ack callback records emit-to-ack latency.
 *
 * <p>With replay on, a failed tree's sentence goes on a queue, and nextTuple
 * emits queued replays before new sentences. A replay gets a new message id
 * with a new emit time, so latency is per attempt.
 */
final class SentenceSpout extends BaseRichSpout {
    private static final long serialVersionUID = 1L;

    private final String runId;
    private final boolean reliable;
    private final boolean replay;

    private transient SpoutOutputCollector out;
    private transient Shared.RunStats stats;
    private transient List<Object>[] values;
    private transient long[] wordCounts;
    /** Emit attempts so far (new sentences and replays). */
    private transient long seq;
    /** New sentences emitted so far; picks the next sentence in the cycle. */
    private transient long next;
    /** Sentence indexes of failed trees, waiting to be emitted again. */
    private transient ArrayDeque<Integer> replays;

    /** Message id: attempt number, sentence index and emit time. Stays in this JVM (the spout's pending map). */
    static final class MsgId {
        final long seq;
        final int sentence;
        final long emitNanos;

        MsgId(long seq, int sentence, long emitNanos) {
            this.seq = seq;
            this.sentence = sentence;
            this.emitNanos = emitNanos;
        }

        @Override
        public String toString() {
            return "MsgId(" + seq + ")";
        }
    }

    SentenceSpout(String runId, boolean reliable) {
        this(runId, reliable, false);
    }

    SentenceSpout(String runId, boolean reliable, boolean replay) {
        this.runId = runId;
        this.reliable = reliable;
        this.replay = replay;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void open(Map<String, Object> conf, TopologyContext context, SpoutOutputCollector collector) {
        out = collector;
        stats = Shared.stats(runId);
        int n = Shared.SENTENCES.size();
        values = new List[n];
        wordCounts = new long[n];
        for (int i = 0; i < n; i++) {
            String s = Shared.SENTENCES.get(i);
            values[i] = new Values(s);
            wordCounts[i] = s.split(" ").length;
        }
        replays = new ArrayDeque<>();
    }

    @Override
    public void nextTuple() {
        // ack, fail and nextTuple all run on the spout's executor thread, so the queue needs no lock.
        Integer r = replays.poll();
        int i = r != null ? r : (int) (next++ % values.length);
        if (reliable) {
            out.emit(values[i], new MsgId(seq, i, System.nanoTime()));
        } else {
            out.emit(values[i]);
        }
        seq++;
        stats.spoutEmitted.increment();
        stats.spoutEmittedWords.add(wordCounts[i]);
    }

    @Override
    public void ack(Object msgId) {
        long micros = (System.nanoTime() - ((MsgId) msgId).emitNanos) / 1000;
        stats.completeLatencyMicros.recordValue(Math.max(micros, 0));
        stats.spoutAcked.increment();
    }

    @Override
    public void fail(Object msgId) {
        stats.spoutFailed.increment();
        if (replay) {
            replays.add(((MsgId) msgId).sentence);
        }
    }

    @Override
    public void declareOutputFields(OutputFieldsDeclarer declarer) {
        declarer.declare(new Fields("sentence"));
    }
}
