"""A Storm spout written against Storm's own storm.py that emits at most
one tuple per next, RATE tuples a second (env SPOUT_RATE, default 10; 0:
as fast as asked), COUNT of them (env SPOUT_COUNT, default 100), each
with a message id. It logs activate and deactivate, and counts acks.
"""
import os
import time

import storm

SENTENCES = ["the cow jumped over the moon", "an apple a day keeps the doctor away",
             "four score and seven years ago", "snow white and the seven dwarfs"]


class SlowSpout(storm.Spout):
    def initialize(self, conf, context):
        self.rate = float(os.environ.get("SPOUT_RATE", "10"))
        self.count = int(os.environ.get("SPOUT_COUNT", "100"))
        self.sent = 0
        self.acked = 0
        self.next_at = time.time()

    def activate(self):
        storm.log("spout activated")

    def deactivate(self):
        storm.log("spout deactivated")

    def nextTuple(self):
        if self.sent >= self.count:
            time.sleep(0.001)
            return
        if self.rate > 0:
            now = time.time()
            if now < self.next_at:
                time.sleep(min(0.001, self.next_at - now))
                return
            self.next_at += 1.0 / self.rate
        storm.emit([SENTENCES[self.sent % len(SENTENCES)]], id=str(self.sent))
        self.sent += 1

    def ack(self, id):
        self.acked += 1
        if self.acked == self.count:
            storm.log("all %d acked" % self.count)

    def fail(self, id):
        storm.log("failed %s" % id, level=3)


SlowSpout().run()
