package io.galestream.bench.flink;

import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Each Kafka record as (partition, value as a UTF-8 string). A null value is skipped. */
final class PartitionValue implements KafkaRecordDeserializationSchema<Tuple2<Integer, String>> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Tuple2<Integer, String>> out) {
        if (record.value() != null) {
            out.collect(Tuple2.of(record.partition(), new String(record.value(), StandardCharsets.UTF_8)));
        }
    }

    @Override
    public TypeInformation<Tuple2<Integer, String>> getProducedType() {
        return Types.TUPLE(Types.INT, Types.STRING);
    }
}
