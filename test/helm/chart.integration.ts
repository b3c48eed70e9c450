// The Helm chart rendered for real (helm from the Go module proxy, installed by scripts/setup-integration.sh)
// and every manifest decoded strictly into the Kubernetes API's own Go types (tools/k8scheck: k8s.io/api and
// the Prometheus Operator's ServiceMonitor type), so an unknown field or a wrong type fails.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { whichTool } from '../helpers/tools.js';

const exec = promisify(execFile);
const CHART = path.join(REPO_ROOT, 'helm', 'recserve');

/** helm on the PATH, or where `go install` put it. */
async function findHelm(): Promise<string | null> {
  const onPath = await whichTool('helm');
  if (onPath) return onPath;
  if (!(await whichTool('go'))) return null;
  const gopath = (await exec('go', ['env', 'GOPATH'])).stdout.trim();
  const installed = path.join(gopath, 'bin', 'helm');
  return (await exec(installed, ['version', '--short']).then(() => true, () => false)) ? installed : null;
}

/** Runs `command` with `input` on stdin. */
function pipe(command: string, args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    child.stdin!.end(input);
  });
}

/** The documented option sets of values.yaml, each as --set pairs. */
const OPTION_SETS: Record<string, string[]> = {
  defaults: [],
  'object-storage feed': ['feed.source=objectStorage', 'feed.objectStorage.credentialsSecret=feed-creds'],
  ServiceMonitor: ['serviceMonitor.enabled=true'],
  'HPA off': ['autoscaling.enabled=false'],
  'existing admin Secret': ['adminToken.existingSecret=recserve-admin'],
  'admin token value': ['adminToken.value=s3cret'],
  'Cassandra settings': ['cassandra.enabled=true', 'cassandra.contactPoints={cassandra-0.cassandra:9042,cassandra-1.cassandra:9042}', 'cassandra.passwordSecret=cassandra-pw', 'cassandra.username=recserve'],
  'Redis fallback': ['redis.enabled=true'],
};

describe('helm/recserve rendered and validated', () => {
  let helm: string | null = null;
  let checker = '';
  after(() => checker && rmSync(path.dirname(checker), { recursive: true, force: true }));
  before(async () => {
    helm = await findHelm();
    if (!helm || !(await whichTool('go'))) return;
    checker = path.join(mkdtempSync(path.join(tmpdir(), 'recserve-k8scheck-')), 'k8scheck');
    await exec('go', ['build', '-o', checker, '.'], { cwd: path.join(REPO_ROOT, 'tools', 'k8scheck') });
  });

  const needsTools = (t: { skip(reason: string): void }) => {
    if (helm && checker) return false;
    // Never skipped in CI: .ci/run runs scripts/setup-integration.sh first.
    assert.ok(!process.env.CI, 'CI must have helm and go (scripts/setup-integration.sh installs helm)');
    t.skip('helm or go is missing: run bash scripts/setup-integration.sh');
    return true;
  };

  it('helm lint passes, strict', async (t) => {
    if (needsTools(t)) return;
    const { stdout } = await exec(helm!, ['lint', '--strict', CHART]);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  for (const [label, sets] of Object.entries(OPTION_SETS)) {
    it(`renders with ${label}; every manifest decodes strictly into its Kubernetes type`, async (t) => {
      if (needsTools(t)) return;
      const { stdout: manifests } = await exec(helm!, ['template', 'r', CHART, ...sets.flatMap((s) => ['--set', s])], { maxBuffer: 16 * 2 ** 20 });
      const result = await pipe(checker, [], manifests);
      assert.equal(result.code, 0, result.stderr);
      const kinds = result.stdout.trim().split('\n').map((l) => l.split(' ')[2]);
      assert.ok(kinds.includes('Deployment') && kinds.includes('Service') && kinds.includes('ConfigMap'), kinds.join(', '));
      if (label === 'ServiceMonitor') assert.ok(kinds.includes('ServiceMonitor'));
      if (label === 'HPA off') assert.ok(!kinds.includes('HorizontalPodAutoscaler'));
      if (label === 'admin token value') assert.ok(kinds.includes('Secret'));
      if (label === 'object-storage feed') assert.match(manifests, /name: feed-sync-once/);
    });
  }

  it('the checker refuses an unknown field, a wrong type and an unknown kind', async (t) => {
    if (needsTools(t)) return;
    const bad = [
      'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80}], colour: blue}\n',
      'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: "eighty"}]}\n',
      'apiVersion: v1\nkind: Gadget\nmetadata: {name: x}\n',
    ];
    for (const doc of bad) {
      const result = await pipe(checker, [], doc);
      assert.equal(result.code, 1, doc);
      assert.match(result.stderr, /k8scheck: /);
    }
  });
});
