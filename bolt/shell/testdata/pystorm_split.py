"""A split-sentence bolt written with pystorm (the Storm multilang library
streamparse uses), unchanged from how it would run under Apache Storm."""
from pystorm import Bolt


class SplitBolt(Bolt):
    def initialize(self, conf, ctx):
        self.logger.info("pystorm split in %s (task %s)", ctx["componentid"], ctx["taskid"])

    def process(self, tup):
        words = tup.values[0].split()
        for i, word in enumerate(words):
            # Ask for task ids on the first word (Gale must answer them).
            task_ids = self.emit([word], need_task_ids=(i == 0))
            if i == 0 and task_ids != [7, 8]:
                raise ValueError("unexpected task ids %r" % (task_ids,))
        # auto_anchor, auto_ack: anchored emits, then an ack.


if __name__ == "__main__":
    SplitBolt().run()
