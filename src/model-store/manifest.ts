import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TSchema } from 'typebox';
import { RecserveError } from '../errors.js';
import { firstViolation } from '../shared.js';

export const BUNDLE_FORMAT = 'recserve-als-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

/** The data files of a bundle, by role. Every file starts at offset 0 of its own mapping, so views are aligned. */
export const BUNDLE_FILES = {
  userIds: 'user-ids.i32',
  itemIds: 'item-ids.i32',
  userFactors: 'user-factors.f32',
  itemFactors: 'item-factors.f32',
  itemCodes: 'item-codes.i8',
  itemScales: 'item-scales.f32',
  itemCodeOffsets: 'item-code-offsets.i32',
} as const;
export type BundleFileRole = keyof typeof BUNDLE_FILES;

const FileEntry = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    bytes: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

/** How Spark trained the model: what folding in a new user needs to solve as Spark does. */
export const TrainingSchema = Type.Object(
  {
    regParam: Type.Number({ minimum: 0 }),
    implicitPrefs: Type.Boolean(),
    alpha: Type.Number({ minimum: 0 }),
    nonnegative: Type.Boolean(),
    /** Where the values came from: the estimator's save, the model's metadata, or import flags. */
    source: Type.String(),
  },
  { additionalProperties: false },
);
export type TrainingParams = Static<typeof TrainingSchema>;

export const ManifestSchema = Type.Object(
  {
    format: Type.Literal(BUNDLE_FORMAT),
    formatVersion: Type.Literal(BUNDLE_FORMAT_VERSION),
    rank: Type.Integer({ minimum: 1, maximum: 4096 }),
    numUsers: Type.Integer({ minimum: 1 }),
    numItems: Type.Integer({ minimum: 1 }),
    dtype: Type.Literal('float32'),
    itemEncoding: Type.Optional(
      Type.Union([Type.Literal('float32'), Type.Literal('int8')], {
        description: 'int8: the bundle also holds int8 item codes (column-major) with a scale per item, for a fast first pass',
      }),
    ),
    idType: Type.Literal('int32'),
    byteOrder: Type.Literal('little'),
    layout: Type.Literal('row-major, rows sorted by id ascending'),
    spark: Type.Union([
      Type.Object({
        sparkVersion: Type.String(),
        uid: Type.String(),
        userCol: Type.String(),
        itemCol: Type.String(),
      }),
      Type.Null(),
    ]),
    training: Type.Optional(Type.Union([TrainingSchema, Type.Null()], { description: 'absent or null: unknown, so no fold-in' })),
    source: Type.String(),
    createdAt: Type.String(),
    files: Type.Object({
      userIds: FileEntry,
      itemIds: FileEntry,
      userFactors: FileEntry,
      itemFactors: FileEntry,
      itemCodes: Type.Optional(FileEntry),
      itemScales: Type.Optional(FileEntry),
      itemCodeOffsets: Type.Optional(FileEntry),
    }),
  },
  { additionalProperties: true },
);
export type Manifest = Static<typeof ManifestSchema>;

/** Where a bundle folder keeps its manifest. */
export function manifestFile(dir: string): string {
  return path.join(dir, 'manifest.json');
}

/** A bundle folder's manifest, parsed once per load and then checked against its kind's schema. */
export async function readManifestJson(dir: string): Promise<unknown> {
  const file = manifestFile(dir);
  const text = await fs.readFile(file, 'utf8').catch((err: Error) => {
    throw new RecserveError('bundle_invalid', `${dir}: cannot read manifest.json (${err.message})`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RecserveError('bundle_invalid', `${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** A parsed manifest checked against a bundle kind's schema; the first violation names its field. */
export function checkManifest<T extends TSchema>(schema: T, raw: unknown, dir: string): Static<T> {
  const violation = firstViolation(schema, raw);
  if (violation) throw new RecserveError('bundle_invalid', `${manifestFile(dir)}: ${violation.field} ${violation.detail}`);
  return raw as Static<T>;
}
