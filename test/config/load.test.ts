import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { configFromFlags } from '../../src/cli/serve.js';
import { RecserveError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

function writeConfig(t: { after(fn: () => void): void }, name: string, text: string): string {
  const file = path.join(tempDir(t), name);
  writeFileSync(file, text);
  return file;
}

function assertConfigError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RecserveError);
    assert.equal(err.code, 'config_invalid');
    assert.match(err.message, message);
    return true;
  });
}

describe('configuration', () => {
  it('loads YAML with defaults, resolves the feed next to the file, and freezes the result', (t) => {
    const file = writeConfig(t, 'recserve.yaml', 'feed: ./feed\nmodels:\n  - name: als\n');
    const config = loadConfigFile(file, {});
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.feed, path.join(path.dirname(file), 'feed'));
    assert.deepEqual(config.scoring, { kernels: ['native-float32', 'native-int8', 'onnx-float32', 'onnx-int8'], verifyChecksums: true, recordDigests: true, batching: true, maxBatch: 32, backgroundScans: 3, gatherMs: 0.3, rescoreCandidates: 100 });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.models[0]));
  });

  it('loads JSON and applies environment overrides for host, port and log level', (t) => {
    const file = writeConfig(t, 'recserve.json', JSON.stringify({ port: 9000, models: [{ name: 'a' }] }));
    const config = loadConfigFile(file, { RECSERVE_PORT: '9100', RECSERVE_HOST: '127.0.0.1', RECSERVE_LOG_LEVEL: 'warn' });
    assert.deepEqual([config.port, config.host, config.logLevel], [9100, '127.0.0.1', 'warn']);
  });

  it('stops with a message naming the file and the field', (t) => {
    const cases: [string, string, RegExp][] = [
      ['a.yaml', 'models: []\n', /a\.yaml: field models must not have fewer than 1 items/],
      ['b.yaml', 'port: 70000\nmodels: [{name: a}]\n', /b\.yaml: field port must be <= 65535/],
      ['c.yaml', 'models: [{name: "a/b"}]\n', /c\.yaml: field models\.0\.name must match pattern/],
      ['d.yaml', 'models: [{name: a}]\nprot: 1\n', /d\.yaml: field prot is not a known setting/],
      ['e.yaml', 'models: [{name: a}, {name: a}]\n', /e\.yaml: field models: model a is listed twice/],
      ['f.yaml', 'models: [{name: a}]\nscoring: {kernel: gpu}\n', /f\.yaml: field scoring\.kernel/],
      ['f.yaml', 'models: [{name: a}]\nscoring: {kernels: [gpu]}\n', /f\.yaml: field scoring\.kernels\.0/],
      ['f.yaml', 'models: [{name: a}]\nscoring: {kernels: [native-int8, onnx-int8]}\n', /f\.yaml: field scoring\.kernels needs a kernel for float32 bundles/],
      ['g.yaml', 'models: [{name: a}\n', /g\.yaml: not valid YAML/],
      ['h.json', '{"models": [', /h\.json: not valid JSON/],
      ['i.yaml', '- 1\n- 2\n', /i\.yaml: must hold an object/],
      ['j.yaml', 'logLevel: loud\nmodels: [{name: a}]\n', /j\.yaml: field logLevel/],
    ];
    for (const [name, text, message] of cases) assertConfigError(() => loadConfigFile(writeConfig(t, name, text), {}), message);
    assertConfigError(() => loadConfigFile('/nonexistent/recserve.yaml', {}), /\/nonexistent\/recserve\.yaml: cannot read/);
  });

  it('fills in one als recommender per model and a default experiment when none are configured', (t) => {
    const config = loadConfigFile(writeConfig(t, 'min.yaml', 'models: [{name: a}, {name: b}]\n'), {});
    assert.deepEqual(config.recommenders, { a: { kind: 'als', model: 'a' }, b: { kind: 'als', model: 'b' } });
    assert.deepEqual(config.experiments, [{ name: 'default', salt: 'default', buckets: 10_000, hash: 'murmur3', variants: [{ name: 'a', weight: 1, recommender: 'a', foldIn: true, fallback: [] }] }]);
    assert.equal(config.defaultExperiment, 'default');
    assert.equal(config.allowForcedVariant, false);
  });

  it('loads experiments with defaults and resolves static files next to the config', (t) => {
    const file = writeConfig(
      t,
      'ab.yaml',
      [
        'models: [{name: als}]',
        'recommenders:',
        '  als: {kind: als, model: als}',
        '  top: {kind: static, file: popular.json}',
        'experiments:',
        '  - name: hp',
        '    salt: "2026-11"',
        '    variants: [{name: a, weight: 1, recommender: als}, {name: b, weight: 2.5, recommender: top}]',
        '    overrides: {"42": b}',
        'exposureLog: {destination: stdout}',
      ].join('\n'),
    );
    const config = loadConfigFile(file, {});
    assert.equal(config.experiments[0]!.buckets, 10_000);
    assert.equal(config.experiments[0]!.hash, 'murmur3');
    assert.equal(config.recommenders.top!.file, path.join(path.dirname(file), 'popular.json'));
    assert.deepEqual(config.exposureLog, { destination: 'stdout', sampleRate: 1, flushIntervalMs: 500, rotate: {} });
  });

  it('rejects experiment settings that cannot work, naming the field', (t) => {
    const base = (experiment: string, recommenders = 'recommenders: {als: {kind: als, model: als}}') => `models: [{name: als}]\n${recommenders}\nexperiments:\n  - ${experiment}\n`;
    const variant = (v: string) => `{name: e, salt: s, variants: [${v}]}`;
    const cases: [string, RegExp][] = [
      [base(variant('{name: a, weight: 1, recommender: nope}')), /field experiments\.0\.variants\.0\.recommender: unknown recommender "nope" \(configured: "als"\)/],
      [base(variant('{name: a, weight: 1, recommender: als}, {name: a, weight: 1, recommender: als}')), /field experiments\.0\.variants: duplicate variant name "a"/],
      [base(variant('{name: a, weight: 0, recommender: als}')), /field experiments\.0\.variants\.0\.weight must be > 0/],
      [base(variant('{name: a, weight: -2, recommender: als}')), /field experiments\.0\.variants\.0\.weight must be > 0/],
      [base(variant('{name: a, weight: many, recommender: als}')), /field experiments\.0\.variants\.0\.weight must be number/],
      [base('{name: e, salt: "", variants: [{name: a, weight: 1, recommender: als}]}'), /field experiments\.0\.salt must not have fewer than 1 characters/],
      [base('{name: e, salt: s, buckets: 0, variants: [{name: a, weight: 1, recommender: als}]}'), /field experiments\.0\.buckets must be >= 1/],
      [base('{name: e, salt: s, buckets: 1000001, variants: [{name: a, weight: 1, recommender: als}]}'), /field experiments\.0\.buckets must be <= 1000000/],
      [base('{name: e, salt: s, hash: md5, variants: [{name: a, weight: 1, recommender: als}]}'), /field experiments\.0\.hash/],
      [base('{name: e, salt: s, variants: [{name: a, weight: 1, recommender: als}], overrides: {"9": b}}'), /field experiments\.0\.overrides\.9: unknown variant "b"/],
      [base(variant('{name: a, weight: 1, recommender: x}'), 'recommenders: {x: {kind: als, model: other}}'), /field recommenders\.x\.model: unknown model "other"/],
      [base(variant('{name: a, weight: 1, recommender: x}'), 'recommenders: {x: {kind: onnx, model: als}}'), /field recommenders\.x\.factors is required for kind onnx/],
      [base(variant('{name: a, weight: 1, recommender: x}'), 'recommenders: {x: {kind: static}}'), /field recommenders\.x\.file is required for kind static/],
      [`${base(variant('{name: a, weight: 1, recommender: als}'))}defaultExperiment: other\n`, /field defaultExperiment: unknown experiment "other"/],
    ];
    for (const [i, [text, message]] of cases.entries()) assertConfigError(() => loadConfigFile(writeConfig(t, `x${i}.yaml`, text), {}), message);
  });

  it('fills fallback defaults and rejects fallback settings that cannot work', (t) => {
    const ok = loadConfigFile(writeConfig(t, 'fb.yaml', 'models: [{name: als}]\nfallbacks: {cache: {kind: redis, url: "redis://r:6379"}, pop: {kind: static, file: p.json}}\n'), {});
    assert.deepEqual(
      { ...ok.fallbacks.cache, contactPoints: undefined },
      { kind: 'redis', url: 'redis://r:6379', timeoutMs: 20, breaker: { failures: 5, halfOpenAfterMs: 5000 }, keyTemplate: 'recserve:recs:{variant}:{userId}', connectTimeoutMs: 1000, localDataCenter: 'datacenter1', keyspace: 'recserve', table: 'recommendations', consistency: 'localOne', contactPoints: undefined },
    );
    assert.equal(ok.deadlineMs, 50);
    const base = (fallbacks: string, variant = '{name: v, weight: 1, recommender: als, fallback: [cache]}') =>
      `models: [{name: als}]\nfallbacks: ${fallbacks}\nexperiments: [{name: e, salt: s, variants: [${variant}]}]\n`;
    const cases: [string, RegExp][] = [
      [base('{cache: {kind: redis}}'), /field fallbacks\.cache\.url is required for kind redis/],
      [base('{cache: {kind: cassandra}}'), /field fallbacks\.cache\.contactPoints is required for kind cassandra/],
      [base('{cache: {kind: static}}'), /field fallbacks\.cache\.file is required for kind static/],
      [base('{cache: {kind: memcached}}'), /field fallbacks\.cache\.kind/],
      [base('{cache: {kind: redis, url: "redis://r", timeoutMs: 0}}'), /field fallbacks\.cache\.timeoutMs must be > 0/],
      [base('{cache: {kind: cassandra, contactPoints: [h], consistency: most}}'), /field fallbacks\.cache\.consistency/],
      [base('{cache: {kind: redis, url: "redis://r"}}', '{name: v, weight: 1, recommender: als, fallback: [cache, nope]}'), /field experiments\.0\.variants\.0\.fallback\.1: unknown fallback "nope" \(configured: "cache"\)/],
      [base('{cache: {kind: static, file: p.json}}', '{name: v, weight: 1, recommender: als, writeBehind: {to: cache}}'), /writeBehind\.to: cache is a static source and cannot be written/],
      [base('{cache: {kind: redis, url: "redis://r"}}', '{name: v, weight: 1, recommender: als, writeBehind: {to: other}}'), /writeBehind\.to: unknown fallback "other"/],
      ['models: [{name: als}]\ndeadlineMs: 0\n', /field deadlineMs must be > 0/],
    ];
    for (const [i, [text, message]] of cases.entries()) assertConfigError(() => loadConfigFile(writeConfig(t, `f${i}.yaml`, text), {}), message);
  });

  it('names the environment variable when an override is invalid', (t) => {
    const file = writeConfig(t, 'ok.yaml', 'models: [{name: a}]\n');
    assertConfigError(() => loadConfigFile(file, { RECSERVE_PORT: 'eighty' }), /ok\.yaml \(or RECSERVE_PORT\): field port must be integer/);
  });

  it('builds a config from serve flags alone, or from RECSERVE_CONFIG', (t) => {
    const config = configFromFlags({ feed: '/srv/feed', model: ['a', 'b'], port: '8181' }, {});
    assert.deepEqual(config.models, [{ name: 'a' }, { name: 'b' }]);
    assert.equal(config.port, 8181);
    assertConfigError(() => configFromFlags({ feed: '/srv/feed' }, {}), /command line \(--feed\/--model\): field models must not have fewer than 1 items/);
    const file = writeConfig(t, 'env.yaml', 'models: [{name: z}]\n');
    assert.deepEqual(configFromFlags({ port: '9999' }, { RECSERVE_CONFIG: file }).models, [{ name: 'z' }]);
    assert.equal(configFromFlags({ port: '9999' }, { RECSERVE_CONFIG: file }).port, 9999);
  });

  it('reads every environment variable once, into the frozen config: workers, the admin token, store passwords', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'models: [{name: als}]\nfallbacks: {wide: {kind: cassandra, contactPoints: [c1], passwordEnv: WIDE_PASSWORD}}\n');
    const config = loadConfigFile(file, { RECSERVE_WORKERS: '3', RECSERVE_ADMIN_TOKEN: 'tok', WIDE_PASSWORD: 'pw' });
    assert.equal(config.workers, 3);
    assert.deepEqual(config.secrets, { adminToken: 'tok', passwords: { wide: 'pw' } });
    assert.ok(Object.isFrozen(config.secrets));
    const defaults = loadConfigFile(file, { WIDE_PASSWORD: 'pw' });
    assert.equal(defaults.workers, Math.max(1, Math.floor(availableParallelism() / 2)));
    assert.equal(defaults.secrets.adminToken, undefined);
    assert.throws(() => loadConfigFile(file, {}), /field fallbacks\.wide\.passwordEnv: environment variable WIDE_PASSWORD is not set/);
    assert.throws(() => loadConfigFile(file, { RECSERVE_WORKERS: '0', WIDE_PASSWORD: 'pw' }), /\(or RECSERVE_WORKERS\): field workers must be >= 1/);
    assert.throws(() => loadConfigFile(file, { RECSERVE_WORKERS: 'many', WIDE_PASSWORD: 'pw' }), /\(or RECSERVE_WORKERS\): field workers must be integer/);
  });
});
