package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/kafkasec"
)

// kafkaStoreFlags are the TLS and SASL flags of `gale worker --store
// kafka`. Each has an environment variable for when the flag is not given;
// the password comes from a file or a variable (secret).
type kafkaStoreFlags struct {
	tls                       *bool
	ca, cert, key, serverName *string
	mechanism, username       *string
	password                  *secret
}

// The environment variables of the flags.
const (
	storeTLSCAEnv         = "GALE_STORE_TLS_CA"
	storeTLSCertEnv       = "GALE_STORE_TLS_CERT"
	storeTLSKeyEnv        = "GALE_STORE_TLS_KEY"
	storeTLSServerEnv     = "GALE_STORE_TLS_SERVER_NAME"
	storeSASLMechEnv      = "GALE_STORE_SASL_MECHANISM"
	storeSASLUserEnv      = "GALE_STORE_SASL_USERNAME"
	storeSASLPasswordEnv  = "GALE_STORE_SASL_PASSWORD"
	storeSASLPasswordFlag = "store-sasl-password-file"
)

func addKafkaStoreFlags(fs *flag.FlagSet) *kafkaStoreFlags {
	return &kafkaStoreFlags{
		tls: fs.Bool("store-tls", false, "with --store kafka: TLS to the brokers, trusting the system's CAs (the other --store-tls-* flags imply it)"),
		ca: fs.String("store-tls-ca", "", "with --store kafka: TLS to the brokers, trusting the CA certificates of this PEM file (or $"+
			storeTLSCAEnv+")"),
		cert: fs.String("store-tls-cert", "", "with --store kafka: a client certificate (PEM) for TLS (or $"+storeTLSCertEnv+")"),
		key:  fs.String("store-tls-key", "", "... and its key (or $"+storeTLSKeyEnv+")"),
		serverName: fs.String("store-tls-server-name", "", "with --store kafka: the name the brokers' certificates must hold (default the broker's host; or $"+
			storeTLSServerEnv+")"),
		mechanism: fs.String("store-sasl-mechanism", "", "with --store kafka: log in with SASL: PLAIN (needs TLS), SCRAM-SHA-256 or SCRAM-SHA-512 (or $"+
			storeSASLMechEnv+")"),
		username: fs.String("store-sasl-username", "", "with --store kafka: the SASL user (or $"+storeSASLUserEnv+")"),
		password: addSecret(fs, "store-sasl-password", storeSASLPasswordFlag, storeSASLPasswordEnv,
			"the store's SASL password"),
	}
}

// security is the kafkasec.Security the flags (and their variables) give.
func (f *kafkaStoreFlags) security(env *Env, warn func(string)) (kafkasec.Security, error) {
	or := func(v *string, envVar string) string {
		if *v != "" {
			return *v
		}
		return env.Getenv(envVar)
	}
	var s kafkasec.Security
	s.TLS.CAFile = or(f.ca, storeTLSCAEnv)
	s.TLS.CertFile = or(f.cert, storeTLSCertEnv)
	s.TLS.KeyFile = or(f.key, storeTLSKeyEnv)
	s.TLS.ServerName = or(f.serverName, storeTLSServerEnv)
	s.TLS.Enabled = *f.tls || s.TLS.CAFile != "" || s.TLS.CertFile != "" || s.TLS.KeyFile != "" || s.TLS.ServerName != ""
	s.SASL.Mechanism = or(f.mechanism, storeSASLMechEnv)
	s.SASL.Username = or(f.username, storeSASLUserEnv)
	pw, err := f.password.get(env, warn)
	if err != nil {
		return kafkasec.Security{}, err
	}
	s.SASL.Password = kafkasec.Secret(pw)
	var errs []error
	switch {
	case s.SASL.Mechanism == "" && (s.SASL.Username != "" || pw != ""):
		errs = append(errs, fmt.Errorf("--store-sasl-mechanism (or $%s) is required with a SASL user or password", storeSASLMechEnv))
	case s.SASL.Mechanism != "" && s.SASL.Username == "":
		errs = append(errs, fmt.Errorf("--store-sasl-username (or $%s) is required with --store-sasl-mechanism", storeSASLUserEnv))
	case s.SASL.Mechanism != "" && pw == "":
		errs = append(errs, fmt.Errorf("--%s (or $%s) is required with --store-sasl-mechanism", storeSASLPasswordFlag, storeSASLPasswordEnv))
	}
	if err := errors.Join(errs...); err != nil {
		return kafkasec.Security{}, err
	}
	if err := s.Validate(); err != nil {
		return kafkasec.Security{}, fmt.Errorf("--store-tls-*/--store-sasl-*: %w", err)
	}
	return s, nil
}

// open opens the Kafka store on brokers and topic with the flags' security.
func (f *kafkaStoreFlags) open(ctx context.Context, env *Env, warn func(string), brokers []string, topic string) (store.Store, error) {
	sec, err := f.security(env, warn)
	if err != nil {
		return nil, err
	}
	return store.OpenKafkaStore(ctx, store.KafkaConfig{Brokers: brokers, Topic: topic, Security: sec})
}
