"""A reliable spout written with pystorm, unchanged from how it would run
under Apache Storm: emits 5 sentences with ids, replays failed ones."""
from pystorm import Spout

SENTENCES = ["the cow", "jumped over", "the moon", "four score", "and seven"]


class Sentences(Spout):
    def initialize(self, conf, ctx):
        self.i = 0
        self.pending = {}
        self.replay = []

    def next_tuple(self):
        if self.replay:
            tid = self.replay.pop(0)
        elif self.i < len(SENTENCES):
            tid = "s%d" % self.i
            self.pending[tid] = SENTENCES[self.i]
            self.i += 1
        else:
            return
        self.emit([self.pending[tid]], tup_id=tid)

    def ack(self, tup_id):
        self.pending.pop(tup_id, None)
        self.logger.info("acked %s", tup_id)

    def fail(self, tup_id):
        self.replay.append(tup_id)


if __name__ == "__main__":
    Sentences().run()
