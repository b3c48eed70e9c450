import murmurhash from 'murmurhash';
import sonicBoom from 'sonic-boom';

export interface Exposure {
  experiment: string;
  variant: string;
  bucket: number;
  userId: string;
  source: string;
  modelVersion: string | null;
}

export interface ExposureLog {
  write(exposure: Exposure): void;
  close(): Promise<void>;
}

/**
 * One JSON line per served assignment, through an asynchronous buffered writer (sonic-boom, pino's
 * own), so a request pays for a string append, not for I/O. Sampling keeps or drops whole users
 * (by a hash of experiment and user id), so an analyst sees every exposure of a sampled user.
 */
export function openExposureLog(destination: string, sampleRate: number): ExposureLog {
  const stream = new sonicBoom.SonicBoom({ dest: destination === 'stdout' ? 1 : destination, append: true, mkdir: true, sync: false, minLength: 8 * 1024 });
  const threshold = sampleRate * 2 ** 32;
  return {
    write(e) {
      if (sampleRate < 1 && murmurhash.v3(`${e.experiment}:${e.userId}`, 0x5eed) >= threshold) return;
      stream.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
    },
    close: () =>
      new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
      }),
  };
}
