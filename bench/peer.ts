import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { loadBundle } from '../src/model-store/bundle-loader.js';
import { listUpdates } from '../src/model-store/feed.js';
import { aptInstall } from './debian.js';
import { BENCH_FEED } from './feed.js';
import { freePort, startServer, type HttpResult } from './http.js';
import { hasWrk, wrk } from './wrk.js';

export const PEER_DIR = path.resolve(process.env.RECSERVE_PEER_DIR ?? '../shared/peers');
const PEER_PACKAGES = ['python3-fastapi', 'python3-uvicorn', 'python3-numpy', 'libopenblas0-pthread', 'wrk'];
/** wrk script requesting random ids of a recserve model, one per line of IDS_FILE. */
export const WRK_IDS = path.resolve('bench/wrk-ids.lua');

interface Peer {
  label: string;
  python: string;
  module: string;
  env: NodeJS.ProcessEnv;
}

/** The peers of ../shared/peers, each with the Python its README runs it on and one thread, as measured there. */
const PEERS: Peer[] = [
  { label: 'FastAPI + numpy peer (1 uvicorn worker)', python: '/usr/bin/python3', module: 'numpy_service:app', env: { OPENBLAS_NUM_THREADS: '1' } },
  { label: 'FastAPI + FAISS peer (1 uvicorn worker)', python: 'python3', module: 'faiss_service:app', env: { FAISS_THREADS: '1' } },
];

/** Whether the FAISS peer's Python has its packages (PyPI: faiss-cpu fastapi uvicorn numpy), installing them once if not. */
function faissPeerReady(): boolean {
  const ready = () => spawnSync('python3', ['-c', 'import faiss, fastapi, uvicorn, numpy'], { stdio: 'ignore' }).status === 0;
  return ready() || (spawnSync('python3', ['-m', 'pip', 'install', '-q', 'faiss-cpu', 'fastapi', 'uvicorn', 'numpy'], { stdio: 'ignore' }).status === 0 && ready());
}

/** Whether the peer and wrk can run; as root on Debian, installs the peer's packages first (its README's way). */
export function peerAvailable(): { ok: boolean; why?: string } {
  const ready = () => spawnSync('/usr/bin/python3', ['-c', 'import fastapi, uvicorn, numpy'], { stdio: 'ignore' }).status === 0 && hasWrk();
  if (ready()) return { ok: true };
  if (aptInstall(PEER_PACKAGES) && ready()) return { ok: true };
  return { ok: false, why: `needs ${PEER_PACKAGES.join(' ')} (apt-get install -y ...)` };
}

/** Starts a peer with the given shape; resolves once it answers. */
async function startPeer(peer: Peer, items: number, rank: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(peer.python, ['-m', 'uvicorn', peer.module, '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--log-level', 'warning'], {
    cwd: PEER_DIR,
    env: { ...process.env, N_ITEMS: String(items), RANK: String(rank), N_USERS: '100000', ...peer.env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/recommend/0?n=10`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 600) throw new Error('the peer did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))) };
}

export interface PeerCase {
  label: string;
  items: number;
  rank: number;
  /** recserve models (in the bench feed) of this shape: [row label, model name]. */
  models: [string, string][];
}

export interface PeerRow extends HttpResult {
  shape: string;
}

/**
 * The peer and recserve (every worker, the default) on the same machine, each measured by wrk with one
 * thread at 8 connections, as the peer's README runs it. recserve's users are real ids of its model.
 */
export async function benchPeer(cases: PeerCase[], seconds: number, workers: string[]): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  const run = async (label: string, url: string, script: string, env: NodeJS.ProcessEnv) => {
    await wrk('warm-up', url, script, env, 8, 2);
    return wrk(label, url, script, env, 8, seconds);
  };
  for (const c of cases) {
    const shape = `${c.items.toLocaleString('en-US')} x ${c.rank}`;
    for (const p of PEERS.filter((p) => p.module.startsWith('numpy') || faissPeerReady())) {
      const peer = await startPeer(p, c.items, c.rank);
      try {
        rows.push({ shape, ...(await run(p.label, peer.url, path.join(PEER_DIR, 'wrk_users.lua'), { N_USERS: '100000' })) });
      } finally {
        await peer.stop();
      }
    }
    for (const [label, model] of c.models) {
      const idsFile = await userIdsFile(model);
      for (const w of workers) {
        const server = await startServer(['--feed', BENCH_FEED, '--model', model], { RECSERVE_WORKERS: w });
        try {
          const isDefault = Number(w) === Math.max(1, Math.floor(availableParallelism() / 2));
          rows.push({ shape, ...(await run(`recserve ${label}, ${w} worker${w === '1' ? '' : 's'}${isDefault ? ' (default)' : ''}`, server.url, WRK_IDS, { IDS_FILE: idsFile })) });
        } finally {
          await server.stop();
        }
      }
    }
  }
  return rows;
}

/** Up to 10,000 user ids of a bench model, evenly spread, one per line. */
export async function userIdsFile(model: string): Promise<string> {
  const update = (await listUpdates(BENCH_FEED, model)).filter((u) => u.complete).at(-1)!;
  const snapshot = await loadBundle(model, update.id, update.dir);
  const count = Math.min(10_000, snapshot.numUsers);
  const ids = Array.from({ length: count }, (_, i) => snapshot.userIds[Math.floor((i * snapshot.numUsers) / count)]);
  const file = path.resolve('.bench', `${model}-users.txt`);
  writeFileSync(file, ids.join('\n') + '\n');
  return file;
}
