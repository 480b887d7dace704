package io.galestream.bench.storm;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.storm.kafka.spout.Func;
import org.apache.storm.tuple.Values;

/** KafkaSpout record translator: (partition, offset, value) of each record; the value as raw bytes. */
final class RecordFields implements Func<ConsumerRecord<byte[], byte[]>, List<Object>> {
    private static final long serialVersionUID = 1L;

    @Override
    public List<Object> apply(ConsumerRecord<byte[], byte[]> r) {
        return new Values(r.partition(), r.offset(), r.value());
    }
}
