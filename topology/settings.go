package topology

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The topology config keys Gale knows, with Storm's names.
const (
	ConfigWorkers         = "topology.workers"
	ConfigAckers          = "topology.acker.executors"
	ConfigMessageTimeout  = "topology.message.timeout.secs"
	ConfigMaxSpoutPending = "topology.max.spout.pending"
	ConfigDebug           = "topology.debug"
	ConfigQueueSize       = "topology.executor.receive.buffer.size"
	ConfigBatchSize       = "topology.transfer.batch.size"
	ConfigFlushInterval   = "topology.batch.flush.interval.millis"
	ConfigBatchLocal      = "topology.batch.local"
	ConfigRescaleInPlace  = "topology.rescale.in.place"

	// Storm's names for settings Gale has under its own name (aliases):
	// each is the topology-wide value of a component setting.
	//
	// ConfigTickFreq is the "tick" of every bolt that has none.
	ConfigTickFreq = "topology.tick.tuple.freq.secs"
	// ConfigSubprocessTimeout is the "heartbeat_timeout" of every shell
	// component (bolt/shell, spout/shell) that has none.
	ConfigSubprocessTimeout = "topology.subprocess.timeout.secs"
	// ConfigShellBoltMaxPending is the "max_pending" of every shell bolt
	// that has none (with Storm's meaning: tuples not yet written to the
	// subprocess).
	ConfigShellBoltMaxPending = "topology.shellbolt.max.pending"
)

// StormAliases maps each Storm setting that Gale reads as one of its own
// settings to a description of that setting, for gale validate's notes.
var StormAliases = map[string]string{
	ConfigTickFreq:            `"tick" of every bolt`,
	ConfigSubprocessTimeout:   `"heartbeat_timeout" in the config of every shell spout and bolt`,
	ConfigShellBoltMaxPending: `"max_pending" in the config of every shell bolt`,
}

// SettingsUser is implemented by a component config that takes a default
// from the topology's settings (the shell types read
// topology.subprocess.timeout.secs and topology.shellbolt.max.pending).
// Validation calls UseTopologySettings once the config is decoded and
// valid; the config keeps what it sets itself and fills in the rest. It
// returns an error when both are given and differ (a *FieldError's Path
// is relative to the config).
type SettingsUser interface {
	UseTopologySettings(s Settings) error
}

// DefaultSettings returns the settings of a topology whose config is
// empty.
func DefaultSettings() Settings {
	return Settings{
		Workers:         1,
		Ackers:          1,
		MessageTimeout:  30 * time.Second,
		MaxSpoutPending: 1000,
		QueueSize:       32768,
		BatchSize:       64,
		FlushInterval:   time.Millisecond,
		BatchLocal:      true,
		RescaleInPlace:  true,
	}
}

// ConfigKeys lists the "topology." config keys Gale knows, sorted.
func ConfigKeys() []string {
	keys := make([]string, 0, len(settingDecoders))
	for k := range settingDecoders {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// settingDecoders read each known key into Settings; they return the
// message of a problem, or "".
var settingDecoders = map[string]func(s *Settings, v any) string{
	ConfigWorkers:         intSetting(1, func(s *Settings, n int) { s.Workers = n }),
	ConfigAckers:          intSetting(0, func(s *Settings, n int) { s.Ackers = n }),
	ConfigMaxSpoutPending: intSetting(0, func(s *Settings, n int) { s.MaxSpoutPending = n }),
	ConfigQueueSize:       intSetting(1, func(s *Settings, n int) { s.QueueSize = n }),
	ConfigBatchSize:       intSetting(1, func(s *Settings, n int) { s.BatchSize = n }, MaxBatchSize),
	ConfigFlushInterval: intSetting(0, func(s *Settings, n int) { s.FlushInterval = time.Duration(n) * time.Millisecond },
		maxFlushMillis),
	ConfigShellBoltMaxPending: intSetting(1, func(s *Settings, n int) { s.ShellBoltMaxPending = n }),
	ConfigTickFreq:            secondsSetting(func(s *Settings, d time.Duration) { s.TickFreq = d }),
	ConfigSubprocessTimeout:   secondsSetting(func(s *Settings, d time.Duration) { s.SubprocessTimeout = d }),
	ConfigDebug:               boolSetting(func(s *Settings, b bool) { s.Debug = b }),
	ConfigBatchLocal:          boolSetting(func(s *Settings, b bool) { s.BatchLocal = b }),
	ConfigRescaleInPlace:      boolSetting(func(s *Settings, b bool) { s.RescaleInPlace = b }),
	ConfigMessageTimeout:      secondsSetting(func(s *Settings, d time.Duration) { s.MessageTimeout = d }),
}

// boolSetting decodes a boolean.
func boolSetting(set func(*Settings, bool)) func(*Settings, any) string {
	return func(s *Settings, v any) string {
		b, ok := v.(bool)
		if !ok {
			return "want a boolean, got " + describeGo(v)
		}
		set(s, b)
		return ""
	}
}

// secondsSetting decodes a positive number of seconds.
func secondsSetting(set func(*Settings, time.Duration)) func(*Settings, any) string {
	return func(s *Settings, v any) string {
		f, ok := goNumber(v)
		ns := math.Round(f * 1e9)
		if !ok || !(f > 0) || ns < 1 {
			return "want a positive number of seconds, got " + describeGo(v)
		}
		if ns >= math.MaxInt64 {
			return "number of seconds out of range, got " + describeGo(v)
		}
		set(s, time.Duration(ns))
		return ""
	}
}

// MaxBatchSize bounds "topology.transfer.batch.size": a batch crosses
// between workers as one message, and a message holds at most 65,536
// tuples (internal/codec.MaxTuples).
const MaxBatchSize = 16384

// maxFlushMillis bounds "topology.batch.flush.interval.millis" (an hour:
// beyond that tuples would outlive any message timeout in a buffer).
const maxFlushMillis = 3600 * 1000

// intSetting decodes an integer setting of at least minimum and, when
// given, at most maximum[0].
func intSetting(minimum int, set func(*Settings, int), maximum ...int) func(*Settings, any) string {
	return func(s *Settings, v any) string {
		want := "a positive integer"
		if minimum == 0 {
			want = "a non-negative integer"
		}
		f, ok := goNumber(v)
		if !ok || f != math.Trunc(f) || f < float64(minimum) {
			return "want " + want + ", got " + describeGo(v)
		}
		if f > math.MaxInt32 {
			return fmt.Sprintf("%s is out of range (at most %d)", describeGo(v), math.MaxInt32)
		}
		if len(maximum) > 0 && f > float64(maximum[0]) {
			return fmt.Sprintf("%s is out of range (at most %d)", describeGo(v), maximum[0])
		}
		set(s, int(f))
		return ""
	}
}

// goNumber reads any Go or JSON number (not durations: keys in seconds
// take plain numbers).
func goNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case time.Duration, Duration:
		return 0, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// describeGo names a Go value the way describe names a JSON one.
func describeGo(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string " + quoteShort(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case json.Number:
		return "number " + string(x)
	case time.Duration:
		return "time.Duration " + x.String()
	case Duration:
		return "topology.Duration " + time.Duration(x).String()
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	if f, ok := goNumber(v); ok {
		return "number " + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprintf("%T", v)
}

// decodeTopologySettings reads config into Settings, reporting problems at
// config["key"].
func decodeTopologySettings(errs *errList, config map[string]any) Settings {
	s := DefaultSettings()
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		path := keyPath("config", k)
		dec, ok := settingDecoders[k]
		if !ok {
			if strings.HasPrefix(k, "topology.") {
				known := ConfigKeys()
				errs.add(path, ErrInvalid, "unknown topology setting; known settings: %s%s",
					strings.Join(known, ", "), didYouMean(k, known))
			}
			continue
		}
		if msg := dec(&s, config[k]); msg != "" {
			errs.add(path, ErrInvalid, "%s", msg)
		}
	}
	return s
}
