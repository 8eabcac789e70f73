import { InvalidArgumentError } from '@chiral/core'
import { Uint8ArrayList } from 'uint8arraylist'
import { ChannelClosedError, TransferProtocolError } from '../errors.js'
import { MessageQueue } from './message-queue.js'
import type { AbortOptions, MessageChannel, TransferMethod } from '@chiral/core'
import type { Stream } from '@libp2p/interface'

/**
 * Largest message a libp2p stream channel carries by default: 4 MiB, so a
 * default 1 MiB chunk (and up to 4 MiB chunks) travel as one message. Both
 * ends must use the same value; the transfer protocol never needs more.
 */
export const STREAM_MAX_MESSAGE_SIZE = 4 * 1024 * 1024

const PREFIX_LENGTH = 4

export interface Libp2pStreamChannelInit {
  /** How the stream's bytes travel (e.g. `relay`). */
  method: TransferMethod
  /** Largest message in either direction (default 4 MiB). */
  maxMessageSize?: number
  /**
   * Largest message this end accepts (default `maxMessageSize`). A provider
   * only ever receives small `Open` and `Request` messages and sets it low, so
   * a remote announcing a huge message is cut off at its length prefix.
   */
  maxInboundMessageSize?: number
  /**
   * Bytes the libp2p stream may hold unread (while paused) before it is reset
   * (default: enough for `highWaterMark`, one message and a full yamux window).
   */
  maxReadBufferLength?: number
  /**
   * Received bytes not yet read above which the stream is paused (yamux then
   * stops granting send window to the remote). Default 16 MiB.
   */
  highWaterMark?: number
  /**
   * Bytes queued in the stream (not yet taken by the muxer) above which
   * `send()` waits (default 1 MiB).
   */
  sendBufferLength?: number
  /** Called once when the stream has closed in both directions or was reset. */
  onClose?: (err?: Error) => void
}

/**
 * Turns a libp2p stream (a byte stream) into a `MessageChannel`: each message
 * is a 4-byte big-endian length followed by its bytes.
 *
 * - send: `stream.send()`; while the muxer needs a drain or more than
 *   `sendBufferLength` bytes wait in the stream, `send` waits for the next
 *   `drain`/`idle` event, so a sender never buffers without bound. `send`
 *   takes ownership of the bytes (they may still be queued when it resolves).
 * - receive: whole messages in order; a length above `maxMessageSize` aborts
 *   the stream with `TransferProtocolError`.
 * - close: half-close (our write side); reading goes on until the remote closes.
 */
export function libp2pStreamChannel (stream: Stream, init: Libp2pStreamChannelInit): MessageChannel {
  return new Libp2pStreamChannel(stream, init)
}

class Libp2pStreamChannel implements MessageChannel {
  readonly method: TransferMethod
  bytesReceived = 0
  readonly maxMessageSize: number
  private readonly maxInboundMessageSize: number
  private readonly stream: Stream
  private readonly buffer = new Uint8ArrayList()
  private readonly queue: MessageQueue
  private closeError?: Error
  private iterated = false
  private readonly sendBufferLength: number

  constructor (stream: Stream, init: Libp2pStreamChannelInit) {
    this.stream = stream
    this.method = init.method
    this.maxMessageSize = init.maxMessageSize ?? STREAM_MAX_MESSAGE_SIZE
    if (!Number.isSafeInteger(this.maxMessageSize) || this.maxMessageSize <= 0 || this.maxMessageSize > 2 ** 32 - 1) {
      throw new InvalidArgumentError(`maxMessageSize must be a positive 32-bit integer, got ${this.maxMessageSize}`)
    }
    this.maxInboundMessageSize = Math.min(init.maxInboundMessageSize ?? this.maxMessageSize, this.maxMessageSize)
    this.sendBufferLength = init.sendBufferLength ?? 1024 * 1024
    const highWaterMark = init.highWaterMark ?? 16 * 1024 * 1024
    // While paused, a yamux stream still receives what the remote's window allows (≤ 16 MiB).
    stream.maxReadBufferLength = init.maxReadBufferLength ?? Math.max(stream.maxReadBufferLength, highWaterMark + this.maxInboundMessageSize + 16 * 1024 * 1024)
    this.queue = new MessageQueue({
      highWaterMark,
      lowWaterMark: Math.floor(highWaterMark / 2),
      onHigh: () => { if (stream.readStatus === 'readable') stream.pause() },
      onLow: () => { if (stream.readStatus === 'paused') stream.resume() }
    })

    stream.addEventListener('message', (evt) => { this.onData(evt.data) })
    stream.addEventListener('remoteCloseWrite', () => { this.onEnd() })
    stream.addEventListener('close', (evt) => {
      if (evt.error != null) {
        this.closeError = evt.error
        this.queue.fail(new ChannelClosedError(`Stream closed: ${evt.error.message}`, { cause: evt.error }))
      } else {
        this.onEnd()
      }
      init.onClose?.(evt.error)
    }, { once: true })
  }

  async send (message: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (message.byteLength > this.maxMessageSize) {
      throw new InvalidArgumentError(`Message of ${message.byteLength} bytes exceeds the channel's ${this.maxMessageSize}-byte limit`)
    }
    options.signal?.throwIfAborted()
    const prefix = new Uint8Array(PREFIX_LENGTH)
    new DataView(prefix.buffer).setUint32(0, message.byteLength)
    try {
      this.stream.send(new Uint8ArrayList(prefix, message))
    } catch (err) {
      throw new ChannelClosedError(`Cannot send: stream is ${this.stream.status}`, { cause: this.closeError ?? err })
    }
    while (this.stream.writableNeedsDrain || this.stream.writeBufferLength > this.sendBufferLength) {
      await this.writable(options)
    }
  }

  /**
   * Waits for the stream's next `drain` or `idle` event. (`stream.onDrain()`
   * is not used: in @libp2p/utils 7.4 its promise is never reset, so after the
   * first drain it resolves at once and gives no backpressure.)
   */
  private async writable (options: AbortOptions): Promise<void> {
    const stream = this.stream
    if (stream.status !== 'open' && stream.status !== 'closing') {
      throw new ChannelClosedError(`Cannot send: stream is ${stream.status}`, { cause: this.closeError })
    }
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        stream.removeEventListener('drain', onWritable)
        stream.removeEventListener('idle', onWritable)
        stream.removeEventListener('close', onClose)
        options.signal?.removeEventListener('abort', onAbort)
      }
      const onWritable = (): void => { done(); resolve() }
      const onClose = (): void => { done(); reject(new ChannelClosedError('Stream closed while waiting to send', { cause: this.closeError })) }
      const onAbort = (): void => { done(); reject(options.signal?.reason ?? new Error('Aborted')) }
      stream.addEventListener('drain', onWritable)
      stream.addEventListener('idle', onWritable)
      stream.addEventListener('close', onClose)
      options.signal?.addEventListener('abort', onAbort)
    })
  }

  [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    if (this.iterated) throw new Error('A message channel can be read only once')
    this.iterated = true
    return this.queue
  }

  async close (options: AbortOptions = {}): Promise<void> {
    if (this.stream.writeStatus !== 'writable') return
    try {
      await this.stream.close(options)
    } catch (err) {
      this.stream.abort(err as Error)
    }
  }

  abort (err: Error): void {
    this.queue.fail(err)
    this.queue.clear()
    this.stream.abort(err)
  }

  private onData (data: Uint8Array | Uint8ArrayList): void {
    this.bytesReceived += data.byteLength
    this.buffer.append(data)
    while (this.buffer.byteLength >= PREFIX_LENGTH) {
      const length = this.buffer.getUint32(0)
      if (length > this.maxInboundMessageSize) {
        this.abort(new TransferProtocolError(`Incoming message of ${length} bytes exceeds the ${this.maxInboundMessageSize}-byte limit`))
        return
      }
      if (this.buffer.byteLength < PREFIX_LENGTH + length) return
      const message = this.buffer.subarray(PREFIX_LENGTH, PREFIX_LENGTH + length)
      this.buffer.consume(PREFIX_LENGTH + length)
      this.queue.push(message)
    }
  }

  private onEnd (): void {
    if (this.buffer.byteLength > 0) {
      // Cut mid-message: the stream (a relay, a connection) went away, which is not the sender breaking the framing.
      this.queue.fail(new ChannelClosedError(`Stream ended inside a message (${this.buffer.byteLength} bytes left over)`))
    } else {
      this.queue.end()
    }
  }
}
