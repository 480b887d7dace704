"""A Storm-style batching bolt written against Storm's own storm.py: it
keeps the tuples it receives and, on each tick tuple, emits one tuple per
kept tuple (anchored to it) and acks them all. It acks only on ticks.

It checks what Storm gives a bolt and reports anything else with
storm.reportError: the tick tuple's value is the tick frequency in seconds
(topology.tick.tuple.freq.secs), and the context's task->component names
the system task -1 "__system" and the acker tasks "__acker".

Runs unchanged under Apache Storm (ShellBolt) and Gale (shell). storm.py
is Storm's, from the jar org.apache.storm:multilang-python, beside this
file (Storm's resources/ layout); Gale's tests fetch it.
"""
import storm


class BatchBolt(storm.Bolt):
    def initialize(self, conf, context):
        self.conf = conf
        self.batch = []
        t2c = context["task->component"]
        if t2c.get("-1") != "__system" or "__acker" not in t2c.values():
            storm.reportError("task->component lacks __system or __acker: %r" % t2c)

    def process(self, tup):
        if tup.task == -1 and tup.stream == "__tick":
            want = self.conf.get("topology.tick.tuple.freq.secs")
            if tup.values != [want]:
                storm.reportError("tick tuple %r, want [%r]" % (tup.values, want))
            for t in self.batch:
                storm.emit(t.values, anchors=[t])
                storm.ack(t)
            storm.log("batch of %d flushed on tick %r" % (len(self.batch), tup.values))
            self.batch = []
            storm.ack(tup)
            return
        self.batch.append(tup)


BatchBolt().run()
