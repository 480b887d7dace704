package io.galestream.bench.storm;

import java.util.Arrays;
import org.apache.storm.hdfs.bolt.format.RecordFormat;
import org.apache.storm.tuple.Tuple;

/** HdfsBolt record format: the Kafka record value's bytes, unchanged, then '\n'. */
final class ValueLineFormat implements RecordFormat {
    private static final long serialVersionUID = 1L;

    @Override
    public byte[] format(Tuple t) {
        byte[] v = t.getBinaryByField("value");
        byte[] line = Arrays.copyOf(v, v.length + 1);
        line[v.length] = '\n';
        return line;
    }
}
