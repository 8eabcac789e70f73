import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temporary directory; remove it with `rm(dir, { recursive: true })`. */
export async function tempDir (prefix = 'chiral-transport-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function removeDir (dir: string | undefined): Promise<void> {
  if (dir != null) await rm(dir, { recursive: true, force: true })
}

/** Writes `size` random bytes to `path`, 1 MiB at a time. */
export async function randomFile (path: string, size: number): Promise<string> {
  const fh = await open(path, 'w')
  try {
    for (let written = 0; written < size;) {
      const piece = randomBytes(Math.min(1024 * 1024, size - written))
      await fh.write(piece, 0, piece.byteLength, written)
      written += piece.byteLength
    }
  } finally {
    await fh.close()
  }
  return path
}

/** SHA-256 of a file, hex. */
export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer)
  return hash.digest('hex')
}

export function sha256Bytes (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
