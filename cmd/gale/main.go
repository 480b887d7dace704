// Command gale runs, validates and submits Gale topologies. See the README
// or run `gale --help`.
package main

import (
	"github.com/gale-stream/gale/cli"
)

func main() { cli.Main() }
