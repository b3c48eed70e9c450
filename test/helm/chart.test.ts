import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { resolveConfig } from '../../src/config/load.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

// What can be checked without rendering; chart.integration.ts renders it with helm and validates every manifest.
const CHART = path.join(REPO_ROOT, 'helm', 'recserve');
const values = YAML.parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const templates = readdirSync(path.join(CHART, 'templates')).map((name) => ({ name, text: readFileSync(path.join(CHART, 'templates', name), 'utf8') }));

function has(root: unknown, dotted: string): boolean {
  let node = root;
  for (const key of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

describe('helm/recserve', () => {
  it('Chart.yaml and values.yaml parse, and the chart names its app version', () => {
    const chart = YAML.parse(readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'recserve');
    assert.match(chart.version!, /^\d+\.\d+\.\d+$/);
    assert.ok(typeof values === 'object' && values !== null);
  });

  it('every .Values path a template uses exists in values.yaml', () => {
    const missing: string[] = [];
    let used = 0;
    for (const { name, text } of templates) {
      for (const match of text.matchAll(/\.Values\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)/g)) {
        used++;
        if (!has(values, match[1]!)) missing.push(`${name}: .Values.${match[1]}`);
      }
    }
    assert.ok(used > 40, `${used} references found`);
    assert.deepEqual(missing, []);
  });

  it('has the objects operators expect, with probes, a non-root read-only container and the feed volume', () => {
    const names = templates.map((t) => t.name).sort();
    assert.deepEqual(names, ['_helpers.tpl', 'configmap.yaml', 'deployment.yaml', 'hpa.yaml', 'pdb.yaml', 'secret.yaml', 'service.yaml', 'servicemonitor.yaml']);
    const deployment = templates.find((t) => t.name === 'deployment.yaml')!.text;
    for (const needle of ['path: /healthz', 'path: /readyz', 'persistentVolumeClaim', 'emptyDir', 'RECSERVE_ADMIN_TOKEN', 'resources:', 'securityContext:']) assert.ok(deployment.includes(needle), needle);
    assert.deepEqual(values.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    assert.equal((values.podSecurityContext as { runAsNonRoot: boolean }).runAsNonRoot, true);
  });

  it("the default config in values.yaml is a valid recserve config", () => {
    const config: Record<string, unknown> = { ...(values.config as Record<string, unknown>), feed: '/feed' };
    for (const key of ['recommenders', 'experiments']) if (Object.keys(config[key] as object).length === 0) delete config[key];
    assert.doesNotThrow(() => resolveConfig(config, 'helm values.yaml config', {}));
  });

  it('every top-level value is documented with a comment above it (tolerations and affinity share the scheduling one)', () => {
    const lines = readFileSync(path.join(CHART, 'values.yaml'), 'utf8').split('\n');
    const undocumented = lines
      .map((line, i) => ({ line, i }))
      .filter(({ line }) => /^[A-Za-z]/.test(line))
      .filter(({ line, i }) => !lines[i - 1]?.trim().startsWith('#') && !/^(tolerations|affinity):/.test(line));
    assert.deepEqual(undocumented.map((u) => u.line), []);
  });
});
