// `npm run bench:http -- [--url http://127.0.0.1:8080] [--users loadtests/users.json] [--connections 1,8,32] [--seconds 10]`
// autocannon against a running service: model answers (known users) and fallback answers (unknown users).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    users: { type: 'string', default: 'loadtests/users.json' },
    connections: { type: 'string', default: '1,8,32' },
    seconds: { type: 'string', default: '10' },
  },
});
const users = JSON.parse(readFileSync(values.users!, 'utf8')) as string[];
const kinds: [string, () => string][] = [
  ['model (known users)', () => users[Math.floor(Math.random() * users.length)]!],
  ['fallback (unknown users)', () => `bench-unknown-${Math.floor(Math.random() * 1e9)}`],
];
console.log('| answers | connections | req/s | p50 ms | p99 ms | non-2xx | errors |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [label, user] of kinds) {
  for (const connections of values.connections!.split(',').map(Number)) {
    const r = await autocannon({
      url: values.url!,
      connections,
      duration: Number(values.seconds),
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/recommend/${encodeURIComponent(user())}?n=10` }) }],
    });
    console.log(`| ${label} | ${connections} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`);
  }
}
