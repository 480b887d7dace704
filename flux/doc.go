// Package flux reads Apache Storm's Flux YAML topology files and converts
// them to Gale's topology JSON (package topology), so that a Storm user's
// topology.yaml runs with `gale run topology.yaml` or `gale submit
// topology.yaml`, and `gale flux convert topology.yaml` prints the JSON.
//
// # What maps
//
// Flux's model (org.apache.storm.flux.model) is read strictly, field by
// field: "name", "config" (passed through as the topology's config),
// "spouts" and "bolts" (id, className, parallelism, constructorArgs,
// configMethods, properties, numTasks, config), "streams" (from, to,
// grouping: type, streamId, args), "includes" (files, with Flux's
// override rules). ${name} placeholders take values from a properties
// file (Options.Properties, Flux's --filter; ${list[i]} picks an element of
// a list property) and ${ENV-NAME} from the environment
// (Options.EnvFilter, Flux's --env-filter), replaced line by line before
// the YAML is parsed, as Flux does.
//
// A spout's or bolt's className picks its Gale type through [Classes]:
// FluxShellSpout and FluxShellBolt become "shell" (constructorArgs: the
// command line and the output fields), LogInfoBolt "print",
// TestWordSpout "generator", TestWordCounter "count"; "gale:NAME" (or a
// bare NAME) is the Gale type NAME, its config given as the one
// constructor argument (a mapping) and by properties. Groupings map one to
// one (SHUFFLE -> "shuffle", FIELDS with args -> "fields", ALL, GLOBAL,
// NONE, LOCAL_OR_SHUFFLE, DIRECT).
//
// # What does not
//
// Gale runs no Java. A Java class without a Gale equivalent, references
// (ref, reflist) to components, CUSTOM groupings, factories,
// topologySource, workerHooks and classpath includes are errors
// ([ErrNoEquivalent]) at their place, with a hint of what to use instead.
// Components themselves (Java objects that only refs reach) and
// resource-aware scheduling hints are dropped with a warning.
//
// # Errors
//
// Every problem is an [*Error] naming its file, line and path in Flux's
// model, printed as
//
//	wc.yaml:9: bolts[1].className: Java class "com.example.MyJavaBolt" has no Gale equivalent: ...
//	wc.yaml:13: streams[0].grouping.args[0]: field "wrod" is not in stream "default" of "spout-1" (its fields: word) (did you mean "word"?)
//
// [Decode] reports them all at once: those of the Flux file, and those
// Gale's validation finds in what converted (each wrapping its
// *topology.FieldError), located back in the Flux file.
//
// Hostile input costs bounded memory and time: a file is at most
// [MaxFileSize] bytes, [MaxDepth] levels deep, [MaxNodes] values once its
// YAML aliases are expanded (a billion-laughs document stops there), and
// includes are not followed from included files (as in Flux), so they
// cannot recurse.
package flux
