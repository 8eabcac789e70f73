import type { ChannelWorker } from './channel-worker.js'
import type { PathRecord, TransferResult } from './transfer-types.js'
import type { SinkOutput } from '../sinks/sink.js'
import type { Manifest } from '@chiral/core'

/** Reason used when the transfer itself lets a channel go (not an error of the channel's). */
export class Detached extends Error {
  constructor () {
    super('Channel detached')
    this.name = 'Detached'
  }
}

/** What a finished transfer reports: per channel records, bytes by method, the method that carried most. */
export function transferResult (
  manifest: Manifest,
  output: SinkOutput,
  workers: readonly ChannelWorker[],
  counts: { transferredBytes: number, resumedBytes: number, badChunks: number, durationMs: number }
): TransferResult {
  const paths: PathRecord[] = workers.map((w) => ({
    id: w.id,
    label: w.label,
    method: w.method,
    attachedAt: w.attachedAt,
    ...(w.detachedAt === undefined ? {} : { detachedAt: w.detachedAt }),
    bytes: w.bytes,
    chunks: w.chunks,
    badChunks: w.badChunks,
    duplicateChunks: w.duplicateChunks,
    ...(w.goodput === undefined ? {} : { goodput: w.goodput }),
    ...(w.rttMs === undefined ? {} : { rttMs: w.rttMs }),
    ...(w.error == null || w.error instanceof Detached ? {} : { error: w.error.message })
  }))
  const bytesByMethod: Record<string, number> = {}
  for (const p of paths) bytesByMethod[p.method] = (bytesByMethod[p.method] ?? 0) + p.bytes
  const top = Object.entries(bytesByMethod).sort((a, b) => b[1] - a[1])[0]
  return {
    ...output,
    cid: manifest.cid,
    name: manifest.name,
    bytes: manifest.size,
    ...counts,
    method: top?.[0] ?? workers[0]?.method ?? 'none',
    bytesByMethod,
    paths,
    verified: true
  }
}
