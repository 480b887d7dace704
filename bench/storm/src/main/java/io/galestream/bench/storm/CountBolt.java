package io.galestream.bench.storm;

import java.util.HashMap;
import java.util.Map;
import org.apache.storm.task.OutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichBolt;
import org.apache.storm.tuple.Tuple;

/**
 * Counts words in a HashMap, emits nothing, acks every input. With failEvery N > 0,
 * each task instead fails every Nth tuple it receives (per-task counter n, fails when
 * n % N == N - 1), which fails the whole sentence tree back to the spout.
 */
final class CountBolt extends BaseRichBolt {
    private static final long serialVersionUID = 1L;

    private final String runId;
    private final int failEvery;

    private transient OutputCollector out;
    private transient Shared.RunStats stats;
    private transient Map<String, long[]> counts;
    private transient long received;

    CountBolt(String runId) {
        this(runId, 0);
    }

    CountBolt(String runId, int failEvery) {
        this.runId = runId;
        this.failEvery = failEvery;
    }

    @Override
    public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
        out = collector;
        stats = Shared.stats(runId);
        counts = new HashMap<>();
    }

    @Override
    public void execute(Tuple input) {
        long n = received++;
        if (failEvery > 0 && n % failEvery == failEvery - 1) {
            // Not counted: the spout replays the sentence and this word comes again.
            out.fail(input);
            stats.wordsCounted.increment();
            return;
        }
        String word = input.getString(0);
        long[] c = counts.get(word);
        if (c == null) {
            counts.put(word, new long[] {1});
        } else {
            c[0]++;
        }
        out.ack(input);
        stats.wordsCounted.increment();
    }

    @Override
    public void declareOutputFields(OutputFieldsDeclarer declarer) {
        // emits nothing
    }
}
