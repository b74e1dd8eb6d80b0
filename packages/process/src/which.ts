import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** Whether an executable of that name is on PATH. */
export async function commandExists(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      await access(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}
