/*
 * A Storm spout written against Storm's own storm.js that emits at most one
 * tuple per next, SPOUT_RATE a second (default 10; 0: as fast as asked),
 * SPOUT_COUNT of them (default 100), each with a message id. Storm sends
 * activate when the topology is activated (also when it starts) and waits
 * for the sync that done() sends, as it does after next, ack and fail.
 */
var storm = require('./storm');
var Spout = storm.Spout;

var SENTENCES = ['the cow jumped over the moon', 'an apple a day keeps the doctor away',
    'four score and seven years ago', 'snow white and the seven dwarfs'];

function SlowSpout() {
    Spout.call(this);
    this.rate = parseFloat(process.env.SPOUT_RATE || '10');
    this.count = parseInt(process.env.SPOUT_COUNT || '100', 10);
    this.sent = 0;
    this.acked = 0;
    this.nextAt = Date.now();
}
SlowSpout.prototype = Object.create(Spout.prototype);
SlowSpout.prototype.constructor = SlowSpout;

SlowSpout.prototype.activate = function(done) {
    this.log('spout activated');
    done();
};

SlowSpout.prototype.deactivate = function(done) {
    this.log('spout deactivated');
    done();
};

SlowSpout.prototype.nextTuple = function(done) {
    if (this.sent >= this.count) {
        setTimeout(done, 1);
        return;
    }
    if (this.rate > 0) {
        var now = Date.now();
        if (now < this.nextAt) {
            setTimeout(done, Math.min(1, this.nextAt - now));
            return;
        }
        this.nextAt += 1000 / this.rate;
    }
    var id = String(this.sent);
    this.emit({tuple: [SENTENCES[this.sent % SENTENCES.length]], id: id}, function(taskIds) {});
    this.sent++;
    done();
};

SlowSpout.prototype.ack = function(id, done) {
    this.acked++;
    if (this.acked === this.count) {
        this.log('all ' + this.count + ' acked');
    }
    done();
};

SlowSpout.prototype.fail = function(id, done) {
    this.logWarn('failed ' + id);
    done();
};

new SlowSpout().run();
