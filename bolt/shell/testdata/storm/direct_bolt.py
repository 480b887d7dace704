"""A bolt on Storm's storm.py that routes each sentence to one task of the
component "sink" with emitDirect, on its stream "routed", declared direct
(Storm's declareStream("routed", true, fields)). An emit with a task on
the default stream, which is not direct, is Storm's error: the bolt tries
one, once, to show it is reported.
"""
import storm


class DirectBolt(storm.BasicBolt):
    def initialize(self, conf, context):
        t2c = context["task->component"]
        self.sinks = sorted(int(t) for t, c in t2c.items() if c == "sink")
        self.n = 0

    def process(self, tup):
        if self.n == 0:
            storm.emitDirect(self.sinks[0], tup.values)  # default stream: not direct
        storm.emitDirect(self.sinks[self.n % len(self.sinks)], tup.values, stream="routed")
        self.n += 1


DirectBolt().run()
