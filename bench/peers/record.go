// Package peers holds the parts of the Gale / Flink / Storm comparison
// (bench/cmd/benchpeers, whose doc holds the runners' contract) that do not
// depend on an engine: the records produced into Kafka, a steady producer
// (a token bucket), the watcher that finds each record's line in the
// engines' output files (local directories or HDFS through WebHDFS), the
// exactly-once accounting, latency percentiles, and the CPU and memory of
// an engine's process tree read from /proc.
package peers

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// MinRecordSize is the smallest record Value can make: the JSON with the
// longest id and timestamp it handles and an empty pad.
const MinRecordSize = len(`{"id":"9999-999999999999","ts":9999999999999999,"pad":""}`)

// AppendRecord appends to dst one record of exactly size bytes (no
// newline): {"id":"<partition>-<seq>","ts":<ts>,"pad":"aaa..."}, where ts
// is the produce time in Unix microseconds.
func AppendRecord(dst []byte, partition int32, seq int64, tsMicros int64, size int) ([]byte, error) {
	start := len(dst)
	dst = append(dst, `{"id":"`...)
	dst = strconv.AppendInt(dst, int64(partition), 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `","ts":`...)
	dst = strconv.AppendInt(dst, tsMicros, 10)
	dst = append(dst, `,"pad":"`...)
	pad := size - (len(dst) - start) - 2
	if pad < 0 {
		return dst[:start], fmt.Errorf("record size %d is too small for id %d-%d (at least %d bytes)", size, partition, seq, size-pad)
	}
	for range pad {
		dst = append(dst, 'a')
	}
	return append(dst, '"', '}'), nil
}

// ErrBadLine is returned by ParseLine for a line that is not a record.
var ErrBadLine = errors.New("not a benchmark record")

// ParseLine reads the id and ts of a record line (without its newline; a
// trailing '\r' is ignored). It expects the fields in AppendRecord's order
// and layout, which every engine keeps since it writes values unchanged.
func ParseLine(line []byte) (partition int32, seq int64, tsMicros int64, err error) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	rest, ok := bytes.CutPrefix(line, []byte(`{"id":"`))
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: %.60q", ErrBadLine, line)
	}
	dash := bytes.IndexByte(rest, '-')
	quote := bytes.IndexByte(rest, '"')
	if dash <= 0 || quote <= dash+1 {
		return 0, 0, 0, fmt.Errorf("%w: bad id: %.60q", ErrBadLine, line)
	}
	p, err1 := strconv.ParseInt(string(rest[:dash]), 10, 32)
	s, err2 := strconv.ParseInt(string(rest[dash+1:quote]), 10, 64)
	if err1 != nil || err2 != nil || p < 0 || s < 0 {
		return 0, 0, 0, fmt.Errorf("%w: bad id: %.60q", ErrBadLine, line)
	}
	rest, ok = bytes.CutPrefix(rest[quote:], []byte(`","ts":`))
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: no ts after the id: %.60q", ErrBadLine, line)
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 || end == len(rest) || rest[end] != ',' {
		return 0, 0, 0, fmt.Errorf("%w: bad ts: %.60q", ErrBadLine, line)
	}
	ts, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: bad ts: %.60q", ErrBadLine, line)
	}
	if !bytes.HasSuffix(rest, []byte(`"}`)) {
		return 0, 0, 0, fmt.Errorf("%w: truncated: %.60q", ErrBadLine, line)
	}
	return int32(p), s, ts, nil
}
