package io.galestream.bench.storm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Apache Storm baseline for Gale's word-count benchmark (bench/wordcount_test.go).
 *
 * <p>Shape: spout (1) emitting fixed sentences --shuffle--> split (2) --fields("word")--> count (2),
 * one worker, in LocalCluster. Modes: unacked (0 ackers, no message ids) and acked (1 acker,
 * message ids, max spout pending P for each P given). Each run warms up, then measures a window
 * and prints one line:
 *
 * <pre>
 * RESULT storm mode=unacked pending=0 sentences_per_s=.. words_per_s=.. ...
 * RESULT storm mode=acked pending=1000 sentences_per_s=.. words_per_s=.. acked_per_s=.. p50_ms=.. p99_ms=..
 * </pre>
 *
 * <p>With rows=ROW,... it runs those rows instead of the modes, one topology each, and prints one
 * line per row (see README.md for the fields):
 *
 * <pre>
 * RESULT storm row=wordcount window_s=.. tuples_per_s=.. emitted_per_s=.. acked_per_s=.. ... cpu_s=.. peak_rss_mb=..
 * </pre>
 *
 * <ul>
 *   <li>const: spout x1 emitting a constant one-field tuple (no message id, 0 ackers) --shuffle--> noop x1.
 *   <li>wordcount: the acked word count, max spout pending = the first pending= value.
 *   <li>wordcount-fail: the same, but each count task fails every 100th tuple and the spout replays
 *       failed sentences.
 * </ul>
 *
 * <p>Arguments (all optional, key=value): warmup=SECONDS (10) measure=SECONDS (20)
 * modes=unacked,acked pending=1000,5000 rows=const,wordcount,wordcount-fail (none), and
 * conf.KEY=VALUE to override a Storm topology setting (e.g. conf.topology.producer.batch.size=100).
 * A bare number is taken as measure=.
 *
 * <p>This class deliberately touches no Storm or logging class in static initialisers, so the
 * log4j2 configuration property set in main() is in force before anything logs.
 */
public final class WordCountBench {
    private WordCountBench() {}

    public static void main(String[] args) throws Exception {
        if (System.getProperty("log4j2.configurationFile") == null
            && System.getProperty("log4j.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2-bench.xml");
        }
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("warmup", "10");
        opts.put("measure", "20");
        opts.put("modes", "unacked,acked");
        opts.put("pending", "1000,5000");
        opts.put("rows", "");
        Map<String, Object> overrides = new LinkedHashMap<>();
        for (String a : args) {
            String arg = a.startsWith("--") ? a.substring(2) : a;
            int eq = arg.indexOf('=');
            if (arg.startsWith("conf.") && eq > 5) {
                overrides.put(arg.substring(5, eq), parseValue(arg.substring(eq + 1)));
                continue;
            }
            if (arg.equals("help") || arg.equals("-h")) {
                usage();
                return;
            }
            if (eq < 0 && arg.matches("\\d+")) {
                opts.put("measure", arg);
            } else if (eq > 0 && opts.containsKey(arg.substring(0, eq))) {
                opts.put(arg.substring(0, eq), arg.substring(eq + 1));
            } else {
                System.err.println("unknown argument: " + a);
                usage();
                System.exit(2);
            }
        }
        int warmup = Integer.parseInt(opts.get("warmup"));
        int measure = Integer.parseInt(opts.get("measure"));
        List<String> modes = Arrays.asList(opts.get("modes").split(","));
        List<Integer> pendings = new ArrayList<>();
        for (String p : opts.get("pending").split(",")) {
            pendings.add(Integer.parseInt(p.trim()));
        }
        List<String> rows = new ArrayList<>();
        for (String r : opts.get("rows").split(",")) {
            if (r.isBlank()) {
                continue;
            }
            if (!Runner.ROWS.contains(r.trim())) {
                System.err.println("unknown row: " + r + " (want " + String.join(", ", Runner.ROWS) + ")");
                System.exit(2);
            }
            rows.add(r.trim());
        }
        for (String m : modes) {
            if (!m.equals("unacked") && !m.equals("acked")) {
                System.err.println("unknown mode: " + m + " (want unacked, acked)");
                System.exit(2);
            }
        }
        if (measure <= 0 || warmup < 0) {
            System.err.println("measure must be > 0 and warmup >= 0");
            System.exit(2);
        }

        int code;
        if (rows.isEmpty()) {
            code = Runner.run(warmup, measure, modes, pendings, overrides);
        } else {
            // Rows replace the modes; they use only the first pending value (max spout pending).
            code = Runner.runRows(warmup, measure, rows, pendings.get(0), overrides);
        }
        System.out.flush();
        System.err.flush();
        // LocalCluster leaves non-daemon threads behind on some versions; do not hang.
        System.exit(code);
    }

    private static void usage() {
        System.err.println("usage: WordCountBench [warmup=10] [measure=20] [modes=unacked,acked] "
            + "[pending=1000,5000] [rows=const,wordcount,wordcount-fail] [conf.STORM_KEY=VALUE ...] | [SECONDS]");
    }

    /** A topology config value from the command line: integer, decimal, boolean or string. */
    static Object parseValue(String v) {
        if (v.matches("-?\\d+")) {
            return Long.parseLong(v);
        }
        if (v.matches("-?\\d*\\.\\d+")) {
            return Double.parseDouble(v);
        }
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        return v;
    }

    static String fmt(String f, Object... a) {
        return String.format(Locale.ROOT, f, a);
    }

    static long nanosToMillis(long n) {
        return TimeUnit.NANOSECONDS.toMillis(n);
    }
}
