import { nextAttemptId } from './path-attempts.js'
import type { PathAttempt, PathAttemptReport } from './path-attempts.js'
import type { AbortOptions, MessageChannel, PathDialer, PeerTarget } from '@chiral/core'

/**
 * Wraps a path dialer to report every attempt (start, setup time, failure,
 * close) to `report`. The channel and the dial behave exactly as before.
 */
export function timedDialer (dialer: PathDialer, report: PathAttemptReport): PathDialer {
  return {
    name: dialer.name,
    method: dialer.method,
    async dial (target: PeerTarget, protocol: string, options: AbortOptions = {}): Promise<MessageChannel> {
      const attempt: PathAttempt = {
        id: nextAttemptId(),
        peerId: target.peerId,
        direction: 'outgoing',
        path: dialer.name,
        method: dialer.method,
        state: 'opening',
        startedAt: Date.now()
      }
      report({ ...attempt })
      try {
        const channel = await dialer.dial(target, protocol, options)
        attempt.state = 'open'
        attempt.setupMs = Date.now() - attempt.startedAt
        attempt.method = channel.method
        report({ ...attempt })
        return observeClose(channel, () => {
          if (attempt.state === 'closed') return
          attempt.state = 'closed'
          report({ ...attempt })
        })
      } catch (err) {
        attempt.state = 'failed'
        attempt.setupMs = Date.now() - attempt.startedAt
        attempt.error = (err as Error).message
        report({ ...attempt })
        throw err
      }
    }
  }
}

/** The same channel, calling `onClose` once it is closed or its messages end. */
export function observeClose<C extends MessageChannel> (channel: C, onClose: () => void): MessageChannel {
  return {
    get method () { return channel.method },
    get maxMessageSize () { return channel.maxMessageSize },
    send: async (message, options) => channel.send(message, options),
    async * [Symbol.asyncIterator] () {
      try {
        yield * channel
      } finally {
        onClose()
      }
    },
    close: async (options) => {
      try {
        await channel.close(options)
      } finally {
        onClose()
      }
    },
    abort: (err) => {
      channel.abort(err)
      onClose()
    }
  }
}
