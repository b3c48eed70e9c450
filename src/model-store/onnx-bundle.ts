import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import ort, { type InferenceSession } from 'onnxruntime-node';
import { Type, type Static } from 'typebox';
import { RecserveError } from '../errors.js';
import { checkManifest } from './manifest.js';
import { publishUpdate, writeDataFile, type PublishedUpdate } from './publish.js';

/**
 * Options of every onnxruntime session recserve creates. Its threads do not spin after a run: spinning
 * threads took a core from the event loop and the native scans (measured: a kernel timed right after an
 * onnxruntime run took up to 3x longer).
 */
export function onnxSessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' },
  };
}

export const ONNX_BUNDLE_FORMAT = 'recserve-onnx-bundle';
export const ONNX_MODEL_FILE = 'model.onnx';
/** The contract an ONNX variant's graph must follow. */
export const ONNX_INPUT = 'user';
export const ONNX_OUTPUT = 'scores';

export const OnnxManifestSchema = Type.Object({
  format: Type.Literal(ONNX_BUNDLE_FORMAT),
  formatVersion: Type.Literal(1),
  source: Type.String(),
  createdAt: Type.String(),
  files: Type.Object({
    model: Type.Object({ path: Type.String({ minLength: 1 }), bytes: Type.Integer({ minimum: 1 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
  }),
});
export type OnnxManifest = Static<typeof OnnxManifestSchema>;

/** One loaded ONNX update: a session whose input `user` is [1, rank] and output `scores` is [1, numItems]. */
export interface OnnxSnapshot {
  readonly kind: 'onnx';
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  /** The rank the `user` input takes, when the graph fixes it. */
  readonly rank: number | null;
  readonly session: InferenceSession;
  readonly manifest: OnnxManifest;
  readonly loadedAt: Date;
}

/** Publishes an ONNX graph as a new feed update of `name`. */
export function publishOnnxBundle(modelBytes: Uint8Array, options: { feedRoot: string; name: string; source: string }): Promise<PublishedUpdate<OnnxManifest>> {
  return publishUpdate(options.feedRoot, options.name, async (dir) => ({
    format: ONNX_BUNDLE_FORMAT,
    formatVersion: 1,
    source: options.source,
    createdAt: new Date().toISOString(),
    files: { model: await writeDataFile(dir, ONNX_MODEL_FILE, modelBytes) },
  }));
}

/**
 * Opens a graph and checks the variant contract: float32 input `user` [1, rank] and float32 output
 * `scores`. `where` names the file or folder in errors. The rank is null when the graph leaves it open.
 */
export async function openOnnxSession(bytes: Uint8Array, where: string, threads = 1): Promise<{ session: ort.InferenceSession; rank: number | null }> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, onnxSessionOptions(threads));
  } catch (err) {
    invalid(where, `not a loadable ONNX model (${(err as Error).message})`);
  }
  const input = session.inputMetadata.find((m) => m.name === ONNX_INPUT);
  const output = session.outputMetadata.find((m) => m.name === ONNX_OUTPUT);
  if (!input?.isTensor || input.type !== 'float32' || !output?.isTensor || output.type !== 'float32') {
    await session.release();
    invalid(where, `the graph must take a float32 input "${ONNX_INPUT}" [1, rank] and give a float32 output "${ONNX_OUTPUT}" [1, numItems]; it has inputs ${JSON.stringify(session.inputNames)} and outputs ${JSON.stringify(session.outputNames)}`);
  }
  const rankDim = input.shape[1];
  return { session, rank: typeof rankDim === 'number' ? rankDim : null };
}

function invalid(dir: string, message: string): never {
  throw new RecserveError('bundle_invalid', `${dir}: ${message}`);
}

/** Opens an ONNX update, checking the checksum and the user -> scores contract before it may serve. */
export async function loadOnnxBundle(name: string, version: string, dir: string, manifestJson: unknown, options: { verifyChecksums?: boolean; threads?: number } = {}): Promise<OnnxSnapshot> {
  const manifest = checkManifest(OnnxManifestSchema, manifestJson, dir);
  const entry = manifest.files.model;
  const bytes = await fs.readFile(path.join(dir, path.basename(entry.path))).catch(() => invalid(dir, `${entry.path} is missing`));
  if (bytes.length !== entry.bytes) invalid(dir, `${entry.path} has ${bytes.length} bytes; the manifest says ${entry.bytes}`);
  if (options.verifyChecksums && createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
    invalid(dir, `${entry.path} sha256 does not match the manifest`);
  }
  const { session, rank } = await openOnnxSession(bytes, dir, options.threads);
  return Object.freeze({ kind: 'onnx', name, version, dir, rank, session, manifest, loadedAt: new Date() });
}
