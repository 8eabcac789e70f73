import { AbortError, InvalidArgumentError } from '@chiral/core'
import { ChannelClosedError } from '../errors.js'
import type { AbortOptions, MessageChannel, TransferMethod } from '@chiral/core'

/** The largest message a Chiral DataChannel uses, whatever both ends allow. */
export const MAX_DATA_CHANNEL_MESSAGE_SIZE = 256 * 1024
/** What a DataChannel may carry when the peer connection does not say (the SDP default). */
export const DEFAULT_DATA_CHANNEL_MESSAGE_SIZE = 64 * 1024
/** `send()` waits while more than this many bytes are queued in the channel. */
export const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024
/** A waiting `send()` resumes once the queue has drained to this. */
export const DEFAULT_LOW_WATER_MARK = 1024 * 1024

/** How often a waiting send re-reads `bufferedAmount`, in case an implementation skips 'bufferedamountlow'. */
const DRAIN_POLL_MS = 250

export interface DataChannelMessageChannelInit {
  /** The channel's peer connection: its negotiated SCTP max message size sets `maxMessageSize`. */
  peerConnection?: RTCPeerConnection
  /** Overrides the negotiated max message size (still capped at {@link MAX_DATA_CHANNEL_MESSAGE_SIZE}). */
  maxMessageSize?: number
  /** Bytes queued in the channel above which `send()` waits. Default {@link DEFAULT_HIGH_WATER_MARK}. */
  highWaterMark?: number
  /** Queue level at which waiting sends resume. Default {@link DEFAULT_LOW_WATER_MARK} (at most `highWaterMark`). */
  lowWaterMark?: number
  /** Reported by the channel; default `webrtc-direct`. */
  method?: TransferMethod
  /** Called once when the channel is done, however it ended; the owner releases the transport (peer connection) here. */
  onClose?: (info: ChannelEnd) => void
}

/** How a channel ended: `error` when aborted. */
export interface ChannelEnd {
  error?: Error
}

/**
 * The max message size both ends of a peer connection accept
 * (`pc.sctp.maxMessageSize`, which is the smaller of the two SDPs'
 * `a=max-message-size`), capped at {@link MAX_DATA_CHANNEL_MESSAGE_SIZE}.
 * node-datachannel and Chromium both offer 262144; node-datachannel
 * reports null before the SCTP transport is connected.
 */
export function negotiatedMaxMessageSize (pc: RTCPeerConnection | undefined): number {
  const size = pc?.sctp?.maxMessageSize
  if (size == null || !(size > 0)) return DEFAULT_DATA_CHANNEL_MESSAGE_SIZE
  return Math.min(size, MAX_DATA_CHANNEL_MESSAGE_SIZE)
}

/** In-band control messages (text; data messages are always binary). */
const FIN = 'chiral:fin'
const ACK = 'chiral:fin-ack'

/**
 * Channel lifecycle. node-datachannel drops messages still queued for
 * JavaScript when a DataChannel closes, so the end of a stream cannot be the
 * DataChannel's own close. Instead each side sends `fin` after its last
 * message and answers the other's `fin` with `ack`, both in-band (ordered
 * after the data). The DataChannel is torn down only when nothing can be lost:
 *
 * ```
 *            close(): drain, send fin          got their fin: reads end, send ack
 *   open ─────────────────────────────► open{sentFin} ─┐
 *    │  ─────────────────────────────► open{gotFin}  ──┤
 *    │                                                  ▼
 *    │            sentFin & gotFin & our fin acked ──► closed   (DataChannel and peer connection closed)
 *    │   DataChannel/peer connection closes:
 *    ├── after sentFin & gotFin, or gotFin only ──────► closed   (nothing was lost)
 *    └── before their fin / abort(err) / 'error' ─────► aborted(err)   (reads may be truncated: they fail)
 * ```
 * `finish` is the one transition into a final state.
 */
type ChannelState =
  | { status: 'open', sentFin: boolean, gotFin: boolean, finAcked: boolean }
  | { status: 'closed' }
  | { status: 'aborted', error: Error }

interface Waiter {
  resolve(): void
  reject(err: Error): void
}

/**
 * An RTCDataChannel (ordered, reliable) as core's `MessageChannel`: binary
 * messages as Uint8Array, `send()` backpressure through `bufferedAmount` and
 * 'bufferedamountlow', graceful half-close (`close()` ends our sending; reads
 * go on until the remote closes too) and `abort()`.
 */
export class DataChannelMessageChannel implements MessageChannel {
  readonly method: TransferMethod
  readonly maxMessageSize: number
  private state: ChannelState = { status: 'open', sentFin: false, gotFin: false, finAcked: false }
  private readonly highWaterMark: number
  private readonly lowWaterMark: number
  private readonly inbox: Uint8Array[] = []
  private reader?: { resolve(r: IteratorResult<Uint8Array>): void, reject(err: Error): void }
  private readonly drainWaiters = new Set<Waiter>()
  private readonly ackWaiters = new Set<Waiter>()
  private closing?: Promise<void>
  private readonly onClose?: (info: ChannelEnd) => void

  constructor (private readonly channel: RTCDataChannel, init: DataChannelMessageChannelInit = {}) {
    if (channel.ordered === false || channel.maxRetransmits != null || channel.maxPacketLifeTime != null) {
      throw new InvalidArgumentError('A MessageChannel needs an ordered, reliable DataChannel')
    }
    this.method = init.method ?? 'webrtc-direct'
    const negotiated = negotiatedMaxMessageSize(init.peerConnection)
    this.maxMessageSize = Math.min(init.maxMessageSize ?? negotiated, MAX_DATA_CHANNEL_MESSAGE_SIZE)
    this.highWaterMark = init.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    this.lowWaterMark = Math.min(init.lowWaterMark ?? DEFAULT_LOW_WATER_MARK, this.highWaterMark)
    channel.bufferedAmountLowThreshold = this.lowWaterMark
    channel.binaryType = 'arraybuffer'
    this.onClose = init.onClose

    channel.addEventListener('message', this.handleMessage)
    channel.addEventListener('bufferedamountlow', this.handleDrain)
    channel.addEventListener('close', this.handleClose)
    channel.addEventListener('error', this.handleError)
    if (channel.readyState === 'closing' || channel.readyState === 'closed') this.transportEnded()
  }

  /** The DataChannel's label, as the opener set it. */
  get label (): string {
    return this.channel.label
  }

  /** The DataChannel's sub-protocol: the transfer protocol it carries. */
  get protocol (): string {
    return this.channel.protocol
  }

  /** Bytes queued in the DataChannel, not yet sent. */
  get bufferedAmount (): number {
    return this.channel.bufferedAmount
  }

  /** `open` (possibly half-closed) until closed or aborted. */
  get status (): ChannelState['status'] {
    return this.state.status
  }

  async send (message: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (this.state.status === 'aborted') throw this.state.error
    if (this.state.status !== 'open' || this.state.sentFin) throw new ChannelClosedError()
    if (message.byteLength > this.maxMessageSize) {
      throw new InvalidArgumentError(`Message of ${message.byteLength} bytes exceeds the channel's maximum of ${this.maxMessageSize}`)
    }
    if (options.signal?.aborted === true) throw new AbortError(undefined, { cause: options.signal.reason })
    try {
      // Copies the view's bytes into the channel's queue.
      this.channel.send(message as Uint8Array<ArrayBuffer>)
    } catch (err) {
      const state = this.state as ChannelState
      throw state.status === 'aborted' ? state.error : new ChannelClosedError(undefined, { cause: err })
    }
    while (this.channel.bufferedAmount > this.highWaterMark) {
      await this.wait(this.drainWaiters, options.signal)
    }
  }

  /**
   * Ends our sending once everything queued is out, and resolves when the
   * remote has received it all (its `ack`). Reads go on until the remote
   * closes too.
   */
  async close (options: AbortOptions = {}): Promise<void> {
    if (this.state.status !== 'open') return
    this.closing ??= this.sendFin()
    const acked = this.closing.then(async () => {
      if (this.state.status === 'open' && !this.state.finAcked) await this.wait(this.ackWaiters, options.signal)
    })
    try {
      await acked
    } catch (err) {
      if (this.state.status === 'open') this.abort(err instanceof Error ? err : new AbortError())
      throw err
    }
  }

  /** Closes at once: pending sends and reads fail with `err`; the remote's reads fail too. */
  abort (err: Error): void {
    if (this.state.status !== 'open') return
    this.finish({ status: 'aborted', error: err })
  }

  /**
   * The transport below ended (the peer connection closed): the same as the
   * DataChannel closing.
   */
  transportEnded (): void {
    this.handleClose()
  }

  [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    return {
      next: async () => this.read(),
      // Leaving a `for await` early only stops reading: the channel stays open for sends.
      return: async () => ({ done: true, value: undefined })
    }
  }

  private async sendFin (): Promise<void> {
    if (this.state.status !== 'open' || this.state.sentFin) return
    this.state.sentFin = true
    // Sends waiting for room fail: the stream is ending.
    this.failWaiters(this.drainWaiters, new ChannelClosedError())
    this.sendControl(FIN)
    this.maybeFinished()
  }

  private sendControl (text: string): void {
    try {
      this.channel.send(text)
    } catch (err) {
      this.abort(new ChannelClosedError(undefined, { cause: err }))
    }
  }

  private async read (): Promise<IteratorResult<Uint8Array>> {
    const message = this.inbox.shift()
    if (message != null) return { done: false, value: message }
    if (this.state.status === 'aborted') throw this.state.error
    if (this.state.status === 'closed' || this.state.gotFin) return { done: true, value: undefined }
    if (this.reader != null) throw new InvalidArgumentError('A MessageChannel has one reader at a time')
    return new Promise((resolve, reject) => { this.reader = { resolve, reject } })
  }

  private readonly handleMessage = (event: MessageEvent): void => {
    if (this.state.status !== 'open') return
    const data: unknown = event.data
    if (typeof data === 'string') {
      this.handleControl(data)
      return
    }
    if (this.state.gotFin) return
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(0)
    const reader = this.reader
    if (reader != null) {
      this.reader = undefined
      reader.resolve({ done: false, value: bytes })
    } else {
      this.inbox.push(bytes)
    }
  }

  private handleControl (text: string): void {
    if (this.state.status !== 'open') return
    if (text === FIN && !this.state.gotFin) {
      this.state.gotFin = true
      this.sendControl(ACK)
      const reader = this.reader
      this.reader = undefined
      reader?.resolve({ done: true, value: undefined })
    } else if (text === ACK && this.state.sentFin) {
      this.state.finAcked = true
      for (const waiter of [...this.ackWaiters]) waiter.resolve()
    }
    this.maybeFinished()
  }

  /** Both directions ended and our end was acknowledged: nothing is in flight any more. */
  private maybeFinished (): void {
    if (this.state.status === 'open' && this.state.sentFin && this.state.gotFin && this.state.finAcked) {
      this.finish({ status: 'closed' })
    }
  }

  private readonly handleDrain = (): void => {
    for (const waiter of [...this.drainWaiters]) waiter.resolve()
  }

  private readonly handleClose = (): void => {
    if (this.state.status !== 'open') return
    // Clean only if the remote had finished sending: then nothing was lost.
    if (this.state.gotFin) this.finish({ status: 'closed' })
    else this.finish({ status: 'aborted', error: new ChannelClosedError('The data channel closed before the remote finished sending') })
  }

  private readonly handleError = (event: Event): void => {
    const cause = (event as Event & { error?: unknown }).error
    this.abort(new ChannelClosedError('The data channel failed', { cause }))
  }

  private finish (next: { status: 'closed' } | { status: 'aborted', error: Error }): void {
    if (this.state.status !== 'open') return
    this.state = next
    this.channel.removeEventListener('message', this.handleMessage)
    this.channel.removeEventListener('bufferedamountlow', this.handleDrain)
    this.channel.removeEventListener('close', this.handleClose)
    this.channel.removeEventListener('error', this.handleError)
    try {
      this.channel.close()
    } catch {
      // already closed
    }
    const error = next.status === 'aborted' ? next.error : undefined
    if (error != null) this.inbox.length = 0
    this.failWaiters(this.drainWaiters, error ?? new ChannelClosedError())
    if (error != null) this.failWaiters(this.ackWaiters, error)
    else for (const waiter of [...this.ackWaiters]) waiter.resolve()
    this.ackWaiters.clear()
    const reader = this.reader
    this.reader = undefined
    if (reader != null) {
      if (error != null) reader.reject(error)
      else reader.resolve({ done: true, value: undefined })
    }
    this.onClose?.({ error })
  }

  private failWaiters (waiters: Set<Waiter>, err: Error): void {
    for (const waiter of [...waiters]) waiter.reject(err)
    waiters.clear()
  }

  /** Waits for the next drain (or ack), bounded by `signal`; drains are re-checked on a slow timer. */
  private async wait (waiters: Set<Waiter>, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason })
    if (this.state.status === 'aborted') throw this.state.error
    if (this.state.status === 'closed') throw new ChannelClosedError()
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => { cleanup(); resolve() },
        reject: (err) => { cleanup(); reject(err) }
      }
      const onAbort = (): void => { waiter.reject(new AbortError(undefined, { cause: signal?.reason })) }
      const poll = waiters === this.drainWaiters
        ? setInterval(() => { if (this.channel.bufferedAmount <= this.lowWaterMark) waiter.resolve() }, DRAIN_POLL_MS)
        : undefined
      const cleanup = (): void => {
        waiters.delete(waiter)
        if (poll != null) clearInterval(poll)
        signal?.removeEventListener('abort', onAbort)
      }
      waiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

/** Adapts an open (or opening) ordered, reliable RTCDataChannel to core's `MessageChannel`. */
export function createDataChannelMessageChannel (channel: RTCDataChannel, init?: DataChannelMessageChannelInit): DataChannelMessageChannel {
  return new DataChannelMessageChannel(channel, init)
}
