package cli

// The component types every gale binary has. Heavy backends (Ceph via
// cgo) link in only with their build tags; see components_*.go.
import (
	_ "github.com/gale-stream/gale/bolt/builtin"
	_ "github.com/gale-stream/gale/spout/builtin"
)
