package multilang

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestReader_Next(t *testing.T) {
	type want struct {
		json string
		junk []string
		err  error
	}
	tests := []struct {
		name  string
		input string
		max   int
		want  []want
	}{
		{name: "one", input: "{\"pid\": 1}\nend\n", want: []want{{json: `{"pid": 1}`}, {err: io.EOF}}},
		{name: "two", input: "{\"a\":1}\nend\n[1,2]\nend\n", want: []want{{json: `{"a":1}`}, {json: `[1,2]`}, {err: io.EOF}}},
		{name: "multi-line json", input: "{\n  \"command\": \"sync\"\n}\nend\n", want: []want{{json: "{\n  \"command\": \"sync\"\n}"}}},
		{name: "crlf", input: "{\"a\":1}\r\nend\r\n", want: []want{{json: `{"a":1}`}}},
		{name: "junk before message", input: "hello\nworld\n{\"command\":\"sync\"}\nend\n",
			want: []want{{json: `{"command":"sync"}`, junk: []string{"hello", "world"}}}},
		{name: "pure junk", input: "just text\nend\n{\"a\":1}\nend\n",
			want: []want{{junk: []string{"just text"}}, {json: `{"a":1}`}}},
		{name: "bare end", input: "end\n", want: []want{{}, {err: io.EOF}}},
		{name: "blank lines", input: "\n\n{\"a\":1}\nend\n", want: []want{{json: "\n\n{\"a\":1}"}}},
		{name: "malformed", input: "{\"command\": \"ack\", \"id\": \nend\n", want: []want{{err: ErrMalformed}}},
		{name: "junk then malformed", input: "x\n{oops\nend\n", want: []want{{err: ErrMalformed}}},
		{name: "eof inside message", input: "{\"a\":", want: []want{{err: io.ErrUnexpectedEOF}}},
		{name: "eof after lines", input: "{\"a\":1}\n", want: []want{{err: io.ErrUnexpectedEOF}}},
		{name: "empty", input: "", want: []want{{err: io.EOF}}},
		{name: "too large", input: "[" + strings.Repeat("1,", 100) + "1]\nend\n", max: 50, want: []want{{err: ErrTooLarge}}},
		{name: "long line", input: "[\"" + strings.Repeat("x", 200<<10) + "\"]\nend\n",
			want: []want{{json: "[\"" + strings.Repeat("x", 200<<10) + "\"]"}}},
		{name: "long line too large", input: "[\"" + strings.Repeat("x", 200<<10) + "\"]\nend\n", max: 100 << 10,
			want: []want{{err: ErrTooLarge}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.input), tt.max)
			for i, w := range tt.want {
				f, err := r.Next()
				if w.err != nil {
					if !errors.Is(err, w.err) {
						t.Fatalf("read %d: err = %v, want %v", i, err, w.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("read %d: %v", i, err)
				}
				if string(f.JSON) != w.json || !slices.Equal(f.Junk, w.junk) {
					t.Fatalf("read %d: got %q junk %q, want %q junk %q", i, f.JSON, f.Junk, w.json, w.junk)
				}
			}
		})
	}
}

func TestWriter_Messages(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteTuple(TupleMsg{ID: "17", Comp: "sentences", Stream: "default", Task: 3,
		Values: []any{"the \"cow\"", int64(1) << 60, 2.5, true, nil, []byte("bytes"), []any{"x", 1}, map[string]any{"k": "v"}}}))
	must(w.WriteHeartbeat("18"))
	must(w.WriteSpoutCommand(CmdNext, nil))
	must(w.WriteSpoutCommand(CmdAck, json.RawMessage(`"s1"`)))
	must(w.WriteSpoutCommand(CmdFail, json.RawMessage(`7`)))
	must(w.WriteTaskIDs([]int{4, 5}))
	must(w.WriteTaskIDs([]int{}))
	must(w.Flush())
	want := `{"id":"17","comp":"sentences","stream":"default","task":3,"tuple":["the \"cow\"",1152921504606846976,2.5,true,null,"bytes",["x",1],{"k":"v"}]}
end
{"id":"18","comp":null,"stream":"__heartbeat","task":-1,"tuple":[]}
end
{"command":"next","id":""}
end
{"command":"ack","id":"s1"}
end
{"command":"fail","id":7}
end
[4,5]
end
[]
end
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	if err := w.WriteTuple(TupleMsg{ID: "1", Values: []any{math.NaN()}}); !errors.Is(err, ErrEncode) {
		t.Errorf("NaN: err = %v, want ErrEncode", err)
	}
}

func TestWriter_Handshake(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteHandshake(Handshake{Conf: map[string]any{"a": 1}, Context: map[string]any{"taskid": 3}, PidDir: "/tmp/p"}); err != nil {
		t.Fatal(err)
	}
	_ = w.Flush()
	if got, want := buf.String(), "{\"conf\":{\"a\":1},\"context\":{\"taskid\":3},\"pidDir\":\"/tmp/p\"}\nend\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want Command
		err  error
	}{
		{name: "emit defaults", msg: `{"command":"emit","anchors":["1","2"],"tuple":["w",3,1.5]}`,
			want: Command{Name: "emit", Anchors: []string{"1", "2"}, Stream: "default", NeedTaskIDs: true, Level: LogInfo,
				Tuple: []any{"w", int64(3), 1.5}}},
		{name: "emit storm.js style", msg: `{"command":"emit","tuple":["w"],"anchors":[],"stream":null,"task":null}`,
			want: Command{Name: "emit", Anchors: []string{}, Stream: "default", NeedTaskIDs: true, Level: LogInfo, Tuple: []any{"w"}}},
		{name: "emit single anchor direct", msg: `{"command":"emit","anchors":"9","stream":"s","task":4,"need_task_ids":false,"tuple":[]}`,
			want: Command{Name: "emit", Anchors: []string{"9"}, Stream: "s", Task: 4, Level: LogInfo, Tuple: []any{}}},
		{name: "spout emit id", msg: `{"command":"emit","id": {"a" : 1},"tuple":[["x"]]}`,
			want: Command{Name: "emit", MsgID: json.RawMessage(`{"a":1}`), Stream: "default", NeedTaskIDs: true, Level: LogInfo,
				Tuple: []any{[]any{"x"}}}},
		{name: "numeric anchors", msg: `{"command":"emit","anchors":[12],"tuple":[]}`,
			want: Command{Name: "emit", Anchors: []string{"12"}, Stream: "default", NeedTaskIDs: true, Level: LogInfo, Tuple: []any{}}},
		{name: "ack", msg: `{"command":"ack","id":"-6955786537413359385"}`,
			want: Command{Name: "ack", ID: "-6955786537413359385", Stream: "default", NeedTaskIDs: true, Level: LogInfo}},
		{name: "fail numeric id", msg: `{"command":"fail","id":42}`,
			want: Command{Name: "fail", ID: "42", Stream: "default", NeedTaskIDs: true, Level: LogInfo}},
		{name: "log", msg: `{"command":"log","msg":"hi","level":3}`,
			want: Command{Name: "log", Msg: "hi", Stream: "default", NeedTaskIDs: true, Level: LogWarn}},
		{name: "log level not a number is INFO", msg: `{"command":"log","msg":"hi","level":"WARN"}`,
			want: Command{Name: "log", Msg: "hi", Stream: "default", NeedTaskIDs: true, Level: LogInfo}},
		{name: "log level object is INFO", msg: `{"command":"log","msg":"hi","level":{"x":1}}`,
			want: Command{Name: "log", Msg: "hi", Stream: "default", NeedTaskIDs: true, Level: LogInfo}},
		{name: "error", msg: `{"command":"error","msg":"Traceback..."}`,
			want: Command{Name: "error", Msg: "Traceback...", Stream: "default", NeedTaskIDs: true, Level: LogInfo}},
		{name: "metrics", msg: `{"command":"metrics","name":"m","params":[1, 2]}`,
			want: Command{Name: "metrics", Metric: "m", Params: json.RawMessage(`[1,2]`), Stream: "default", NeedTaskIDs: true, Level: LogInfo}},
		{name: "sync", msg: `{"command":"sync"}`, want: Command{Name: "sync", Stream: "default", NeedTaskIDs: true, Level: LogInfo}},
		{name: "no command", msg: `{"pid":3}`, err: ErrProtocol},
		{name: "not an object", msg: `[1,2]`, err: ErrProtocol},
		{name: "invalid", msg: `{"command"`, err: ErrMalformed},
		{name: "emit without tuple", msg: `{"command":"emit"}`, err: ErrProtocol},
		{name: "tuple not a list", msg: `{"command":"emit","tuple":"x"}`, err: ErrProtocol},
		{name: "bad task", msg: `{"command":"emit","tuple":[],"task":"x"}`, err: ErrProtocol},
		{name: "bad need_task_ids", msg: `{"command":"emit","tuple":[],"need_task_ids":"no"}`, err: ErrProtocol},
		{name: "ack without id", msg: `{"command":"ack"}`, err: ErrProtocol},
		{name: "ack object id", msg: `{"command":"ack","id":{}}`, err: ErrProtocol},
		{name: "metrics without name", msg: `{"command":"metrics"}`, err: ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand([]byte(tt.msg))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParsePid(t *testing.T) {
	for msg, want := range map[string]int{`{"pid": 1234}`: 1234, `{"pid": 12.0}`: 12} {
		if got, err := ParsePid([]byte(msg)); err != nil || got != want {
			t.Errorf("%s: %d, %v", msg, got, err)
		}
	}
	for _, msg := range []string{`{}`, `{"pid":"x"}`, `[1]`} {
		if _, err := ParsePid([]byte(msg)); !errors.Is(err, ErrHandshake) {
			t.Errorf("%s: err = %v", msg, err)
		}
	}
}

func TestValues_RoundTrip(t *testing.T) {
	in := []any{"s", int64(math.MaxInt64), int64(-3), 0.25, 1e300, true, nil, []any{int64(1), "x"},
		map[string]any{"n": int64(2)}}
	b, err := appendValues(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeValues(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("got %#v\nwant %#v", out, in)
	}
	big, _ := decodeValues([]byte(`[18446744073709551616, 1e999]`))
	if _, ok := big[0].(float64); !ok {
		t.Errorf("2^64 decoded as %T, want float64", big[0])
	}
	if _, ok := big[1].(json.Number); !ok {
		t.Errorf("1e999 decoded as %T, want json.Number", big[1])
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 10, max: 50}
	var got []int64
	for range 5 {
		got = append(got, int64(b.next(0)))
	}
	if want := []int64{10, 20, 40, 50, 50}; !slices.Equal(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	if d := b.next(50); d != 10 {
		t.Errorf("after a long run: %v, want the minimum", d)
	}
}

// FuzzReader feeds arbitrary bytes to the Reader: it must never panic,
// always make progress, and every frame it returns must hold valid JSON
// (or only junk).
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"{\"pid\": 1}\nend\n",
		"{\"command\":\"emit\",\"anchors\":[\"1\"],\"tuple\":[\"a\"]}\nend\n[1]\nend\n",
		"junk\n{\"command\":\"sync\"}\nend\n",
		"{\n\"a\":\n1}\r\nend\r\n",
		"{oops\nend\n",
		"end\nend\n",
		"{\"a\":",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 1<<12)
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("no progress after %d frames", i)
			}
			fr, err := r.Next()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrMalformed) ||
					errors.Is(err, ErrTooLarge) {
					return
				}
				t.Fatalf("unexpected error %v", err)
			}
			if fr.JSON != nil && !json.Valid(fr.JSON) {
				t.Fatalf("invalid JSON in frame: %q", fr.JSON)
			}
			if fr.JSON != nil {
				_, _ = ParseCommand(fr.JSON) // must not panic either
			}
		}
	})
}

// FuzzDecodeValues checks the tuple decoder against encoding/json: same
// acceptance of valid arrays, same values (numbers as fromJSON makes them).
func FuzzDecodeValues(f *testing.F) {
	for _, s := range []string{`["a",1,-2.5e3,true,false,null,[1,{"k":"v"}]]`, `["\u00e9\n", "x\"y"]`, `[]`,
		`[18446744073709551616]`, "[\"\xff\"]", `[1,]`, `["a"`, `{"a":1}`, `[01]`, `[1e]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			_, _ = decodeValues(data) // must not panic
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want []any
		if err := dec.Decode(&want); err != nil {
			if _, err := decodeValues(data); err == nil {
				t.Fatalf("decodeValues accepted %q, encoding/json did not", data)
			}
			return
		}
		for i := range want {
			want[i] = fromJSON(want[i])
		}
		got, err := decodeValues(data)
		if err != nil {
			t.Fatalf("decodeValues(%q): %v", data, err)
		}
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("decodeValues(%q) = %#v, want %#v", data, got, want)
		}
	})
}

func TestDecodeValues_Deep(t *testing.T) {
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	if _, err := decodeValues([]byte(deep)); err == nil {
		t.Error("20000 nested arrays accepted")
	}
	ok := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := decodeValues([]byte(ok)); err != nil {
		t.Error(err)
	}
}
