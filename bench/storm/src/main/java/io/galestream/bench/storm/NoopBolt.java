package io.galestream.bench.storm;

import java.util.Map;
import org.apache.storm.task.OutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichBolt;
import org.apache.storm.tuple.Tuple;

/**
 * Counts the tuples it executes and does nothing else. It does not ack: it is
 * only used with 0 ackers and unanchored input, where there is nothing to ack.
 */
final class NoopBolt extends BaseRichBolt {
    private static final long serialVersionUID = 1L;

    private final String runId;

    private transient Shared.RunStats stats;

    NoopBolt(String runId) {
        this.runId = runId;
    }

    @Override
    public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
        stats = Shared.stats(runId);
    }

    @Override
    public void execute(Tuple input) {
        stats.noopExecuted.increment();
    }

    @Override
    public void declareOutputFields(OutputFieldsDeclarer declarer) {
        // emits nothing
    }
}
