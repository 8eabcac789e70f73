import { MessageQueue } from '../../src/channels/message-queue.js'
import { ChannelClosedError } from '../../src/errors.js'
import type { AbortOptions, MessageChannel, TransferMethod } from '@chiral/core'

/**
 * Two in-process message channels wired to each other: a real (if simple)
 * MessageChannel with a small max message size and a bounded receive buffer,
 * for exercising message splitting and multi-channel transfers quickly.
 */
export function memoryChannelPair (init: { maxMessageSize?: number, method?: TransferMethod, bufferBytes?: number } = {}): [MemoryChannel, MemoryChannel] {
  const a = new MemoryChannel(init)
  const b = new MemoryChannel(init)
  a.peer = b
  b.peer = a
  return [a, b]
}

export class MemoryChannel implements MessageChannel {
  readonly method: TransferMethod
  readonly maxMessageSize: number
  peer?: MemoryChannel
  readonly inbox: MessageQueue
  /** Bytes this side sent. */
  sentBytes = 0
  private writeClosed = false
  private closedError?: Error
  private readonly bufferBytes: number
  private drainWaiters: Array<() => void> = []

  constructor (init: { maxMessageSize?: number, method?: TransferMethod, bufferBytes?: number }) {
    this.method = init.method ?? 'memory'
    this.maxMessageSize = init.maxMessageSize ?? 16 * 1024
    this.bufferBytes = init.bufferBytes ?? 1024 * 1024
    this.inbox = new MessageQueue({ highWaterMark: 0, lowWaterMark: 0, onLow: () => { this.peer?.drained() } })
  }

  async send (message: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (this.writeClosed || this.closedError != null || this.peer == null) throw new ChannelClosedError('Memory channel closed', { cause: this.closedError })
    if (message.byteLength > this.maxMessageSize) throw new Error('message too large')
    this.sentBytes += message.byteLength
    this.peer.inbox.push(message.slice())
    while (this.peer.inbox.queuedBytes > this.bufferBytes && this.closedError == null) {
      options.signal?.throwIfAborted()
      await new Promise<void>((resolve) => { this.drainWaiters.push(resolve) })
    }
    if (this.closedError != null) throw new ChannelClosedError('Memory channel closed', { cause: this.closedError })
  }

  [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    return this.inbox
  }

  async close (): Promise<void> {
    if (this.writeClosed) return
    this.writeClosed = true
    this.peer?.inbox.end()
  }

  abort (err: Error): void {
    if (this.closedError != null) return
    this.closedError = err
    this.inbox.fail(err)
    this.inbox.clear()
    this.drained()
    this.peer?.remoteAborted(err)
  }

  private remoteAborted (err: Error): void {
    if (this.closedError != null) return
    this.closedError = err
    this.inbox.fail(new ChannelClosedError('Remote aborted', { cause: err }))
    this.drained()
  }

  private drained (): void {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const w of waiters) w()
  }
}
