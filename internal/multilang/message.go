package multilang

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"

	"github.com/gale-stream/gale/topology"
	"github.com/gale-stream/gale/tuple"
)

// The commands a subprocess sends (Storm's ShellMsg).
const (
	CmdEmit    = "emit"
	CmdAck     = "ack"
	CmdFail    = "fail"
	CmdLog     = "log"
	CmdError   = "error"
	CmdMetrics = "metrics"
	CmdSync    = "sync"
)

// The commands sent to a spout subprocess (Storm's SpoutMsg).
const (
	CmdNext       = "next"
	CmdActivate   = "activate"
	CmdDeactivate = "deactivate"
)

// Log levels of the "log" command, as in storm.py/storm.js and Storm's
// ShellMsg.ShellLogLevel. A missing level means LogInfo.
const (
	LogTrace = 0
	LogDebug = 1
	LogInfo  = 2
	LogWarn  = 3
	LogError = 4
)

// Command is one message from a subprocess, decoded the way Storm's
// JsonSerializer.readShellMsg decodes it.
type Command struct {
	// Name is the "command" field: emit, ack, fail, log, error, metrics,
	// sync.
	Name string
	// ID is the tuple id of ack and fail, as text (a JSON string's value
	// or a number's literal).
	ID string
	// MsgID is the raw JSON "id" of a spout emit (string or number in
	// practice); nil when absent or null, i.e. an unreliable emit.
	MsgID json.RawMessage
	// Anchors are the ids an emit is anchored to ("anchors" may be a list
	// or a single id).
	Anchors []string
	// Stream defaults to "default".
	Stream string
	// Task is the target task of a direct emit; 0 when not direct.
	Task int
	// NeedTaskIDs is "need_task_ids", true unless false: the emitter waits
	// for the list of receiving task ids.
	NeedTaskIDs bool
	// Tuple holds the emitted values.
	Tuple []any
	// Msg is the text of log and error.
	Msg string
	// Level is the level of log (LogTrace..LogError; a level that is not
	// one of them, or not a number, is LogInfo, as in Storm).
	Level int
	// Metric and Params are the "name" and "params" of metrics.
	Metric string
	Params json.RawMessage
}

type wireCommand struct {
	Command     *string         `json:"command"`
	ID          json.RawMessage `json:"id"`
	Anchors     json.RawMessage `json:"anchors"`
	Stream      *string         `json:"stream"`
	Task        *int64          `json:"task"`
	NeedTaskIDs *bool           `json:"need_task_ids"`
	Tuple       json.RawMessage `json:"tuple"`
	Msg         json.RawMessage `json:"msg"`
	Level       json.RawMessage `json:"level"`
	Name        json.RawMessage `json:"name"`
	Params      json.RawMessage `json:"params"`
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// ParseCommand decodes one message from a subprocess. Errors wrap
// ErrProtocol (or ErrMalformed for invalid JSON).
func ParseCommand(msg []byte) (Command, error) {
	var w wireCommand
	if err := json.Unmarshal(msg, &w); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return Command{}, fmt.Errorf("%w: %s is not %s: %q", ErrProtocol, te.Field, te.Type, truncate(msg, 200))
		case errors.As(err, &te):
			return Command{}, fmt.Errorf("%w: not a command object: %q", ErrProtocol, truncate(msg, 200))
		}
		return Command{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if w.Command == nil {
		return Command{}, fmt.Errorf("%w: no command in message %q", ErrProtocol, truncate(msg, 200))
	}
	c := Command{Name: *w.Command, Stream: tuple.DefaultStream, NeedTaskIDs: true, Level: LogInfo}
	var err error
	switch c.Name {
	case CmdEmit:
		if !isNull(w.ID) {
			c.MsgID = compact(w.ID)
		}
		if c.Anchors, err = parseAnchors(w.Anchors); err != nil {
			return c, err
		}
		if w.Stream != nil {
			c.Stream = *w.Stream
		}
		if w.Task != nil {
			c.Task = int(*w.Task)
		}
		if w.NeedTaskIDs != nil {
			c.NeedTaskIDs = *w.NeedTaskIDs
		}
		if isNull(w.Tuple) {
			return c, fmt.Errorf("%w: emit without tuple", ErrProtocol)
		}
		if c.Tuple, err = decodeValues(w.Tuple); err != nil {
			return c, fmt.Errorf("%w: emit: tuple is not a list: %s", ErrProtocol, truncate(w.Tuple, 100))
		}
	case CmdAck, CmdFail:
		if c.ID, err = idText(w.ID); err != nil {
			return c, fmt.Errorf("%w: %s: %w", ErrProtocol, c.Name, err)
		}
	case CmdLog, CmdError:
		c.Msg = text(w.Msg)
		if c.Name == CmdLog && !isNull(w.Level) {
			// Storm's JsonSerializer reads a level that is not a number
			// as INFO; so does Gale (it used to kill the subprocess).
			var level float64
			if json.Unmarshal(w.Level, &level) == nil && level == math.Trunc(level) && math.Abs(level) < 1<<31 {
				c.Level = int(level)
			}
		}
	case CmdMetrics:
		if !isNull(w.Name) {
			if err := json.Unmarshal(w.Name, &c.Metric); err != nil {
				return c, fmt.Errorf("%w: metrics: name is not a string: %s", ErrProtocol, w.Name)
			}
		}
		if c.Metric == "" {
			return c, fmt.Errorf("%w: metrics without name", ErrProtocol)
		}
		c.Params = compact(w.Params)
	}
	return c, nil
}

// idText returns the text of a tuple id: a string's value or a number's
// literal.
func idText(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", fmt.Errorf("no id")
	}
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), nil
	}
	return "", fmt.Errorf("id is neither a string nor a number: %s", truncate(raw, 100))
}

func parseAnchors(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '[' { // Storm accepts a single id
		id, err := idText(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: emit: anchors: %w", ErrProtocol, err)
		}
		return []string{id}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%w: emit: anchors is not a list", ErrProtocol)
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		id, err := idText(a)
		if err != nil {
			return nil, fmt.Errorf("%w: emit: anchors: %w", ErrProtocol, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// text returns a JSON string's value, or the JSON text of anything else.
func text(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func compact(raw json.RawMessage) json.RawMessage {
	if isNull(raw) {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return bytes.Clone(raw)
	}
	return buf.Bytes()
}

// ParsePid decodes the handshake reply {"pid": N}.
func ParsePid(msg []byte) (int, error) {
	var w struct {
		Pid *json.Number `json:"pid"`
	}
	if err := json.Unmarshal(msg, &w); err != nil || w.Pid == nil {
		return 0, fmt.Errorf("%w: expected {\"pid\": N}, got %q", ErrHandshake, truncate(msg, 200))
	}
	pid, err := strconv.ParseInt(string(*w.Pid), 10, 64)
	if err != nil {
		f, ferr := w.Pid.Float64()
		if ferr != nil {
			return 0, fmt.Errorf("%w: bad pid %s", ErrHandshake, *w.Pid)
		}
		pid = int64(f)
	}
	return int(pid), nil
}

// recordMetric applies a "metrics" command: a numeric params (or an
// object with a numeric "value") is added to the task's custom metric
// name, like Storm's CountMetric; anything else is logged and ignored.
func recordMetric(tc *topology.TaskContext, log *slog.Logger, name string, params json.RawMessage) {
	var v float64
	if err := json.Unmarshal(params, &v); err != nil {
		var obj struct {
			Value *float64 `json:"value"`
		}
		if json.Unmarshal(params, &obj) != nil || obj.Value == nil {
			log.Debug("shell metric ignored: params is not a number", "name", name, "params", string(params))
			return
		}
		v = *obj.Value
	}
	tc.RecordMetric(name, v)
}
