import type { ReconnectingDetail } from './provider-link.js'
import type { StallInit } from './stall-watch.js'
import type { SinkOutput } from '../sinks/sink.js'
import type { ContentId, Manifest, TransferMethod } from '@chiral/core'

/** Chunks requested and not yet verified, per channel (default 8: 8 MiB of 1 MiB chunks). */
export const DEFAULT_WINDOW = 8

export interface TransferProgress {
  /** Verified bytes of the file, resumed ones included. */
  bytes: number
  total: number
  /** Bytes per second received over the last 2 s. */
  rate: number
  /** Method of the channel that delivered the latest chunk. */
  method: TransferMethod
  /** `reconnecting`: every path is down and the fetch is re-dialing (see `reconnecting`). */
  state?: 'fetching' | 'reconnecting'
  reconnecting?: ReconnectingDetail
}

/** One channel's part in a transfer. */
export interface PathRecord {
  id: number
  label: string
  method: TransferMethod
  attachedAt: number
  detachedAt?: number
  /** Chunk bytes received on it (good and bad copies). */
  bytes: number
  chunks: number
  badChunks: number
  /** Copies that arrived after another channel had delivered the chunk. */
  duplicateChunks: number
  /** Bytes per second while busy (last measured). */
  goodput?: number
  rttMs?: number
  error?: string
}

export interface TransferResult extends SinkOutput {
  cid: ContentId
  /** The manifest's name as sent (the file on disk has the sanitised one, see `path`). */
  name: string
  /** File size. */
  bytes: number
  /** Chunk bytes received in this run (bad copies included). */
  transferredBytes: number
  /** Bytes already held when the fetch started (resume). */
  resumedBytes: number
  durationMs: number
  /** The method that carried the most bytes. */
  method: TransferMethod
  bytesByMethod: Record<string, number>
  /** Every channel used, in attach order. */
  paths: PathRecord[]
  /** Chunks that failed verification and were fetched again. */
  badChunks: number
  verified: true
}

export interface TransferInit extends StallInit {
  /** Largest file accepted, bytes: a bigger manifest fails the transfer with `FileTooLargeError` before the sink opens (default: no limit). */
  maxFileSize?: number
  /** Default per-channel window, in chunks. */
  window?: number
  /** Bad copies of one chunk before the transfer fails (default 3). */
  maxChunkAttempts?: number
  /** Bad chunks from one channel before it is dropped (default 3). */
  maxBadChunksPerChannel?: number
  onProgress?: (progress: TransferProgress) => void
  signal?: AbortSignal
}

export interface AttachOptions {
  /** Name in the path history (default: the channel's method). */
  label?: string
  /** Chunks in flight on this channel (default: the transfer's window). */
  window?: number
  /** Attach without sending requests until `setPaused(ch, false)`. */
  paused?: boolean
}

/** A channel attached to a transfer, as a path selector sees it. */
export interface AttachedChannel {
  readonly id: number
  readonly label: string
  readonly method: TransferMethod
  readonly state: 'opening' | 'ready' | 'closed'
  /** When it was attached (ms since the epoch). */
  readonly attachedAt: number
  /** Chunk bytes received (good and bad copies). */
  readonly bytes: number
  /** The largest message the channel carries. */
  readonly maxMessageSize: number
  /** When its first chunk byte arrived (ms since the epoch). */
  readonly firstByteAt?: number | undefined
  /** Bytes that arrived so far, counted inside messages where the channel can (progress for a watchdog). */
  readonly received: number
  readonly chunks: number
  readonly badChunks: number
  /** Chunks requested or being checked. */
  readonly inFlight: number
  /** Bytes per second while busy, recent window (undefined before the first chunk). */
  readonly goodput: number | undefined
  /** Smallest request-to-first-byte time seen, ms. */
  readonly rttMs: number | undefined
  /** Copies of chunks that another channel delivered first (end-game duplicates). */
  readonly duplicateChunks: number
  readonly window: number
  readonly paused: boolean
  /** Why it closed, once closed (unset for a clean close or a detach). */
  readonly error?: Error | undefined
}

export interface TransferEvents {
  manifest: CustomEvent<Manifest>
  progress: CustomEvent<TransferProgress>
  'chunk:verified': CustomEvent<{ index: number, channel: AttachedChannel }>
  'chunk:bad': CustomEvent<{ index: number, channel: AttachedChannel }>
  'channel:attach': CustomEvent<AttachedChannel>
  'channel:detach': CustomEvent<AttachedChannel>
}
