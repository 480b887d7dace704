package schedule

import "testing"

func TestTmpPhases(t *testing.T) {
	in := benchInput(100, 50, 20, 8)
	p, _ := normalize(DefaultConfig(), in)
	p.readPrevious(nil)
	p.chooseWorkerSets()
	T, W := len(p.topos), len(p.workers)
	_ = T
	_ = W
	p.topologyQuotas()
	debugf = t.Logf
	p.topologyQuotas()
	for ti := range p.topos { p.componentQuotas(ti) }
}
