/*
 * A Storm-style batching bolt written against Storm's own storm.js: it
 * keeps the tuples it receives and, on each tick tuple, emits one tuple per
 * kept tuple (anchored to it) and acks them all (storm.js acks a tuple
 * when the callback given to process is called). It acks only on ticks,
 * and reports a tick whose value is not the tick frequency in seconds, or
 * a context without the __system and __acker tasks.
 *
 * storm.js is Storm's, from the jar org.apache.storm:multilang-javascript,
 * beside this file; Gale's tests fetch it.
 */
var storm = require('./storm');
var BasicBolt = storm.BasicBolt;

function BatchBolt() {
    BasicBolt.call(this);
    this.batch = [];
}
BatchBolt.prototype = Object.create(BasicBolt.prototype);
BatchBolt.prototype.constructor = BatchBolt;

BatchBolt.prototype.initialize = function(conf, context, done) {
    this.conf = conf;
    var t2c = context['task->component'];
    var ackers = Object.keys(t2c).filter(function(k) { return t2c[k] === '__acker'; });
    if (t2c['-1'] !== '__system' || ackers.length === 0) {
        this.sendMsgToParent({command: 'error', msg: 'task->component lacks __system or __acker: ' + JSON.stringify(t2c)});
    }
    done();
};

BatchBolt.prototype.process = function(tup, done) {
    var self = this;
    if (tup.isTickTuple()) {
        var want = this.conf['topology.tick.tuple.freq.secs'];
        if (tup.values.length !== 1 || tup.values[0] !== want) {
            this.sendMsgToParent({command: 'error', msg: 'tick tuple ' + JSON.stringify(tup.values) + ', want [' + want + ']'});
        }
        var batch = this.batch;
        this.batch = [];
        batch.forEach(function(item) {
            self.emit({tuple: item.tup.values, anchorTupleId: item.tup.id}, function(taskIds) {});
            item.done();
        });
        this.log('batch of ' + batch.length + ' flushed on tick ' + JSON.stringify(tup.values));
        done();
        return;
    }
    this.batch.push({tup: tup, done: done});
};

new BatchBolt().run();
