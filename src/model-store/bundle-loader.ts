import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RecserveError } from '../errors.js';
import { loadNative } from '../native-addon.js';
import { firstNonFinite, firstUnsorted } from './factors.js';
import { gramMatrix } from './gram.js';
import { mapFile } from './map-file.js';
import { checkManifest, ManifestSchema, readManifestJson, type Manifest, type BundleFileRole } from './manifest.js';
import { FILE_OFFSET_FACTOR, scanOffsets, type QuantizedItems } from './quantize.js';
import type { ModelSnapshot } from './snapshot.js';
import { sha256Files } from './sha256-files.js';
import type { VerifiedDigests } from './verified-digests.js';

interface MatrixChecks {
  findNonFinite(values: Float32Array): number;
  sumCodes(codes: Int8Array, rank: number): Int32Array;
}

/** The whole-matrix checks at memory speed when the addon is built (about 20x faster), in TypeScript otherwise. */
function matrixChecks(useAddon: boolean): MatrixChecks {
  const native = useAddon ? loadNative() : null;
  return native ? { findNonFinite: native.firstNonFinite, sumCodes: native.codeSums } : { findNonFinite: firstNonFinite, sumCodes: sumCodesInline };
}

function sumCodesInline(codes: Int8Array, rank: number): Int32Array {
  const numItems = codes.length / rank;
  const sums = new Int32Array(numItems);
  for (let j = 0; j < rank; j++) {
    const column = codes.subarray(j * numItems, (j + 1) * numItems);
    for (let i = 0; i < column.length; i++) sums[i]! += column[i]!;
  }
  return sums;
}

export interface LoadOptions {
  /** Recompute every file's sha256 and compare with the manifest (reads every byte once). */
  verifyChecksums?: boolean;
  /** Digests verified before, reused while their files keep their identity; verified ones are recorded. */
  verifiedDigests?: VerifiedDigests;
  /** Threads for sessions of ONNX updates. */
  threads?: number;
  /** false: check the matrices in TypeScript even when the addon is built (its checks are the default). */
  nativeChecks?: boolean;
}

function invalid(dir: string, message: string): never {
  throw new RecserveError('bundle_invalid', `${dir}: ${message}`);
}

/**
 * Maps a bundle folder and checks it against its manifest before anything may serve from it.
 * `manifestJson`: the manifest already parsed by the caller, if it has read it.
 */
export async function loadBundle(name: string, version: string, dir: string, options: LoadOptions = {}, manifestJson?: unknown): Promise<ModelSnapshot> {
  const manifest = checkManifest(ManifestSchema, manifestJson ?? (await readManifestJson(dir)), dir);
  const { rank, numUsers, numItems } = manifest;
  const itemEncoding = manifest.itemEncoding ?? 'float32';
  const expectedBytes: Partial<Record<BundleFileRole, number>> = {
    userIds: numUsers * 4,
    itemIds: numItems * 4,
    userFactors: numUsers * rank * 4,
    itemFactors: numItems * rank * 4,
    ...(itemEncoding === 'int8' ? { itemCodes: numItems * rank, itemScales: numItems * 4, itemCodeOffsets: numItems * 4 } : {}),
  };
  const mapped: Partial<Record<BundleFileRole, Buffer>> = {};
  const files: { role: BundleFileRole; file: string; path: string; sha256: string }[] = [];
  for (const role of Object.keys(expectedBytes) as BundleFileRole[]) {
    const entry = manifest.files[role] ?? invalid(dir, `manifest.json: /files/${role} is required with itemEncoding ${itemEncoding}`);
    const file = path.join(dir, path.basename(entry.path));
    const size = await fs.stat(file).then((s) => s.size, () => invalid(dir, `${entry.path} is missing`));
    if (size !== entry.bytes || size !== expectedBytes[role]) {
      invalid(dir, `${entry.path} has ${size} bytes; the manifest (rank ${rank}, ${numUsers} users, ${numItems} items) needs ${expectedBytes[role]}`);
    }
    mapped[role] = mapFile(file);
    files.push({ role, file, path: entry.path, sha256: entry.sha256 });
  }
  // Checksums are computed on another thread while this one checks the contents; a digest verified
  // before is taken from the record while its file is unchanged.
  const toHash = options.verifyChecksums ? files.filter((f) => options.verifiedDigests?.lookup(f.file) !== f.sha256) : [];
  const digests = options.verifyChecksums ? sha256Files(toHash.map((f) => ({ file: f.file, data: mapped[f.role]! }))) : undefined;
  digests?.catch(() => undefined);
  const checkDigests = async () => {
    const actual = await digests!.catch((err: Error) => invalid(dir, `cannot hash the data files (${err.message})`));
    toHash.forEach((f, i) => {
      if (actual[i] !== f.sha256) invalid(dir, `${f.path} sha256 ${actual[i]} does not match the manifest`);
    });
    for (const f of toHash) options.verifiedDigests?.record(f.file, f.sha256);
  };
  const view = <T>(role: BundleFileRole, Ctor: new (b: ArrayBuffer, o: number, l: number) => T, length: number): T =>
    new Ctor(mapped[role]!.buffer as ArrayBuffer, mapped[role]!.byteOffset, length);
  const build = (): ModelSnapshot => {
    const snapshot: ModelSnapshot = {
      kind: 'als',
      name,
      version,
      dir,
      rank,
      numUsers,
      numItems,
      userIds: view('userIds', Int32Array, numUsers),
      itemIds: view('itemIds', Int32Array, numItems),
      userFactors: view('userFactors', Float32Array, numUsers * rank),
      itemFactors: view('itemFactors', Float32Array, numItems * rank),
      itemEncoding,
      itemCodes: null,
      manifest: Object.freeze(manifest) as Manifest,
      itemGram: null,
      loadedAt: new Date(),
    };
    const checks = matrixChecks(options.nativeChecks ?? true);
    validateContents(snapshot, checks);
    const itemCodes =
      itemEncoding === 'int8'
        ? itemCodesOf(snapshot, checks, view('itemCodes', Int8Array, numItems * rank), view('itemScales', Float32Array, numItems), view('itemCodeOffsets', Int32Array, numItems))
        : null;
    return Object.freeze({ ...snapshot, itemCodes });
  };
  let snapshot: ModelSnapshot;
  try {
    snapshot = build();
  } catch (err) {
    // A file that does not match its checksum is the first thing to report: its contents are not the writer's.
    if (digests) await checkDigests();
    throw err;
  }
  if (digests) await checkDigests();
  // Fold-in of an implicit-feedback model starts from YᵀY: computed once, before the snapshot may serve.
  if (manifest.training?.implicitPrefs) return Object.freeze({ ...snapshot, itemGram: await gramMatrix(snapshot.itemFactors, rank) });
  return snapshot;
}

function validateContents(s: ModelSnapshot, { findNonFinite }: MatrixChecks): void {
  for (const [label, ids] of [['user', s.userIds], ['item', s.itemIds]] as const) {
    const at = firstUnsorted(ids);
    if (at !== -1) invalid(s.dir, `${label} ids are not sorted and unique at row ${at} (id ${ids[at]})`);
  }
  for (const [label, factors] of [['user', s.userFactors], ['item', s.itemFactors]] as const) {
    const at = findNonFinite(factors);
    if (at !== -1) invalid(s.dir, `${label} factors hold a non-finite value at row ${Math.floor(at / s.rank)}`);
  }
}

/**
 * The codes must describe themselves consistently: finite non-negative scales, and the offsets file equal
 * to 128 · Σ codes. The scans subtract 64 · Σ codes (7-bit user codes), derived here from the same sums.
 */
function itemCodesOf(s: ModelSnapshot, { sumCodes }: MatrixChecks, codes: Int8Array, scales: Float32Array, fileOffsets: Int32Array): Readonly<QuantizedItems> {
  const badScale = scales.findIndex((v) => !Number.isFinite(v) || v < 0);
  if (badScale !== -1) invalid(s.dir, `item scale of row ${badScale} is ${scales[badScale]}; scales must be finite and non-negative`);
  const sums = sumCodes(codes, s.rank);
  for (let i = 0; i < s.numItems; i++) {
    const want = FILE_OFFSET_FACTOR * sums[i]!;
    if (fileOffsets[i] !== want) invalid(s.dir, `item code offset of row ${i} is ${fileOffsets[i]}; its codes need ${want}`);
  }
  return Object.freeze({ codes, scales, offsets: scanOffsets(sums) });
}
