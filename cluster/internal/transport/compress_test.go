package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gale-stream/gale/internal/galetest"
	"github.com/pierrec/lz4/v4"
)

// jsonish is a compressible payload of about n bytes, different for each i.
func jsonish(i, n int) string {
	var b strings.Builder
	for j := 0; b.Len() < n; j++ {
		fmt.Fprintf(&b, `{"ts":%d,"host":"web-%02d","level":"info","msg":"GET /api/v1/items/%d 200"}`+"\n", 1700000000+i*100+j, j%7, i*31+j)
	}
	return b.String()
}

// sendAll sends frames 0..n-1 from a to b (a head and a body each, as the
// cluster does) and checks that b got each whole, in order, on its channel.
func sendAll(t *testing.T, a, b *node, n int) {
	t.Helper()
	ctx := context.Background()
	want := make([]rec, n)
	for i := range n {
		size := 100 << (i % 8) // 100 B to 12.8 KB: some under compressMin
		head := fmt.Sprintf("%08d", i)
		body := jsonish(i, size)
		ch := uint32(i%3 + 1)
		if err := a.SendHead(ctx, b.Name(), b.Addr(), ch, []byte(head), []byte(body)); err != nil {
			t.Fatal(err)
		}
		want[i] = rec{a.Name(), ch, head + body}
	}
	got := b.sink.wait(t, n)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("frame %d: got %d bytes on channel %d, want %d bytes on channel %d", i,
				len(got[i].payload), got[i].channel, len(want[i].payload), want[i].channel)
		}
	}
}

func TestTransport_Compressed(t *testing.T) {
	for _, secret := range []string{"", "s3cret"} {
		t.Run(fmt.Sprintf("sealed=%v", secret != ""), func(t *testing.T) {
			on := func(c *Config) { c.Compress, c.Secret = true, secret }
			a, b := start(t, "a", on), start(t, "b", on)
			// the first frame may leave before a has read b's capabilities
			sendAll(t, a, b, 1)
			b.sink.mu.Lock()
			b.sink.frames = nil
			b.sink.mu.Unlock()
			galetest.Eventually(t, "a to learn that b reads lz4", waitFor, func() bool {
				a.mu.Lock()
				defer a.mu.Unlock()
				c := a.peers["b"].conn
				return c != nil && c.peerLZ4.Load()
			})
			sendAll(t, a, b, 200)
			p := a.peer(t, "b")
			t.Logf("%d bytes of frames, %d on the wire", p.BytesSent, p.WireBytesSent)
			if p.WireBytesSent*3 > p.BytesSent {
				t.Errorf("wire %d bytes for %d bytes of frames: want at most a third", p.WireBytesSent, p.BytesSent)
			}
			if r := b.peer(t, "a"); r.BytesReceived != p.BytesSent || r.WireBytesReceived != p.WireBytesSent {
				t.Errorf("b read %d bytes (%d on the wire), a sent %d (%d)", r.BytesReceived, r.WireBytesReceived, p.BytesSent, p.WireBytesSent)
			}
		})
	}
}

// A peer of an earlier version never says it reads lz4: frames to it stay
// uncompressed, and the frames it gets are whole.
func TestTransport_CompressedToOldPeer(t *testing.T) {
	a := start(t, "a", func(c *Config) { c.Compress = true })
	old := start(t, "old", func(c *Config) { c.noCaps = true })
	sendAll(t, a, old, 50)
	if p := a.peer(t, "old"); p.WireBytesSent < p.BytesSent {
		t.Errorf("to the old peer: wire %d bytes for %d of frames: compressed", p.WireBytesSent, p.BytesSent)
	}
	// and the other way: the old peer's frames are read as they are
	sendAll(t, old, a, 50)
}

// Off by default: frames go as they are even to a peer that reads lz4.
func TestTransport_CompressOff(t *testing.T) {
	a, b := start(t, "a"), start(t, "b", func(c *Config) { c.Compress = true })
	sendAll(t, a, b, 50)
	if p := a.peer(t, "b"); p.WireBytesSent < p.BytesSent {
		t.Errorf("compression off: wire %d bytes for %d of frames", p.WireBytesSent, p.BytesSent)
	}
}

func TestTransport_ReservedChannel(t *testing.T) {
	a, b := start(t, "a"), start(t, "b")
	for _, ch := range []uint32{chanCaps, chanLZ4} {
		if err := a.Send(context.Background(), b.Name(), b.Addr(), ch, []byte("x")); !errors.Is(err, ErrChannel) {
			t.Errorf("send on %#x: %v, want ErrChannel", ch, err)
		}
	}
}

// A compressed frame that announces more than MaxFrame, or whose block
// does not decompress to its length, ends the connection with ErrCorrupt.
func TestTransport_CorruptCompressedFrame(t *testing.T) {
	block := func(data string) []byte {
		out := make([]byte, lz4.CompressBlockBound(len(data)))
		n, err := lz4.CompressBlock([]byte(data), out, nil)
		if err != nil || n == 0 {
			t.Fatal(n, err)
		}
		return out[:n]
	}
	good := block(jsonish(1, 4096))
	for name, payload := range map[string][]byte{
		"over MaxFrame":     binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 1), 1<<30),
		"length too large":  append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 1), 5000), good...),
		"length too small":  append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 1), 100), good...),
		"garbage block":     append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 1), 4096), 0xff, 0xff, 0xff, 0xff),
		"reserved channel":  append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, chanLZ4), 4096), good...),
		"shorter than head": {0, 0, 1},
	} {
		t.Run(name, func(t *testing.T) {
			b := start(t, "b", func(c *Config) { c.MaxFrame = 1 << 20 })
			nc := rawDial(t, b.Transport, "a", "")
			var hdr [frameHeader]byte
			binary.BigEndian.PutUint32(hdr[0:], uint32(len(payload)))
			binary.BigEndian.PutUint32(hdr[4:], chanLZ4)
			if _, err := nc.Write(append(hdr[:], payload...)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadAll(nc); err != nil {
				t.Fatalf("read after the corrupt frame: %v, want EOF (connection closed)", err)
			}
			galetest.Eventually(t, "b to record the error", waitFor, func() bool { return errors.Is(b.peer(t, "a").Err, ErrCorrupt) })
			if got := b.sink.got(); len(got) != 0 {
				t.Fatalf("the handler got %d frames", len(got))
			}
		})
	}
}

// decompress never allocates more than maxFrame, and what it returns
// compresses back to the same bytes.
func FuzzDecompress(f *testing.F) {
	var z compressor
	p, _ := z.compress(7, []byte(jsonish(3, 2000)))
	f.Add(append([]byte(nil), p...))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 9, 0x90, 'a', 'b'})
	f.Fuzz(func(t *testing.T, payload []byte) {
		const maxFrame = 1 << 16
		ch, data, _, err := decompress(payload, nil, maxFrame)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if len(data) > maxFrame || Reserved(ch) {
			t.Fatalf("%d bytes on channel %#x", len(data), ch)
		}
	})
}

func BenchmarkCompress(b *testing.B) {
	data := []byte(jsonish(1, 64<<10))
	var z compressor
	b.SetBytes(int64(len(data)))
	var out []byte
	for b.Loop() {
		out, _ = z.compress(1, data)
	}
	b.ReportMetric(float64(len(out))/float64(len(data)), "ratio")
}
