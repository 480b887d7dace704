package codec_test

import (
	"fmt"

	"github.com/gale-stream/gale/internal/codec"
	"github.com/gale-stream/gale/internal/tuplestate"
	"github.com/gale-stream/gale/tuple"
)

func Example() {
	batch := []*tuple.Tuple{
		{Values: tuple.Values{"the", 1}, Stream: "default", Component: "split", Task: 3},
		{Values: tuple.Values{"fox", 2}, Stream: "default", Component: "split", Task: 3},
	}
	tuplestate.Of(batch[1]).Anchors = []tuplestate.Anchor{{Root: 7, Edge: 9}} // the engine's state travels too
	buf, err := codec.AppendTuples(nil, batch)
	if err != nil {
		panic(err)
	}
	ts, err := codec.DecodeTuples(buf, nil)
	if err != nil {
		panic(err)
	}
	for _, t := range ts {
		fmt.Printf("%s/%s task %d: %v %T anchors %v\n", t.Component, t.Stream, t.Task, t.Values, t.Values[1], tuplestate.Of(t).Anchors)
	}

	acks := codec.AppendAcks(nil, []codec.Ack{{Kind: 2, Root: 7, Val: 9}})
	as, _ := codec.DecodeAcks(acks, nil)
	fmt.Println(codec.FrameKind(acks) == codec.KindAcks, as)

	_, err = codec.AppendTuples(nil, []*tuple.Tuple{{Values: tuple.Values{struct{}{}}}})
	fmt.Println(err)
	_, err = codec.DecodeTuples(buf[:10], nil)
	fmt.Println(err)
	// Output:
	// split/default task 3: [the 1] int anchors []
	// split/default task 3: [fox 2] int anchors [{7 9}]
	// true [{2 0 7 9}]
	// codec: encode tuple 0 value 0: struct {}: unsupported value type
	// codec: decode tuple 0 at offset 4: length exceeds the remaining input
}
