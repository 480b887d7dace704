package io.galestream.bench.storm;

import org.apache.storm.kafka.spout.KafkaSpout;
import org.apache.storm.kafka.spout.KafkaSpoutConfig;

/**
 * Storm's KafkaSpout, unchanged, plus in-JVM counters: each activation counts down
 * KafkaFilesRunner's latch (RUNNING is printed once every task is active), and ack/fail
 * callbacks are counted for the summary printed at exit.
 */
final class CountingKafkaSpout extends KafkaSpout<byte[], byte[]> {
    private static final long serialVersionUID = 1L;

    CountingKafkaSpout(KafkaSpoutConfig<byte[], byte[]> config) {
        super(config);
    }

    @Override
    public void activate() {
        super.activate();
        KafkaFilesRunner.ACTIVATED.countDown();
    }

    @Override
    public void ack(Object messageId) {
        super.ack(messageId);
        KafkaFilesRunner.ACKED.increment();
    }

    @Override
    public void fail(Object messageId) {
        super.fail(messageId);
        KafkaFilesRunner.FAILED.increment();
    }
}
