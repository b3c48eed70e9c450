// Runs the native scan cases in this process and prints the failures as JSON: the tests start it with
// RECSERVE_NATIVE_ISA set, to check the instruction sets this machine would not pick by itself.
import { loadNative } from '../../src/native-addon.js';
import { float32Failures, int8Failures, int8ThreadFailures } from './native-cases.js';

const addon = loadNative();
if (!addon) throw new Error('the native addon is not built');
process.stdout.write(JSON.stringify([...(await float32Failures(addon)), ...(await int8Failures(addon)), ...(await int8ThreadFailures(addon))]));
