import type { AbortOptions, Manifest } from '@chiral/core'

/** Where a sink put the finished file. */
export interface SinkOutput {
  /** Node: the final file's path. */
  path?: string
  /** Browser (or in-memory): the file's bytes. */
  blob?: Blob
}

/**
 * Where a transfer puts verified chunks. Chunks arrive in any order, each
 * exactly once, and only after they verified against the manifest.
 */
export interface TransferSink {
  /**
   * Prepares for the file; returns the indices of chunks it already holds
   * (verified again, e.g. from a `.part` file), which are not fetched again.
   */
  open(manifest: Manifest, options?: AbortOptions): Promise<Iterable<number>>
  /** Stores chunk `index` (already verified). */
  write(index: number, bytes: Uint8Array, options?: AbortOptions): Promise<void>
  /** Every chunk is stored: makes the file final (e.g. renames the `.part`). */
  complete(options?: AbortOptions): Promise<SinkOutput>
  /** The transfer failed or was cancelled: keeps what a later fetch can resume, releases the rest. */
  abort(reason: Error): Promise<void>
}
