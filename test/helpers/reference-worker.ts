import { parentPort, workerData } from 'node:worker_threads';
import { checkBatch, type ReferenceItems, type ServedBatch } from './reference-topn.js';

const { items, batch } = workerData as { items: ReferenceItems; batch: ServedBatch };
parentPort!.postMessage(checkBatch(items, batch));
