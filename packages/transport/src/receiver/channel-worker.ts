import { MAX_MANIFEST_BYTES } from '@chiral/core'
import { ProviderMisbehavedError, TransferProtocolError } from '../errors.js'
import { decodeMessage, encodeOpen, encodeRequest } from '../protocol/messages.js'
import { GoodputMeter } from './goodput-meter.js'
import type { WireErrorCode } from '../protocol/constants.js'
import type { ContentId, MessageChannel, TransferMethod } from '@chiral/core'

/** What a channel worker reports to its transfer. */
export interface ChannelWorkerHandlers {
  /** The whole encoded manifest arrived (not yet checked). */
  onManifest(worker: ChannelWorker, bytes: Uint8Array): void
  /** The provider opened the session without sending the manifest. */
  onReady(worker: ChannelWorker): void
  /** All bytes of a requested chunk arrived (not yet verified). */
  onChunk(worker: ChannelWorker, index: number, bytes: Uint8Array): void
  /** The provider refused a request (`index`) or the session (`index` undefined). */
  onRemoteError(worker: ChannelWorker, index: number | undefined, code: WireErrorCode, message: string): void
  /** The channel ended; `err` unset when it closed cleanly. */
  onClose(worker: ChannelWorker, err?: Error): void
}

export type ChannelWorkerState = 'opening' | 'ready' | 'closed'

interface Assembly {
  bytes: Uint8Array
  received: number
}

/**
 * The receiver's side of /chiral/transfer/1.0.0 on one channel: sends
 * `Open` and `Request`s, reassembles manifest and chunk pieces, and tells its
 * transfer what arrived. Which chunks to request is the transfer's decision.
 *
 *   opening ──manifest/ready──► ready ──channel ends / close() / abort()──► closed
 *      └──────────────────── channel ends ──────────────────────────────────┘
 */
export class ChannelWorker {
  readonly id: number
  readonly label: string
  readonly channel: MessageChannel
  readonly attachedAt = Date.now()
  detachedAt?: number
  state: ChannelWorkerState = 'opening'
  /** Chunks requested whose bytes have not all arrived. */
  readonly requested = new Set<number>()
  /** Chunks whose bytes arrived and are being verified / written. */
  readonly processing = new Set<number>()
  /** Chunk bytes received (good or bad copies; the manifest not counted). */
  bytes = 0
  /** When the first chunk byte arrived (ms since the epoch). */
  firstByteAt?: number
  /** Chunks that verified. */
  chunks = 0
  /** Chunks that did not verify. */
  badChunks = 0
  /** Copies of chunks another channel had already delivered. */
  duplicateChunks = 0
  /** Most chunks requested and not yet verified at once. */
  window: number
  /** When true the transfer sends no new requests here (in-flight ones finish). */
  paused: boolean
  error?: Error
  /** Length of the manifest being received, once its first piece arrived (0 before). */
  manifestTotal = 0
  /** Manifest bytes received. */
  manifestBytes = 0
  /** Goodput and round-trip time of this channel, from its own chunks. */
  readonly meter = new GoodputMeter()
  private readonly handlers: ChannelWorkerHandlers
  private readonly chunkLength: (index: number) => number
  private readonly assemblies = new Map<number, Assembly>()
  private manifest?: Assembly
  private wantManifest = false

  constructor (id: number, channel: MessageChannel, init: { label: string, window: number, paused: boolean, chunkLength(index: number): number }, handlers: ChannelWorkerHandlers) {
    this.id = id
    this.channel = channel
    this.label = init.label
    this.window = init.window
    this.paused = init.paused
    this.chunkLength = init.chunkLength
    this.handlers = handlers
  }

  get method (): TransferMethod {
    return this.channel.method
  }

  /** Bytes per second while busy (recent window); undefined before the first chunk. */
  get goodput (): number | undefined {
    return this.meter.goodput
  }

  /** Smallest request-to-first-byte time seen, ms. */
  get rttMs (): number | undefined {
    return this.meter.rttMs
  }

  /** The largest message the channel carries (the provider splits chunks to it). */
  get maxMessageSize (): number {
    return this.channel.maxMessageSize
  }

  /** Bytes that arrived on the channel: its own count (inside messages) when it has one, else whole manifest and chunk pieces. */
  get received (): number {
    return this.channel.bytesReceived ?? this.bytes + this.manifestBytes
  }

  /** Chunks this channel owes: requested or being checked. */
  get inFlight (): number {
    return this.requested.size + this.processing.size
  }

  /** Sends `Open` and reads the channel until it ends. */
  start (cid: ContentId, wantManifest: boolean): void {
    this.wantManifest = wantManifest
    void this.run(cid, wantManifest)
  }

  /** Asks for chunks; the caller has marked them in flight. */
  async request (indices: number[]): Promise<void> {
    if (indices.length === 0) return
    const now = Date.now()
    for (const i of indices) {
      this.requested.add(i)
      this.meter.requested(i, now)
    }
    await this.channel.send(encodeRequest(indices))
  }

  /** Ends the session gracefully. */
  async close (): Promise<void> {
    if (this.state === 'closed') return
    await this.channel.close({ signal: AbortSignal.timeout(5000) }).catch((err: Error) => { this.channel.abort(err) })
  }

  abort (err: Error): void {
    if (this.state === 'closed') return
    this.channel.abort(err)
    this.finish(err)
  }

  private async run (cid: ContentId, wantManifest: boolean): Promise<void> {
    try {
      await this.channel.send(encodeOpen(cid, wantManifest))
      for await (const raw of this.channel) {
        if (this.state === 'closed') return
        this.onMessage(raw)
      }
      this.finish()
    } catch (err) {
      if (this.state !== 'closed') this.channel.abort(err as Error)
      this.finish(err as Error)
    }
  }

  private onMessage (raw: Uint8Array): void {
    const message = decodeMessage(raw)
    switch (message.type) {
      case 'chunk': {
        this.firstByteAt ??= Date.now()
        this.bytes += message.bytes.byteLength
        if (!this.requested.has(message.index)) {
          throw new ProviderMisbehavedError(`Provider sent chunk ${message.index}, which was not requested`)
        }
        if (message.offset === 0) this.meter.firstPiece(message.index)
        const expected = this.chunkLength(message.index)
        const end = message.offset + message.bytes.byteLength
        if (end > expected) throw new ProviderMisbehavedError(`Chunk ${message.index} piece ends at ${end}, past its length ${expected}`)
        let assembly = this.assemblies.get(message.index)
        if (assembly == null && message.offset === 0 && message.bytes.byteLength === expected) {
          this.deliver(message.index, message.bytes)
          return
        }
        if (assembly == null) {
          assembly = { bytes: new Uint8Array(expected), received: 0 }
          this.assemblies.set(message.index, assembly)
        }
        assembly.bytes.set(message.bytes, message.offset)
        assembly.received += message.bytes.byteLength
        if (assembly.received >= expected) {
          this.assemblies.delete(message.index)
          this.deliver(message.index, assembly.bytes)
        }
        return
      }
      case 'manifest': {
        if (!this.wantManifest) throw new ProviderMisbehavedError('Provider sent a manifest that was not requested')
        if (message.total > MAX_MANIFEST_BYTES) throw new ProviderMisbehavedError(`Manifest of ${message.total} bytes is over the limit`)
        this.manifest ??= { bytes: new Uint8Array(message.total), received: 0 }
        if (message.total !== this.manifest.bytes.byteLength || message.offset + message.bytes.byteLength > message.total) {
          throw new ProviderMisbehavedError('Manifest pieces do not add up')
        }
        this.manifest.bytes.set(message.bytes, message.offset)
        this.manifest.received += message.bytes.byteLength
        this.manifestTotal = message.total
        this.manifestBytes += message.bytes.byteLength
        if (this.manifest.received >= message.total) {
          const bytes = this.manifest.bytes
          this.manifest = undefined
          this.wantManifest = false
          this.state = 'ready'
          this.handlers.onManifest(this, bytes)
        }
        return
      }
      case 'ready':
        if (this.state !== 'opening') throw new ProviderMisbehavedError('Unexpected Ready message')
        this.state = 'ready'
        this.handlers.onReady(this)
        return
      case 'error':
        if (message.index !== undefined) {
          this.requested.delete(message.index)
          this.assemblies.delete(message.index)
        }
        this.handlers.onRemoteError(this, message.index, message.code, message.message)
        return
      default:
        throw new TransferProtocolError(`Provider sent a ${message.type} message`)
    }
  }

  private deliver (index: number, bytes: Uint8Array): void {
    this.requested.delete(index)
    this.processing.add(index)
    this.meter.delivered(index, bytes.byteLength)
    this.handlers.onChunk(this, index, bytes)
  }

  private finish (err?: Error): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.detachedAt = Date.now()
    this.error = err
    this.assemblies.clear()
    this.handlers.onClose(this, err)
  }
}
