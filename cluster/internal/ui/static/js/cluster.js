// cluster.js — the cluster page: the workers and the topologies.

import {get} from './api.js';
import {h, replace, table, num, badge, section, fmtInt, fmtNum, fmtRate, fmtBytes, fmtDuration, since} from './dom.js';

const link = name => '#/topology/' + encodeURIComponent(name);

/** ClusterPage shows /members and /topologies. */
export class ClusterPage {
  constructor(main, app) {
    this.main = main;
    this.app = app;
    this.title = 'Cluster';
  }

  crumbs() { return [['Cluster', '#/']]; }

  async load() {
    const [members, topos] = await Promise.all([get('/members'), get('/topologies')]);
    return {members: members || [], topos: topos || []};
  }

  render({members, topos}) {
    const info = this.app.info || {};
    const alive = members.filter(m => m.state === 'alive' || m.state === 'leaving').length;
    const tasks = topos.reduce((a, t) => a + (t.tasks || 0), 0);
    const facts = [
      ['Mode', info.mode || '–'], ['Answered by', info.worker || '–'], ['Version', info.version || '–'],
      ['Workers alive', `${alive} / ${members.length}`], ['Topologies', topos.length], ['Tasks', fmtInt(tasks)],
    ];
    replace(this.main,
      h('h1', null, 'Cluster'),
      h('div', {class: 'facts'}, facts.map(([k, v]) => h('div', {class: 'fact'}, h('span', {class: 'k'}, k), h('span', {class: 'v'}, v)))),
      section('Workers', {id: 'members'}, table([
        {label: 'name'}, {label: 'address', title: 'gossip address'}, {label: 'API / UI'}, {label: 'state'},
        {label: 'uptime', cls: 'num'}, {label: 'tasks', cls: 'num'}, {label: 'slots', cls: 'num'},
        {label: 'CPU', cls: 'num'}, {label: 'memory', cls: 'num', title: 'resident set size'}, {label: 'version'},
      ], members.map(m => h('tr', {'data-member': m.name},
        h('td', null, h('b', null, m.name), m.name === info.worker ? h('span', {class: 'tag'}, 'this worker') : null),
        h('td', {class: 'mono'}, m.addr),
        h('td', {class: 'mono'}, m.api ? h('a', {href: `${location.protocol}//${m.api}/`, title: 'the monitor of this worker'}, m.api) : '–'),
        h('td', null, badge(m.state)),
        num(Math.round(since(m.started)), fmtDuration(since(m.started))),
        num(m.tasks), num(m.slots),
        num(m.cpu_percent || 0, m.cpu_percent ? m.cpu_percent.toFixed(1) + ' %' : '–'),
        num(m.rss_bytes || 0, m.rss_bytes ? fmtBytes(m.rss_bytes) : '–'),
        h('td', null, m.version || '–'))), {'data-empty': 'no workers'})),
      section('Topologies', {id: 'topologies'}, table([
        {label: 'name'}, {label: 'status'}, {label: 'version', cls: 'num', title: 'bumped by every rebalance'},
        {label: 'uptime', cls: 'num'}, {label: 'workers', cls: 'num'}, {label: 'tasks', cls: 'num'},
        {label: 'emitted', cls: 'num'}, {label: 'acked', cls: 'num'}, {label: 'failed', cls: 'num'},
        {label: 'emitted/s', cls: 'num', title: 'spouts, last minute'}, {label: 'acked/s', cls: 'num'}, {label: 'failed/s', cls: 'num'},
      ], topos.map(t => h('tr', {'data-topology': t.name},
        h('td', null, h('a', {href: link(t.name)}, h('b', null, t.name))),
        h('td', null, badge(t.status)), num(t.version),
        num(Math.round(t.uptime_seconds || 0), fmtDuration(t.uptime_seconds)),
        num(t.workers), num(t.tasks), num(t.emitted, fmtNum(t.emitted)), num(t.acked, fmtNum(t.acked)),
        num(t.failed, fmtNum(t.failed)),
        num(t.rates.emitted, fmtRate(t.rates.emitted)), num(t.rates.acked, fmtRate(t.rates.acked)),
        num(t.rates.failed, fmtRate(t.rates.failed)))), {'data-empty': 'no topology: submit one with  gale submit FILE.json'})));
  }
}
