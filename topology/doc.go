// Package topology is Gale's declarative model of a stream topology:
// spouts and bolts, the streams between them, and the settings of the
// whole. A topology is written in JSON and read with [Decode], or declared
// in Go with a [Builder]; both check it against a [Catalog] of component
// types (package registry implements one) and give the same validated
// [Topology], or an [*Errors] listing every problem at once.
//
// This documentation is the specification of the JSON format.
//
// # A complete example
//
// The word count: a generator spout emits sentences, a split bolt cuts
// them into words (shuffle grouping: any task will do), a count bolt
// counts them (fields grouping on "word": each word always reaches the
// same task) and receives a tick tuple every second to flush its counts.
// Acking is on, with two acker tasks.
//
//	{
//	  "name": "wordcount",
//	  "config": {
//	    "topology.workers": 2,
//	    "topology.acker.executors": 2,
//	    "topology.message.timeout.secs": 30,
//	    "wordcount.min.length": 3
//	  },
//	  "spouts": [
//	    {"id": "sentences", "type": "generator", "config": {"sentences": ["the cow jumped over the moon"]}}
//	  ],
//	  "bolts": [
//	    {"id": "split", "type": "split", "parallelism": 2,
//	     "inputs": [{"component": "sentences"}]},
//	    {"id": "count", "type": "count", "parallelism": 2, "tick": "1s",
//	     "inputs": [{"component": "split", "grouping": "fields", "fields": ["word"]}]}
//	  ]
//	}
//
// # The topology object
//
//   - "name" (string, required): the topology's name in a cluster. Names,
//     component ids and stream ids are 1 to 200 bytes of letters, digits,
//     '_', '.' and '-'; they do not start with '.' (they become file and
//     object names) nor with "__" (reserved for Gale, as in the "__tick"
//     stream).
//   - "config" (object, optional): topology-wide settings, see below. Keys
//     that do not start with "topology." belong to the user: Gale keeps
//     them in Topology.Config (numbers as float64, as encoding/json reads
//     them) for components to read.
//   - "spouts" (array, required, at least one): the components that emit
//     tuples from a source.
//   - "bolts" (array, optional): the components that consume streams.
//
// No other field is allowed, here or in any object below.
//
// # Components (spouts and bolts)
//
//   - "id" (string, required): unique among spouts and bolts together.
//   - "type" (string, required): a type registered in the Catalog for the
//     component's kind, e.g. "generator" for a spout, "count" for a bolt.
//   - "parallelism" (positive integer, default 1, or the autoscale
//     policy's "min"): the number of tasks.
//   - "config" (any JSON, default none): the type's own configuration,
//     decoded strictly into the type's config struct (see [DecodeConfig]);
//     fields left out keep the type's defaults. A type without config
//     accepts only an absent config, null or {}.
//   - "inputs" (array, bolts only, at least one): the streams the bolt
//     reads; spouts take none.
//   - "outputs" (object, optional): {"stream id": ["field", ...]} replaces
//     the streams the type declares, for types that allow it (such as
//     generic sources whose records the user describes, and shell
//     components). Empty is the same as absent. A stream written
//     {"fields": ["field", ...], "direct": true} is direct, as Storm's
//     declareStream(id, true, fields): only the direct grouping reads it,
//     and each emit on it names its task.
//   - "tick" (duration, bolts only, default none): the engine sends the
//     bolt a tick tuple (stream "__tick") at this interval. A duration is a
//     string in Go's syntax ("1.5s", "200ms", "1m") or a number of seconds
//     (1.5).
//   - "autoscale" (object, default none): lets a cluster change the
//     component's parallelism with its load, within bounds; the
//     parallelism must lie within them. Its fields:
//     "max" (integer, required, min..256): the most tasks;
//     "min" (integer >= 1, default 1): the fewest;
//     "target_capacity" (number in (0, 1], default 0.7): the busy fraction
//     of a task aimed at, above which the component scales up;
//     "scale_up_lag_seconds" (number > 0, spouts only, default 30): the
//     lag (records behind the source's end over the consume rate) that
//     scales a spout up while it is not shrinking;
//     "cooldown" (duration >= 10s, default "2m"): no change of the
//     component within it after the last one.
//     A bolt that reads a stream with the "global" grouping (one task gets
//     everything) or the "all" grouping (every task gets everything)
//     cannot take a policy: more tasks would not share its load.
//
// The streams of a component are declared by its type, from its config
// and, for pass-through bolts, from the fields of the streams it reads
// ([ComponentType.Outputs]); a stream with no id in Storm is "default"
// here. Some types declare streams direct: only the direct grouping reads
// them.
//
// # Inputs
//
//   - "component" (string, required): the id of the emitting component.
//   - "stream" (string, default "default"): one of its streams.
//   - "grouping" (string, default "shuffle"): how tuples are spread over
//     the bolt's tasks; one of
//     "shuffle" (randomly, evenly),
//     "fields" (equal values of "fields" go to the same task),
//     "all" (every task gets every tuple),
//     "global" (the task with the lowest id gets everything),
//     "direct" (the emitter picks the task; the stream must be direct, and
//     a direct stream takes no other grouping),
//     "local_or_shuffle" (a task in the emitter's worker when there is one),
//     "none" (don't care; behaves as shuffle),
//     "partial_key" (each key of "fields" goes to the less loaded of two
//     candidate tasks, which balances skewed keys),
//     "batch" (all tuples of one batch go to the same task, chosen by a
//     stable hash of the batch id; what batch sinks read with).
//   - "fields" (array of strings): the grouping fields; required by
//     "fields" and "partial_key", forbidden for the others. Each must be a
//     field of the stream.
//
// A bolt reads a given stream of a component once at most. Bolts must not
// form cycles: a bolt cannot read its own stream, nor the stream of a bolt
// that reads it, directly or not.
//
// # Topology config
//
// The keys Gale knows keep Storm's names (see [Settings]):
//
//	key                                    value                          default
//	topology.workers                       integer >= 1                   1
//	topology.acker.executors               integer >= 0 (0: no acking)    1
//	topology.message.timeout.secs          number of seconds > 0          30
//	topology.max.spout.pending             integer >= 0 (0: no cap)       1000
//	topology.debug                         boolean                        false
//	topology.executor.receive.buffer.size  integer >= 1                   32768
//	topology.transfer.batch.size           integer 1..16384               64
//	topology.batch.flush.interval.millis   integer 0..3600000             1
//	topology.batch.local                   boolean                        true
//	topology.rescale.in.place              boolean                        true
//
// Three more are Storm's names for settings Gale has per component
// ([StormAliases]); given topology-wide, they are the value of every
// component that sets none, and a component that sets a different value is
// an error naming both (the same value is fine). gale validate notes each
// with the Gale setting it is read as:
//
//	topology.tick.tuple.freq.secs     seconds > 0   "tick" of every bolt
//	topology.subprocess.timeout.secs  seconds > 0   "heartbeat_timeout" of shell spouts and bolts
//	topology.shellbolt.max.pending    integer >= 1  "max_pending" of shell bolts (tuples not yet
//	                                                written to the subprocess, as in Storm)
//
// Any other key starting with "topology." is an error, Storm's names that
// Gale has no meaning for included.
//
// # Errors
//
// Decode, [Topology.Validate] and [Builder.Build] report every problem they
// find as an [*Errors], one [*FieldError] per problem, printed one per
// line as "path: message". The path is that of the offending value in the
// JSON document: "name", `config["topology.workers"]`, "spouts[0].type",
// "bolts[2].inputs[0].fields[1]", "bolts[1].config.patterns[3]". For
// example:
//
//	spouts[0].parallelism: want a positive integer, got string "2"
//	bolts[1].paralelism: unknown field; known fields: id, type, parallelism, config, inputs, outputs, tick, autoscale (did you mean "parallelism"?)
//	bolts[1].type: unknown bolt type "splitt"; known bolt types: count, split (did you mean "split"?)
//	bolts[2].inputs[0].fields[0]: field "wrd" is not in stream "default" of "split" (its fields: word) (did you mean "word"?)
//	bolts[3].inputs[0]: cycle: audit -> enrich -> audit
//
// Malformed JSON gives a single error with its line and column. A problem
// that follows from another one is not reported: when a bolt's type is
// unknown, its streams are unknown too, so the bolts reading it are not
// checked against them. Each FieldError wraps a sentinel error (ErrType,
// ErrUnknownField, ErrCycle...) for errors.Is.
//
// # In a cluster
//
// A topology can be right in one process (`gale run`) and wrong in a
// cluster, where a component's tasks run on several machines and move
// between them. A config type that knows when implements
// [ClusterChecker]; [Topology.CheckCluster] asks every component, and a
// cluster worker refuses a topology it does not pass, the way it refuses
// an invalid one, each problem at its path (wrapping [ErrLocalOnly]):
//
//	spouts[0].config.ledger.kind: a file ledger lives on one worker's disk; in a cluster use {"kind": "kafka"} (or ...)
//
// # Encoding
//
// [Encode] writes a Topology back as JSON that Decode reads into the same
// Topology, so that a cluster can store what was submitted.
package topology
