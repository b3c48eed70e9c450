import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuTimes, parseCpuTimes, stealPercent } from '../../bench/steal.js';

const stat = (user: number, idle: number, steal: number, guest = 0) =>
  `cpu  ${user} 10 20 ${idle} 5 0 3 ${steal} ${guest} 0\ncpu0 ${user} 10 20 ${idle} 5 0 3 ${steal} ${guest} 0\nintr 1 2 3\n`;

test('the first cpu line counts eight fields; guest time is already in user', () => {
  assert.deepEqual(parseCpuTimes(stat(100, 400, 50, 70)), { total: 100 + 10 + 20 + 400 + 5 + 0 + 3 + 50, steal: 50 });
});

test('no steal field, or no cpu line, is not a reading', () => {
  assert.equal(parseCpuTimes('cpu  1 2 3 4 5 6 7\n'), undefined);
  assert.equal(parseCpuTimes('intr 1 2\n'), undefined);
  assert.equal(parseCpuTimes('cpu  1 2 3 4 5 6 7 x\n'), undefined);
});

test('steal is the share of the time between two readings that the hypervisor took', () => {
  const before = parseCpuTimes(stat(100, 400, 50));
  const after = parseCpuTimes(stat(160, 420, 70)); // 60 + 20 + 20 = 100 ticks later, 20 of them stolen
  assert.equal(stealPercent(before, after), 20);
  assert.equal(stealPercent(before, before), undefined);
  assert.equal(stealPercent(undefined, after), undefined);
});

test('this machine reads as a percentage between 0 and 100 where /proc/stat exists', (t) => {
  const now = cpuTimes();
  if (process.platform !== 'linux') return t.skip('no /proc/stat off Linux');
  assert.ok(now && now.total > 0 && now.steal >= 0 && now.steal <= now.total);
});
