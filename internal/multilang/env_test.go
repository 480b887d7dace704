package multilang

import (
	"slices"
	"testing"
)

// TestChildEnv: a subprocess gets the environment without Gale's secrets.
func TestChildEnv(t *testing.T) {
	in := []string{"PATH=/bin", "HOME=/root", "GALE_AUTH_TOKEN=t", "GALE_CLUSTER_KEY=k", "GALE_GOSSIP_KEY=g",
		"GALE_ES_PASSWORD=p", "GALE_S3_SECRET_KEY=s", "gale_kafka_sasl_password=x", "GALE_API=http://x", "GALE_LOG=debug", "AWS_REGION=eu"}
	got := ChildEnv(in)
	want := []string{"PATH=/bin", "HOME=/root", "GALE_API=http://x", "GALE_LOG=debug", "AWS_REGION=eu"}
	if !slices.Equal(got, want) {
		t.Errorf("ChildEnv(%q) = %q, want %q", in, got, want)
	}
}
