// Beyond known users: fold-in for visitors the model has never seen (POST /recommend), similar items
// (GET /similar/:itemId) and batches (POST /recommend/batch), at a constant arrival rate, in the shares
// FOLDIN_SHARE, SIMILAR_SHARE and BATCH_SHARE (the rest: GET /recommend/:userId).
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, N, constantArrival, recommend, users } from './lib.js';

/** Item ids, written by `recserve users --feed <root> --name <model> --sample N --items > loadtests/items.json`. */
const itemsFile = __ENV.ITEMS_FILE || 'loadtests/items.json';
const items = JSON.parse(open(itemsFile.startsWith('/') || !__ENV.PWD ? itemsFile : `${__ENV.PWD}/${itemsFile}`));

const FOLDIN_SHARE = Number(__ENV.FOLDIN_SHARE || '0.4');
const SIMILAR_SHARE = Number(__ENV.SIMILAR_SHARE || '0.4');
const BATCH_SHARE = Number(__ENV.BATCH_SHARE || '0.01');
const INTERACTIONS = Number(__ENV.INTERACTIONS || '20');
const BATCH_USERS = Number(__ENV.BATCH_USERS || '1000');

export const options = constantArrival('discovery', { rate: 300, duration: '5m', vus: 50, maxVus: 200 });

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const json = { headers: { 'content-type': 'application/json' } };

/** A visitor the model has never seen, with INTERACTIONS ratings of known items: folded in. */
function foldIn() {
  const interactions = Array.from({ length: INTERACTIONS }, () => ({ itemId: pick(items), rating: 1 + Math.floor(Math.random() * 5) }));
  const res = http.post(`${BASE_URL}/recommend`, JSON.stringify({ userId: `k6-visitor-${Math.floor(Math.random() * 1e9)}`, interactions, n: N }), { ...json, tags: { name: 'foldin' } });
  check(res, {
    'fold-in is 200': (r) => r.status === 200,
    'a new visitor is answered by fold-in': (r) => r.status !== 200 || r.json('source') === 'foldin',
  });
}

function similar() {
  const res = http.get(`${BASE_URL}/similar/${encodeURIComponent(pick(items))}?n=${N}`, { tags: { name: 'similar' } });
  check(res, {
    'similar is 200': (r) => r.status === 200,
    'similar has items': (r) => r.status !== 200 || Array.isArray(r.json('items')),
  });
}

function batch() {
  const userIds = Array.from({ length: BATCH_USERS }, () => pick(users));
  const res = http.post(`${BASE_URL}/recommend/batch`, JSON.stringify({ userIds, n: N }), { ...json, tags: { name: 'batch' }, timeout: '60s' });
  check(res, {
    'batch is 200': (r) => r.status === 200,
    'batch has a line per user': (r) => r.status !== 200 || String(r.body).trimEnd().split('\n').length === BATCH_USERS,
  });
}

export default function () {
  const roll = Math.random();
  if (roll < FOLDIN_SHARE) foldIn();
  else if (roll < FOLDIN_SHARE + SIMILAR_SHARE) similar();
  else if (roll < FOLDIN_SHARE + SIMILAR_SHARE + BATCH_SHARE) batch();
  else recommend();
}
