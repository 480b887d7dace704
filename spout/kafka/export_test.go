package kafka

import "github.com/gale-stream/gale/internal/ledger"

// WrapStore makes s open its ledger through wrap (tests of a faulty or
// hanging ledger); call it before Open.
func WrapStore(s *Spout, wrap func(ledger.Store) ledger.Store) { s.wrapStore = wrap }
