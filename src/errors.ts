/**
 * Every error code recserve can report, in one place. HTTP codes carry their status;
 * the others are raised by the CLI, the importer, the config loader and the model store.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, summary: 'a path, query or header value is malformed, or a query parameter is unknown' },
  request_timeout: { status: 408, summary: 'the request was not received in time' },
  uri_too_long: { status: 414, summary: 'a path segment is longer than any valid value' },
  headers_too_large: { status: 431, summary: 'the request headers exceed the size limit' },
  not_found: { status: 404, summary: 'no such route or resource' },
  unknown_user: { status: 404, summary: 'the user is not known to the model' },
  unknown_item: { status: 404, summary: 'the item is not known to the model' },
  unknown_model: { status: 404, summary: 'the model is not configured' },
  model_unavailable: { status: 503, summary: 'the model is not loaded' },
  unknown_experiment: { status: 404, summary: 'the experiment is not configured' },
  unknown_variant: { status: 400, summary: 'a forced variant is not one of the experiment' },
  scoring_failed: { status: 500, summary: 'a model could not score the request' },
  deadline_exceeded: { status: 503, summary: 'the model would miss the deadline and no fallback had an answer' },
  unauthorized: { status: 401, summary: 'the admin bearer token is missing or wrong' },
  update_rejected: { status: 409, summary: 'the requested update cannot be served' },
  internal: { status: 500, summary: 'an unexpected server error' },
  config_invalid: { status: 500, summary: 'the configuration file or environment is invalid' },
  not_als_model: { status: 500, summary: 'the folder is not a Spark ALSModel save' },
  wrong_class: { status: 500, summary: 'the save holds another Spark class' },
  bad_training_params: { status: 500, summary: "the ALS estimator's save (training parameters) is missing or malformed" },
  bad_schema: { status: 500, summary: 'a factor file does not have the id/features schema' },
  bad_features: { status: 500, summary: 'a factor row is null, of the wrong length or not finite' },
  duplicate_id: { status: 500, summary: 'an id appears twice' },
  corrupt_parquet: { status: 500, summary: 'a parquet file is truncated or corrupt' },
  checksum_mismatch: { status: 500, summary: "a file of a Spark save does not match its Hadoop .crc side file or a parquet page's CRC" },
  bundle_invalid: { status: 500, summary: 'a bundle does not match its manifest' },
  feed_invalid: { status: 500, summary: 'a feed folder holds no usable update' },
  static_list_invalid: { status: 500, summary: 'a static item list file is malformed' },
  store_unavailable: { status: 503, summary: 'a Redis or Cassandra store cannot be reached or refused a write' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RecserveError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecserveError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].status;
  }
}

export function isRecserveError(err: unknown, code?: ErrorCode): err is RecserveError {
  return err instanceof RecserveError && (code === undefined || err.code === code);
}
