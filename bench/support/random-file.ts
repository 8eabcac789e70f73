import { randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'

const MiB = 1024 * 1024

/** Writes `size` random bytes to `path` and syncs them to disk (so writeback does not compete with a run). */
export async function randomFile (path: string, size: number): Promise<string> {
  const fh = await open(path, 'w')
  for (let at = 0; at < size; at += MiB) await fh.write(randomBytes(Math.min(MiB, size - at)), 0, Math.min(MiB, size - at), at)
  await fh.sync()
  await fh.close()
  return path
}
