import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** The path of an executable on the PATH, or null. */
export async function whichTool(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return null;
}
