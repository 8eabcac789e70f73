import { memoryChannelPair } from './memory-channel.js'
import type { MemoryChannel } from './memory-channel.js'
import type { AbortOptions, MessageChannel, TransferMethod } from '@chiral/core'

/** A link's shape, changeable while it carries data. */
export interface LinkShape {
  /** Bytes per second from the far (provider) side to the near side. */
  rate: number
  /** One-way delay added to every message in both directions, ms. */
  delayMs: number
  /** Every message from now on is lost in both directions, nothing closes (a dead network path). */
  blackhole?: boolean
}

/**
 * Two in-process channels joined by an emulated link: the far side's sends
 * are paced to `rate` (a sender waits while more than ~5 ms of data is
 * queued, so backpressure reaches the provider), and every message in either
 * direction arrives `delayMs` later, in order. `shape` can be changed while
 * data flows (a path that slows down or recovers).
 */
export function shapedChannelPair (shape: LinkShape, init: { method?: TransferMethod, maxMessageSize?: number } = {}): { near: MessageChannel, far: MessageChannel, shape: LinkShape } {
  const [near, far] = memoryChannelPair({ method: init.method ?? 'memory', maxMessageSize: init.maxMessageSize ?? 64 * 1024, bufferBytes: 64 * 1024 * 1024 })
  return { near: delayed(near, shape, false), far: delayed(far, shape, true), shape }
}

function delayed (inner: MemoryChannel, shape: LinkShape, paced: boolean): MessageChannel {
  let nextFree = 0
  let lastArrival = 0
  const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
  return {
    method: inner.method,
    maxMessageSize: inner.maxMessageSize,
    async send (message: Uint8Array, options?: AbortOptions): Promise<void> {
      options?.signal?.throwIfAborted()
      if (shape.blackhole === true) return
      const now = performance.now()
      let departs = now
      if (paced) {
        nextFree = Math.max(nextFree, now) + message.byteLength * 1000 / shape.rate
        departs = nextFree
      }
      const copy = message.slice()
      const arrives = Math.max(lastArrival, departs + shape.delayMs)
      lastArrival = arrives
      setTimeout(() => { if (shape.blackhole !== true) void inner.send(copy).catch(() => {}) }, Math.max(0, arrives - now))
      if (paced && nextFree - now > 5) await sleep(nextFree - now - 5)
    },
    [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
    async close (): Promise<void> {
      const wait = Math.max(0, lastArrival - performance.now())
      await sleep(wait + 1)
      await inner.close()
    },
    abort: (err: Error) => { inner.abort(err) }
  }
}
