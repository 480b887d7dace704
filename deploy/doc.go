// Package deploy holds Gale's deployment artefacts — docker/ (the images),
// kubernetes/ (a StatefulSet and its services, kustomize-ready) and
// systemd/ (a unit for bare hosts) — and the tests that check them against
// the gale binary they run. It is a Go module of its own so that the
// Kubernetes API types its tests decode into stay out of the engine's
// go.mod; scripts/test.sh (make test) runs its tests.
package deploy
