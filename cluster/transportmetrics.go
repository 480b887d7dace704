package cluster

import (
	"github.com/gale-stream/gale/cluster/internal/transport"
	"github.com/prometheus/client_golang/prometheus"
)

// transportMetrics exposes the transport's traffic per peer: the bytes
// of the frames (what the runtimes sent) and those on the wire (after
// --transport-compression and sealing, with headers), so that an operator
// sees what compression saves.
type transportMetrics struct{ tr *transport.Transport }

var (
	descTransportBytes = prometheus.NewDesc("gale_transport_bytes_total",
		"Bytes sent to (direction out) and received from (in) another worker: kind frames is the frames' payloads, kind wire what the connections carried (compressed, sealed, with headers).",
		[]string{"peer", "direction", "kind"}, nil)
	descTransportFrames = prometheus.NewDesc("gale_transport_frames_total",
		"Frames sent to (direction out) and received from (in) another worker.", []string{"peer", "direction"}, nil)
)

// Describe implements prometheus.Collector.
func (m transportMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTransportBytes
	ch <- descTransportFrames
}

// Collect implements prometheus.Collector.
func (m transportMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, p := range m.tr.Peers() {
		c := func(d *prometheus.Desc, v uint64, lv ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{p.Name}, lv...)...)
		}
		c(descTransportBytes, p.BytesSent, "out", "frames")
		c(descTransportBytes, p.WireBytesSent, "out", "wire")
		c(descTransportBytes, p.BytesReceived, "in", "frames")
		c(descTransportBytes, p.WireBytesReceived, "in", "wire")
		c(descTransportFrames, p.FramesSent, "out")
		c(descTransportFrames, p.FramesReceived, "in")
	}
}
