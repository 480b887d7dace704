package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-stream/gale/cluster/store"
	"github.com/gale-stream/gale/internal/galetest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gale test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestTLS_PeersOverHTTPS: issue 16's finding 9 — with TLS on, workers
// fetched each other's figures over http:// and the monitor showed zeros.
// Two workers sharing a certificate: each shows the other's process
// figures, fetched over HTTPS.
func TestTLS_PeersOverHTTPS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	st, err := store.OpenFileStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs galetest.Buffer
	start := func(name string, join ...string) *Worker {
		return startInProcess(t, Config{Name: name, Join: join, TLSCert: cert, TLSKey: key, Store: st,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	}
	w1 := start("w1")
	start("w2", w1.GossipAddr())
	galetest.Eventually(t, "w1 to show w2's memory, fetched over HTTPS", 20*time.Second, func() bool {
		ms, err := w1.Members(context.Background())
		if err != nil {
			return false
		}
		for _, m := range ms {
			if m.Name == "w2" && m.RSSBytes > 0 {
				return true
			}
		}
		return false
	})
	if strings.Contains(logs.String(), "http: TLS handshake error") {
		t.Errorf("a worker called another over plain HTTP or untrusted TLS:\n%s", logs.String())
	}
}
