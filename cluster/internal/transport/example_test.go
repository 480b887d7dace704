package transport_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/gale-stream/gale/cluster/internal/transport"
	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/tuple"
)

func Example() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	received := make(chan string)
	w2, err := transport.New(transport.Config{Name: "w2", Addr: "127.0.0.1:0", Secret: "cluster-secret", Logger: quiet,
		Handler: func(from string, channel uint32, payload []byte) {
			ts, err := codec.DecodeTuples(payload, nil) // payload is only valid during the call
			if err != nil {
				received <- err.Error()
				return
			}
			received <- fmt.Sprintf("%s sent %d tuples on channel %d: %v", from, len(ts), channel, ts[0].Values)
		}})
	if err != nil {
		panic(err)
	}
	defer w2.Close()
	w1, err := transport.New(transport.Config{Name: "w1", Addr: "127.0.0.1:0", Secret: "cluster-secret", Logger: quiet,
		Handler: func(string, uint32, []byte) {}})
	if err != nil {
		panic(err)
	}
	defer w1.Close()

	batch := []*tuple.Tuple{{Values: tuple.Values{"hello", 1}, Stream: "default", Component: "split", Task: 1}}
	frame, err := codec.AppendTuples(nil, batch)
	if err != nil {
		panic(err)
	}
	if err := w1.Send(context.Background(), "w2", w2.Addr(), 7, frame); err != nil {
		panic(err)
	}
	fmt.Println(<-received)
	p := w1.Peers()[0]
	fmt.Println(p.Name, p.Connected, p.FramesSent)
	// Output:
	// w1 sent 1 tuples on channel 7: [hello 1]
	// w2 true 1
}
