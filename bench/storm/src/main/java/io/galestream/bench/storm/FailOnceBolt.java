package io.galestream.bench.storm;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.storm.task.OutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichBolt;
import org.apache.storm.tuple.Fields;
import org.apache.storm.tuple.Tuple;

/**
 * fail_partition=P: fails (collector.fail) each tuple of Kafka partition P on its first attempt and
 * passes every other tuple on, anchored. The KafkaSpout retries a failed record (its retry service);
 * the second attempt passes. Fields-grouped on "partition", so all attempts of a record reach the
 * same task and its set of failed offsets.
 */
final class FailOnceBolt extends BaseRichBolt {
    private static final long serialVersionUID = 1L;

    private final int failPartition;
    private transient OutputCollector collector;
    private transient Set<Long> failedOffsets;

    FailOnceBolt(int failPartition) {
        this.failPartition = failPartition;
    }

    @Override
    public void prepare(Map<String, Object> conf, TopologyContext context, OutputCollector collector) {
        this.collector = collector;
        this.failedOffsets = new HashSet<>();
    }

    @Override
    public void execute(Tuple t) {
        if (t.getIntegerByField("partition") == failPartition && failedOffsets.add(t.getLongByField("offset"))) {
            KafkaFilesRunner.FAILED_BY_BOLT.increment();
            collector.fail(t);
            return;
        }
        collector.emit(t, t.getValues());
        collector.ack(t);
    }

    @Override
    public void declareOutputFields(OutputFieldsDeclarer d) {
        d.declare(new Fields(KafkaFilesRunner.FIELDS));
    }
}
