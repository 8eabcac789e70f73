import { readFile, rename, writeFile } from 'node:fs/promises'
import { claimedChunks, parseResumeRecord } from './resume-record.js'
import type { ChunkBits, ResumeRecord } from './resume-record.js'
import type { Manifest } from '@chiral/core'

/** Reads a `.part.json` record; undefined when absent, unreadable or not for this manifest. */
export async function readResumeRecord (path: string, manifest: Manifest): Promise<ChunkBits | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  return claimedChunks(parseResumeRecord(text), manifest)
}

/** Writes a record atomically (temporary file, then rename). */
export async function writeResumeRecord (path: string, record: ResumeRecord): Promise<void> {
  const tmp = `${path}.tmp`
  await writeFile(tmp, JSON.stringify(record))
  await rename(tmp, path)
}
