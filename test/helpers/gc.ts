import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Full collections until what was garbage is gone, its native memory too (finalisers that free it may run a
 * turn of the event loop later): memory measured after it counts what is held, not when V8 last collected.
 */
export async function collectGarbage(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One full collection, now. */
export const fullGc = gc;
