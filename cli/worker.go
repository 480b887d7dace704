package cli

import (
	"context"
	"encoding/hex"
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
	join := fs.String("join", "", "HOST:PORT[,HOST:PORT...] of workers already in the cluster")
	keyFile := fs.String("gossip-key-file", "", "file with the gossip key (16, 24 or 32 bytes, raw or hex); or $GALE_GOSSIP_KEY (hex)")
	token := fs.String("auth-token", env.Getenv("GALE_AUTH_TOKEN"), "token the API requires for changes (or $GALE_AUTH_TOKEN)")
	cert := fs.String("tls-cert", "", "serve the API over HTTPS with this certificate")
	tlsKey := fs.String("tls-key", "", "... and this key")
	slots := fs.Int("slots", 0, "at most this many tasks on this worker (0: no limit)")
	debounce := fs.Duration("debounce", 500*time.Millisecond, "membership changes wait until the live workers stayed the same this long, so a flapping worker moves no task")
	storeKind := fs.String("store", "file", "cluster state store: file or kafka")
	brokers := fs.String("store-brokers", "127.0.0.1:9092", "with --store kafka: the brokers")
	topic := fs.String("store-topic", "gale.cluster", "with --store kafka: the compacted topic")
	if _, ok := parseArgs(fs, args, 0); !ok {
		return 2
	}
	if *debounce <= 0 {
		fmt.Fprintf(env.Stderr, "gale worker: --debounce %v: want a positive duration\n", *debounce)
		return 2
	}
	var key []byte
	switch {
	case *keyFile != "":
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
			return 1
		}
		key = gossipKey(b)
	case env.Getenv("GALE_GOSSIP_KEY") != "":
		key = gossipKey([]byte(env.Getenv("GALE_GOSSIP_KEY")))
	}
	var st store.Store
	var err error
	switch *storeKind {
	case "file":
		st, err = store.OpenFileStore(filepath.Join(*dataDir, "state"))
	case "kafka":
		st, err = store.OpenKafkaStore(ctx, store.KafkaConfig{Brokers: strings.Split(*brokers, ","), Topic: *topic})
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
		GossipKey: key, Token: *token, TLSCert: *cert, TLSKey: *tlsKey, Slots: *slots, Store: st,
		Registry: env.Registry, Logger: log, Version: Version, Debounce: *debounce})
	if err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "worker %s: gossip %s, API http://%s (Ctrl-C leaves the cluster)\n", *name, w.GossipAddr(), w.APIAddr())
	if err := w.Run(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "gale worker: %v\n", err)
		return 1
	}
	return 0
}

// gossipKey reads a key given raw or as hex.
func gossipKey(b []byte) []byte {
	s := strings.TrimSpace(string(b))
	if k, err := hex.DecodeString(s); err == nil && s != "" {
		return k
	}
	return b
}
