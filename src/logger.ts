import { pino, type DestinationStream, type Logger } from 'pino';

/** recserve's logger: JSON lines to stdout (or `destination`). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  // Nothing recserve logs carries headers or raw request bytes; the redaction keeps it so if a library's object ever does.
  const options = { level, base: { service: 'recserve' }, redact: { paths: ['*.headers.authorization', '*.rawPacket', '*.*.rawPacket'], censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
