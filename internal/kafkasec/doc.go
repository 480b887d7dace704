// Package kafkasec is the security of Gale's connections to Kafka: TLS and
// SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), one Security config shared by
// every Kafka client Gale makes — the kafka spout and its batch ledger, the
// kafka_sink, and the cluster store of `gale worker --store kafka`.
//
// In a topology it sits next to "brokers":
//
//	"brokers": ["kafka-1.example:9094"],
//	"tls":  {"enabled": true, "ca_file": "/etc/gale/kafka-ca.pem"},
//	"sasl": {"mechanism": "SCRAM-SHA-512", "username": "gale",
//	         "password_file": "/etc/gale/kafka-password"}
//
// tls: enabled (default false), ca_file (PEM certificates trusted for the
// brokers; default the system's), cert_file and key_file (a client
// certificate, both or neither), server_name (the name checked in the
// brokers' certificates; default the host of the address dialled),
// insecure_skip_verify (no check at all: tests only).
//
// sasl: mechanism ("PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"; none when
// empty), username, and the password from password_env (the name of an
// environment variable of the worker) or password_file (a file on the
// worker; surrounding white space is trimmed). A "password" in the JSON is
// refused: a topology is stored by the cluster and shown by its API, so it
// must hold no secret. A variable named GALE_..._PASSWORD is kept from the
// subprocesses of the worker (multilang.ChildEnv); another name is not.
// PLAIN sends the password as it is, so it needs tls.enabled, unless
// allow_plain_without_tls says otherwise.
//
// Validate checks a Security without touching files or the environment (a
// topology may be validated on another machine than the worker that runs
// it); Apply, when a client connects, reads the files and the password and
// fills a sarama.Config (KgoOpts: the options of a franz-go client, with
// which the kafka spout reads). No error of this package holds a password,
// and Security's Password prints as "[hidden]".
//
// Explain turns the errors of a client that failed to connect into an
// *AuthError (the brokers refused the login: it names the brokers, the
// mechanism and the user) or a *TLSError (no TLS session: a certificate
// that does not verify, or TLS to a port that does not speak it).
package kafkasec
