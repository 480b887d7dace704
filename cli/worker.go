package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gale-stream/gale/cluster"
	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/wallclock"
)

func init() {
	register(command{name: "worker", summary: "run a cluster worker: join the others, serve the API, run its share of the topologies", run: workerCmd})
}

func workerCmd(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "worker", "", "Run a Gale cluster worker. Workers find each other by gossip (--join any one of them),\n"+
		"keep the cluster's state in a store (--store file: a directory shared by the workers of one machine;\n"+
		"--store kafka: a compacted topic), and each runs the tasks the cluster assigns it.")
	host, _ := os.Hostname()
	name := fs.String("name", host, "this worker's unique name")
	bind := fs.String("bind", "127.0.0.1:7946", "gossip address HOST:PORT (the tuple transport uses PORT+1 unless --transport)")
	trAddr := fs.String("transport", "", "tuple transport address HOST:PORT")
	httpAddr := fs.String("http", "127.0.0.1:8080", "API and UI address HOST:PORT")
	dataDir := fs.String("data-dir", ".gale/cluster", "local state; with --store file also the cluster state (share it between the workers of a machine)")
	join := fs.String("join", "", "HOST[:PORT][,HOST[:PORT]...] of workers already in the cluster: addresses or DNS names, every address\n"+
		"of a name joined (a headless Kubernetes service); PORT defaults to 7946")
	rejoin := fs.Duration("rejoin-interval", 30*time.Second, "resolve the --join names again this often and join workers that are not members yet;\n"+
		"a worker that finds nobody at its start runs alone and retries (0: exit when nobody answers within 10 s)")
	key := addSecret(fs, "cluster-key", "cluster-key-file", "GALE_CLUSTER_KEY",
		"the cluster key (at least 16 bytes, raw or hex; the same on every worker)")
	key.alias = "GALE_GOSSIP_KEY"
	oldKeyFile := fs.String("gossip-key-file", "", "the older name of --cluster-key-file")
	sec := addAPISecurityFlags(fs)
	cert := fs.String("tls-cert", "", "serve the API over HTTPS with this certificate")
	tlsKey := fs.String("tls-key", "", "... and this key")
	tlsCA := fs.String("tls-ca", "", "with --tls-cert: more CA certificates to trust when calling the other workers' APIs (the system's and --tls-cert's are trusted)")
	allowTypes := fs.String("allow-types", "", "TYPE[,TYPE...]: the only component types this worker runs (default: all)")
	denyTypes := fs.String("deny-types", "", "TYPE[,TYPE...]: component types this worker refuses, e.g. shell,lines,print,file_sink (shell runs any command; the others read or write any path)")
	slots := fs.Int("slots", 0, "at most this many tasks on this worker (0: no limit)")
	debounce := fs.Duration("debounce", 500*time.Millisecond, "membership changes wait until the live workers stayed the same this long, so a flapping worker moves no task")
	drain := fs.Duration("drain-timeout", cluster.DefaultDrainTimeout, "on SIGTERM or Ctrl-C, wait at most this long for this worker's tasks to move to the others with nothing in flight (no replay), then leave; a second signal leaves at once")
	compression := fs.String("transport-compression", "none", "none or lz4: send frames of 512 bytes or more to the other workers as lz4 blocks\n"+
		"(for networks slower than the CPUs: about 5x less to carry for JSON records, some CPU on both sides;\n"+
		"workers that do not read lz4, of an earlier version, get frames as they are)")
	storeKind := fs.String("store", "file", "cluster state store: file or kafka")
	brokers := fs.String("store-brokers", "127.0.0.1:9092", "with --store kafka: the brokers")
	topic := fs.String("store-topic", "gale.cluster", "with --store kafka: the compacted topic")
	storeSec := addKafkaStoreFlags(fs)
	if _, ok := parseArgs(fs, args, 0); !ok {
		return 2
	}
	if *drain <= 0 {
		fmt.Fprintf(env.Stderr, "gale worker: --drain-timeout %v: want a positive duration\n", *drain)
		return 2
	}
	if *rejoin < 0 {
		fmt.Fprintf(env.Stderr, "gale worker: --rejoin-interval %v: want 0 or a positive duration\n", *rejoin)
		return 2
	}
	if *compression != "none" && *compression != "lz4" {
		fmt.Fprintf(env.Stderr, "gale worker: --transport-compression %q: want none or lz4\n", *compression)
		return 2
	}
	if *debounce <= 0 {
		fmt.Fprintf(env.Stderr, "gale worker: --debounce %v: want a positive duration\n", *debounce)
		return 2
	}
	warn := func(msg string) { fmt.Fprintf(env.Stderr, "gale worker: warning: %s\n", msg) }
	if *key.file == "" {
		*key.file = *oldKeyFile
	}
	ckey, err := clusterKey(env, key, warn)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
		return 2
	}
	apiSec, err := sec.get(env, warn)
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
		return 2
	}
	var st store.Store
	switch *storeKind {
	case "file":
		st, err = store.OpenFileStore(filepath.Join(*dataDir, "state"))
	case "kafka":
		st, err = storeSec.open(ctx, env, warn, strings.Split(*brokers, ","), *topic)
	default:
		fmt.Fprintf(env.Stderr, "gale worker: --store %q: want file or kafka\n", *storeKind)
		return 2
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: open the %s store: %v\n", *storeKind, err)
		return 1
	}
	defer st.Close()
	var joins []string
	if *join != "" {
		joins = strings.Split(*join, ",")
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if skew, err := wallclock.Skew(); err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
		return 2
	} else if skew != 0 {
		log.Warn("test hook: this worker's wall clock is skewed", "env", wallclock.SkewEnv, "skew", skew)
	}
	w, err := cluster.Start(cluster.Config{Name: *name, Gossip: *bind, Transport: *trAddr, HTTP: *httpAddr, Join: joins,
		ClusterKey: ckey, API: apiSec, TLSCert: *cert, TLSKey: *tlsKey, TLSCA: *tlsCA,
		AllowTypes: splitList(*allowTypes), DenyTypes: splitList(*denyTypes), Slots: *slots, Store: st,
		Registry: env.Registry, Logger: log, Version: Version, Debounce: *debounce, DrainTimeout: *drain, Rejoin: *rejoin,
		TransportCompress: *compression == "lz4"})
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
		return 1
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
	}
	insecure := ""
	if apiSec.Insecure {
		insecure = " INSECURE (--insecure):"
	}
	fmt.Fprintf(env.Stdout, "worker %s:%s gossip %s, API %s://%s (Ctrl-C or SIGTERM: its tasks move to the others, then it leaves)\n", *name, insecure, w.GossipAddr(), scheme, w.APIAddr())
	if err := w.Run(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
		return 1
	}
	return 0
}
