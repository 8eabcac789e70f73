import type { AbortOptions } from './abort.js'
import type { TransferMethod } from './transfer-method.js'

/**
 * An ordered, reliable, message-oriented duplex with backpressure: the one
 * thing the transfer protocol needs from a path. A libp2p stream and an
 * RTCDataChannel are both adapted to it by `@chiral/transport`.
 */
export interface MessageChannel {
  /** How the bytes travel. */
  readonly method: TransferMethod
  /** The largest message `send()` accepts, in bytes. */
  readonly maxMessageSize: number
  /**
   * Bytes received so far, framing included, if the channel counts them:
   * progress inside a large message (a 1 MiB chunk in one stream message)
   * that a watchdog can see before the message is whole.
   */
  readonly bytesReceived?: number
  /**
   * Queues one message. Resolves when the channel can take more (its send
   * buffer is under its limit), so a sender that awaits every call never
   * buffers without bound. Rejects once the channel is closed.
   */
  send(message: Uint8Array, options?: AbortOptions): Promise<void>
  /** Whole messages in the order sent; ends when the remote side closes. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>
  /** Closes gracefully after buffered messages are sent. */
  close(options?: AbortOptions): Promise<void>
  /** Closes at once; pending sends and reads fail with `err`. */
  abort(err: Error): void
}
