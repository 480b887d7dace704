package io.galestream.bench.storm;

import java.util.Map;
import org.apache.storm.task.OutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichBolt;
import org.apache.storm.tuple.Fields;
import org.apache.storm.tuple.Tuple;
import org.apache.storm.tuple.Values;

/** Splits a sentence on spaces and emits one tuple per word (anchored when reliable), then acks. */
final class SplitBolt extends BaseRichBolt {
    private static final long serialVersionUID = 1L;

    private final String runId;
    private final boolean reliable;

    private transient OutputCollector out;
    private transient Shared.RunStats stats;

    SplitBolt(String runId, boolean reliable) {
        this.runId = runId;
        this.reliable = reliable;
    }

    @Override
    public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
        out = collector;
        stats = Shared.stats(runId);
    }

    @Override
    public void execute(Tuple input) {
        String s = input.getString(0);
        int start = 0;
        int len = s.length();
        while (start < len) {
            int sp = s.indexOf(' ', start);
            int end = sp < 0 ? len : sp;
            if (end > start) {
                Values word = new Values(s.substring(start, end));
                if (reliable) {
                    out.emit(input, word);
                } else {
                    out.emit(word);
                }
            }
            start = end + 1;
        }
        out.ack(input);
        stats.splitExecuted.increment();
    }

    @Override
    public void declareOutputFields(OutputFieldsDeclarer declarer) {
        declarer.declare(new Fields("word"));
    }
}
