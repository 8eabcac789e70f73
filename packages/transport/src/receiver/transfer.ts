import { AbortError, chunkLength, decodeManifest, isChiralError, verifyChunk } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import {
  ContentNotFoundError, ContentUnavailableError, PeerGoneError, ProviderMisbehavedError, ProviderStalledError, TransferProtocolError
} from '../errors.js'
import { ChannelWorker } from './channel-worker.js'
import { ChunkScheduler } from './chunk-scheduler.js'
import { endGame } from './end-game.js'
import { Detached, transferResult } from './transfer-result.js'
import { RateMeter } from './rate-meter.js'
import { checkFileSize } from './size-limit.js'
import { StallWatch } from './stall-watch.js'
import { DEFAULT_WINDOW } from './transfer-types.js'
import type {
  AttachedChannel, AttachOptions, PathRecord, TransferEvents, TransferInit, TransferProgress, TransferResult
} from './transfer-types.js'
import type { ChannelWorkerHandlers } from './channel-worker.js'
import type { WireErrorCode } from '../protocol/constants.js'
import type { TransferSink } from '../sinks/sink.js'
import type { ContentId, Manifest, MessageChannel } from '@chiral/core'

export { DEFAULT_WINDOW }
export type { AttachedChannel, AttachOptions, PathRecord, TransferEvents, TransferInit, TransferProgress, TransferResult }

type Phase =
  | { name: 'opening' }
  | { name: 'running', manifest: Manifest, scheduler: ChunkScheduler }
  | { name: 'done' }
  | { name: 'failed', error: Error }

const log = logger('chiral:transport:transfer')

/** Errors that say more than "the peer went away" win when the last channel closes. */
const ERROR_RANK: Record<string, number> = {
  [ProviderMisbehavedError.code]: 4,
  [TransferProtocolError.code]: 3,
  [ContentNotFoundError.code]: 2,
  [ContentUnavailableError.code]: 2,
  [ProviderStalledError.code]: 1,
  [PeerGoneError.code]: 1
}

/**
 * One fetch of one content id over any number of channels.
 *
 *   opening ──manifest verified, sink open──► running ──all chunks verified──► done
 *      │                                        │
 *      └────── last channel gone after seal() / cancel / bad data ─────────────► failed
 *
 * Channels come and go while it runs (`attach` / `detach`): the chunk
 * scheduler owns which chunks are missing, and each channel keeps up to its
 * window of chunks in flight. A channel that closes returns its requested
 * chunks to "missing"; another channel fetches them. A path selector steers
 * new requests with `setPaused()` / `setWindow()` and reads per-channel byte
 * counters from `channels`. Chunks are verified before the sink sees them.
 */
export class Transfer extends TypedEventEmitter<TransferEvents> {
  readonly cid: ContentId
  readonly result: Promise<TransferResult>
  private phase: Phase = { name: 'opening' }
  private readonly sink: TransferSink
  private readonly init: TransferInit
  private readonly workers: ChannelWorker[] = []
  private readonly meter = new RateMeter()
  private readonly startedAt = Date.now()
  /** Chunks being verified and written: a failing transfer lets them finish so the resume record keeps them. */
  private readonly processing = new Set<Promise<void>>()
  /** Chunks requested a second time, on a faster channel, at the end of the transfer. */
  private readonly duplicated = new Set<number>()
  private nextId = 1
  private knownManifest?: Manifest
  private sealed = false
  private sinkOpen = false
  private resumedBytes = 0
  private verifiedBytes = 0
  private transferredBytes = 0
  private badChunks = 0
  private lastError?: Error
  private openingManifest = false
  private resolve!: (r: TransferResult) => void
  private reject!: (err: Error) => void
  private readonly handlers: ChannelWorkerHandlers

  constructor (cid: ContentId, sink: TransferSink, init: TransferInit = {}) {
    super()
    this.cid = cid
    this.sink = sink
    this.init = init
    this.result = new Promise((resolve, reject) => { this.resolve = resolve; this.reject = reject })
    this.result.catch(() => {})
    this.handlers = {
      onManifest: (w, bytes) => { this.track(this.onManifest(w, bytes)) },
      onReady: (w) => { this.pump(w) },
      onChunk: (w, index, bytes) => {
        const processing = this.onChunk(w, index, bytes)
        this.processing.add(processing)
        this.track(processing.finally(() => { this.processing.delete(processing) }))
      },
      onRemoteError: (w, index, code, message) => { this.onRemoteError(w, index, code, message) },
      onClose: (w, err) => { this.onClose(w, err) }
    }
    const stalls = new StallWatch(init)
    const watchdog = setInterval(() => { this.checkProviders(stalls) }, stalls.interval)
    watchdog.unref?.()
    void this.result.finally(() => { clearInterval(watchdog) }).catch(() => {})
    const signal = init.signal
    if (signal != null) {
      const onAbort = (): void => { this.fail(new AbortError('Fetch cancelled', { cause: signal.reason })) }
      if (signal.aborted) queueMicrotask(onAbort)
      else signal.addEventListener('abort', onAbort, { once: true })
      void this.result.finally(() => { signal.removeEventListener('abort', onAbort) }).catch(() => {})
    }
  }

  /** The verified manifest, once known. */
  get manifest (): Manifest | undefined {
    return this.phase.name === 'running' ? this.phase.manifest : undefined
  }

  /** Bytes of the file verified so far (resumed ones included). */
  get bytesVerified (): number {
    return this.verifiedBytes
  }

  /** The window a channel gets unless told otherwise. */
  get defaultWindow (): number {
    return Math.max(1, this.init.window ?? DEFAULT_WINDOW)
  }

  get finished (): boolean {
    return this.phase.name === 'done' || this.phase.name === 'failed'
  }

  /** Channels attached and not yet closed. */
  get channels (): AttachedChannel[] {
    return this.workers.filter((w) => w.state !== 'closed')
  }

  /** Runs the protocol on `channel` for this transfer (the transfer owns it from now on). */
  attach (channel: MessageChannel, options: AttachOptions = {}): AttachedChannel {
    if (this.finished) {
      void channel.close().catch(() => {})
      throw new PeerGoneError('The transfer has already ended')
    }
    const worker = new ChannelWorker(this.nextId++, channel, {
      label: options.label ?? channel.method,
      window: Math.max(1, options.window ?? this.init.window ?? DEFAULT_WINDOW),
      paused: options.paused ?? false,
      // The manifest stays known after the end: a late piece of a duplicate is not a provider's fault.
      chunkLength: (index) => this.knownManifest == null ? 0 : chunkLength(this.knownManifest, index)
    }, this.handlers)
    this.workers.push(worker)
    log('attach channel %d (%s)', worker.id, worker.label)
    this.safeDispatchEvent('channel:attach', { detail: worker })
    worker.start(this.cid, this.manifest == null)
    return worker
  }

  /** Stops using a channel and closes it; its requested chunks go back to "missing". */
  detach (channel: AttachedChannel): void {
    const worker = this.workers.find((w) => w.id === channel.id)
    if (worker == null || worker.state === 'closed') return
    worker.abort(new Detached())
  }

  /** Stops (or resumes) new requests on a channel; chunks in flight there still arrive. */
  setPaused (channel: AttachedChannel, paused: boolean): void {
    const worker = this.workers.find((w) => w.id === channel.id)
    if (worker == null) return
    worker.paused = paused
    this.pump(worker)
  }

  setWindow (channel: AttachedChannel, window: number): void {
    const worker = this.workers.find((w) => w.id === channel.id)
    if (worker == null) return
    worker.window = Math.max(1, Math.floor(window))
    this.pump(worker)
  }

  /** No more channels will be attached: the transfer fails when its last channel goes. */
  seal (): void {
    this.sealed = true
    this.checkStalled()
  }

  /** Ends the transfer with `reason` (the `.part` and resume record stay). */
  cancel (reason: Error = new AbortError('Fetch cancelled')): void {
    this.fail(reason)
  }

  private track (p: Promise<void>): void {
    p.catch((err: Error) => { this.fail(err) })
  }

  private async onManifest (worker: ChannelWorker, bytes: Uint8Array): Promise<void> {
    if (this.phase.name !== 'opening' || this.openingManifest) {
      this.pump(worker)
      return
    }
    let manifest: Manifest
    try {
      manifest = await decodeManifest(bytes, this.cid)
    } catch (err) {
      worker.abort(new ProviderMisbehavedError(`Provider sent a bad manifest: ${(err as Error).message}`, { cause: err }))
      return
    }
    if (this.phase.name !== 'opening' || this.openingManifest) return
    this.openingManifest = true
    if (this.init.maxFileSize !== undefined) {
      try {
        checkFileSize(manifest, this.init.maxFileSize)
      } catch (err) {
        // The content itself is refused: every provider of this content id sends the same manifest.
        this.fail(err as Error)
        return
      }
    }
    const held = await this.sink.open(manifest, this.init.signal == null ? {} : { signal: this.init.signal })
    const now = this.phase as Phase
    if (now.name !== 'opening') {
      // Failed or cancelled while the sink was opening: fail() could not release it.
      await this.sink.abort(now.name === 'failed' ? now.error : new AbortError())
      return
    }
    this.sinkOpen = true
    const scheduler = new ChunkScheduler(manifest.chunks.length)
    for (const index of held) {
      scheduler.markVerified(index)
    }
    this.resumedBytes = 0
    for (const index of scheduler.verifiedIndices()) this.resumedBytes += chunkLength(manifest, index)
    this.verifiedBytes = this.resumedBytes
    this.phase = { name: 'running', manifest, scheduler }
    this.knownManifest = manifest
    log('manifest of %s: %d bytes, %d chunks, %d resumed', manifest.cid, manifest.size, manifest.chunks.length, scheduler.verifiedCount)
    this.safeDispatchEvent('manifest', { detail: manifest })
    if (scheduler.done) {
      await this.complete()
      return
    }
    for (const w of this.workers) this.pump(w)
  }

  private pump (worker: ChannelWorker): void {
    if (this.phase.name !== 'running' || worker.state !== 'ready' || worker.paused) return
    const { scheduler, manifest } = this.phase
    const indices: number[] = []
    while (worker.inFlight + indices.length < worker.window) {
      const index = scheduler.take()
      if (index === undefined) break
      indices.push(index)
    }
    if (indices.length === 0 && scheduler.missingCount === 0) {
      indices.push(...endGame(worker, this.workers, manifest.chunkSize, this.duplicated))
      for (const index of indices) this.duplicated.add(index)
    }
    if (indices.length === 0) return
    worker.request(indices).catch((err: Error) => { worker.abort(err) })
  }

  private async onChunk (worker: ChannelWorker, index: number, bytes: Uint8Array): Promise<void> {
    if (this.phase.name !== 'running') return
    const { manifest, scheduler } = this.phase
    this.transferredBytes += bytes.byteLength
    this.meter.add(bytes.byteLength)
    const ok = await verifyChunk(manifest, index, bytes)
    if ((this.phase as Phase).name === 'failed') {
      // Keep a good chunk that had fully arrived: a later fetch resumes with it.
      if (ok && scheduler.state(index) !== 'verified') {
      await this.sink.write(index, bytes)
        scheduler.complete(index)
      }
      return
    }
    if (this.phase.name !== 'running') return
    if (!ok) {
      worker.processing.delete(index)
      worker.badChunks++
      this.badChunks++
      const attempts = scheduler.reject(index)
      log('chunk %d from channel %d did not verify (copy %d)', index, worker.id, attempts)
      this.safeDispatchEvent('chunk:bad', { detail: { index, channel: worker } })
      if (attempts >= (this.init.maxChunkAttempts ?? 3)) {
        this.fail(new ProviderMisbehavedError(`Chunk ${index} failed verification ${attempts} times`))
        return
      }
      if (worker.badChunks >= (this.init.maxBadChunksPerChannel ?? 3)) {
        worker.abort(new ProviderMisbehavedError(`Provider on channel ${worker.label} sent ${worker.badChunks} chunks that did not verify`))
      }
      this.pumpAll()
      return
    }
    if (scheduler.state(index) === 'verified') {
      // The other copy of an end-game duplicate: already written.
      worker.processing.delete(index)
      worker.duplicateChunks++
      this.pumpAll()
      return
    }
    await this.sink.write(index, bytes)
    scheduler.complete(index)
    this.verifiedBytes += bytes.byteLength
    if (this.phase.name !== 'running') return
    worker.processing.delete(index)
    worker.chunks++
    this.safeDispatchEvent('chunk:verified', { detail: { index, channel: worker } })
    const progress: TransferProgress = { bytes: this.verifiedBytes, total: manifest.size, rate: this.meter.rate(), method: worker.method, state: 'fetching' }
    this.init.onProgress?.(progress)
    this.safeDispatchEvent('progress', { detail: progress })
    if (scheduler.done) {
      await this.complete()
      return
    }
    // Once nothing is missing, any channel with room may take over a slow channel's last chunks.
    if (scheduler.missingCount === 0) this.pumpAll()
    else this.pump(worker)
    this.checkStalled()
  }

  private onRemoteError (worker: ChannelWorker, index: number | undefined, code: WireErrorCode, message: string): void {
    if (index !== undefined && this.phase.name === 'running' && index < this.phase.scheduler.count) {
      this.phase.scheduler.release(index)
    }
    const err = code === 'content-not-found'
      ? new ContentNotFoundError(`Provider on ${worker.label} does not have ${this.cid.toString()}: ${message}`)
      : code === 'content-unavailable'
        ? new ContentUnavailableError(`Provider on ${worker.label} cannot read ${this.cid.toString()}: ${message}`)
        : new TransferProtocolError(`Provider on ${worker.label} answered ${code}: ${message}`)
    worker.abort(err)
  }

  private onClose (worker: ChannelWorker, err?: Error): void {
    log('channel %d (%s) closed%s', worker.id, worker.label, err == null ? '' : ` - ${err.message}`)
    if (this.phase.name === 'running') {
      // A chunk another live channel also carries (end-game duplicate) stays in flight there.
      const elsewhere = (index: number): boolean => this.workers.some((w) => w !== worker && w.state !== 'closed' && w.requested.has(index))
      for (const index of worker.requested) if (!elsewhere(index)) this.phase.scheduler.release(index)
    }
    worker.requested.clear()
    if (!(err instanceof Detached) && !this.finished) {
      this.noteError(err ?? new PeerGoneError(`Provider closed channel ${worker.label} before the transfer finished`))
    }
    this.safeDispatchEvent('channel:detach', { detail: worker })
    if (this.finished) return
    this.pumpAll()
    this.checkStalled()
  }

  private noteError (err: Error): void {
    const classified = isChiralError(err) && ERROR_RANK[err.code] != null
      ? err
      : new PeerGoneError(`Channel closed: ${err.message}`, { cause: err })
    const rank = (e?: Error): number => e == null ? 0 : ERROR_RANK[(e as unknown as { code: string }).code] ?? 0
    if (rank(classified) >= rank(this.lastError)) this.lastError = classified
  }

  /** Drops channels whose provider stopped delivering what it owes (see `StallWatch`); their chunks go back to "missing". */
  private checkProviders (stalls: StallWatch): void {
    if (this.finished) return
    const chunkBytes = this.knownManifest?.chunkSize ?? 0
    for (const worker of this.workers) {
      const err = stalls.check(worker, chunkBytes)
      if (err === undefined) continue
      log('dropping channel %d - %s', worker.id, err.message)
      worker.abort(err)
    }
  }

  private pumpAll (): void {
    for (const w of this.workers) this.pump(w)
  }

  private checkStalled (): void {
    if (this.finished || !this.sealed) return
    if (this.workers.some((w) => w.state !== 'closed')) return
    if (this.phase.name === 'running' && this.phase.scheduler.done) return
    this.fail(this.lastError ?? new PeerGoneError('No channel to a provider is left'))
  }

  private async complete (): Promise<void> {
    if (this.phase.name !== 'running') return
    const { manifest } = this.phase
    this.phase = { name: 'done' }
    try {
      // Every chunk is verified, so every sink write has finished.
      const output = await this.sink.complete()
      await Promise.all(this.workers.map(async (w) => w.close()))
      this.resolve(transferResult(manifest, output, this.workers, {
        transferredBytes: this.transferredBytes,
        resumedBytes: this.resumedBytes,
        badChunks: this.badChunks,
        durationMs: Date.now() - this.startedAt
      }))
    } catch (err) {
      this.phase = { name: 'failed', error: err as Error }
      this.reject(err as Error)
    }
  }

  private fail (error: Error): void {
    if (this.finished) return
    this.phase = { name: 'failed', error }
    log('transfer of %s failed - %s', this.cid, error.message)
    for (const w of this.workers) w.abort(error)
    void (async () => {
      await Promise.allSettled([...this.processing])
      if (this.sinkOpen) await this.sink.abort(error).catch(() => {})
      this.reject(error)
    })()
  }
}
