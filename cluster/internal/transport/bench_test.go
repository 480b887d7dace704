package transport

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/internal/tuplestate"
	"github.com/gale-stream/gale/tuple"
)

// batch64 is a word-count batch: 64 tuples of one short word, anchored.
func batch64() []*tuple.Tuple {
	words := []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog"}
	ts := make([]*tuple.Tuple, 64)
	for i := range ts {
		ts[i] = &tuple.Tuple{Values: tuple.Values{words[i%len(words)]}, Stream: "default", Component: "split", Task: 3}
		tuplestate.Of(ts[i]).Anchors = []tuplestate.Anchor{{Root: 0x9e3779b97f4a7c15 * uint64(i+1), Edge: 0xbf58476d1ce4e5b9 * uint64(i+7)}}
	}
	return ts
}

// BenchmarkTransport sends 64-tuple batches encoded with internal/codec
// from one Transport to another over loopback. "frames" sends one
// encoded frame over and over (the transport alone); "codec" encodes each
// frame on the sending side and decodes it in the Handler; "sealed-"
// does the same with a secret (frames sealed with AES-256-GCM). It reports
// frames/s and tuples/s; MB/s counts the payloads.
func BenchmarkTransport(b *testing.B) {
	ts := batch64()
	frame, err := codec.AppendTuples(nil, ts)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"frames", "sealed-frames", "codec", "sealed-codec"} {
		b.Run(mode, func(b *testing.B) {
			var got atomic.Int64
			decode := strings.HasSuffix(mode, "codec")
			secret := ""
			if strings.HasPrefix(mode, "sealed") {
				secret = "bench-secret" // frames sealed with AES-256-GCM
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			recv, err := New(Config{Name: "b", Addr: "127.0.0.1:0", Logger: quiet, Secret: secret,
				Handler: func(_ string, _ uint32, p []byte) {
					if decode {
						if _, err := codec.DecodeTuples(p, nil); err != nil {
							b.Error(err)
						}
					}
					got.Add(1)
				}})
			if err != nil {
				b.Fatal(err)
			}
			defer recv.Close()
			send, err := New(Config{Name: "a", Addr: "127.0.0.1:0", Logger: quiet, Secret: secret, Handler: func(string, uint32, []byte) {}})
			if err != nil {
				b.Fatal(err)
			}
			defer send.Close()
			ctx := context.Background()
			addr := recv.Addr()
			// connect outside the timer
			if err := send.Send(ctx, "b", recv.Addr(), 1, frame); err != nil {
				b.Fatal(err)
			}
			for got.Load() < 1 {
				time.Sleep(time.Millisecond)
			}
			got.Store(0)
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p := frame
				if decode {
					if p, err = codec.AppendTuples(make([]byte, 0, len(frame)), ts); err != nil {
						b.Fatal(err)
					}
				}
				if err := send.Send(ctx, "b", addr, 1, p); err != nil {
					b.Fatal(err)
				}
			}
			for got.Load() < int64(b.N) {
				time.Sleep(50 * time.Microsecond)
			}
			b.StopTimer()
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "frames/s")
			b.ReportMetric(float64(b.N*len(ts))/sec, "tuples/s")
		})
	}
}
