#!/usr/bin/env node
// A Gale shell bolt in Node.js: upper-case the first field of each tuple.
//
// It speaks Apache Storm's multilang protocol directly (no Storm library),
// so it also runs unchanged under Storm's ShellBolt. Messages are JSON
// followed by a line "end". After the handshake ({"conf", "context",
// "pidDir"} -> create pidDir/<pid>, answer {"pid": N}) tuples arrive; we
// emit the upper-cased value anchored to the input, then ack it.
//
// Unlike splitsentence.py this bolt asks for task ids (the default): after
// each emit Gale writes back the JSON list of the tasks that received the
// tuple. As in Storm's storm.js, the lists arrive in the order of the
// emits, possibly after other tuples, so they are matched to emits by
// order and counted.
'use strict';
const fs = require('fs');
const path = require('path');

let buffer = '';
let setupDone = false;
let awaitingTaskIds = 0;
let taskIdReplies = 0;

function send(msgs) {
  process.stdout.write(msgs.map((m) => JSON.stringify(m) + '\nend\n').join(''));
}

function handle(msg) {
  if (!setupDone) {
    setupDone = true;
    fs.closeSync(fs.openSync(path.join(msg.pidDir, String(process.pid)), 'w'));
    send([{ pid: process.pid },
      { command: 'log', msg: 'uppercase ready in component ' + msg.context.componentid, level: 2 }]);
    return;
  }
  if (Array.isArray(msg)) { // task ids of an earlier emit
    awaitingTaskIds--;
    taskIdReplies++;
    return;
  }
  if (msg.task === -1 && msg.stream === '__heartbeat') {
    send([{ command: 'sync' }]);
    return;
  }
  if (msg.stream === '__tick') {
    send([{ command: 'ack', id: msg.id }]);
    return;
  }
  awaitingTaskIds++;
  send([
    { command: 'emit', anchors: [msg.id], tuple: [String(msg.tuple[0]).toUpperCase()] },
    { command: 'ack', id: msg.id },
  ]);
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let i;
  while ((i = buffer.indexOf('\nend\n')) >= 0) {
    const text = buffer.slice(0, i);
    buffer = buffer.slice(i + 5);
    if (text.trim() !== '') handle(JSON.parse(text));
  }
});
process.stdin.on('end', () => process.exit(0));
