package io.galestream.bench.storm;

import java.util.List;
import java.util.Map;
import org.apache.storm.spout.SpoutOutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichSpout;
import org.apache.storm.tuple.Fields;
import org.apache.storm.tuple.Values;

/**
 * Emits the same one-field tuple ("some data") on every nextTuple call, without
 * a message id (unreliable), as fast as Storm calls it. The "const" row: it
 * measures Storm's per-tuple overhead with no user work on either side.
 */
final class ConstSpout extends BaseRichSpout {
    private static final long serialVersionUID = 1L;

    private final String runId;

    private transient SpoutOutputCollector out;
    private transient Shared.RunStats stats;
    private transient List<Object> value;

    ConstSpout(String runId) {
        this.runId = runId;
    }

    @Override
    public void open(Map<String, Object> conf, TopologyContext context, SpoutOutputCollector collector) {
        out = collector;
        stats = Shared.stats(runId);
        value = new Values("some data");
    }

    @Override
    public void nextTuple() {
        out.emit(value);
        stats.spoutEmitted.increment();
    }

    @Override
    public void declareOutputFields(OutputFieldsDeclarer declarer) {
        declarer.declare(new Fields("value"));
    }
}
