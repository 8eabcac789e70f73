/**
 * Records direct-path attempts other peers make to this page (it shares,
 * they download), for the Network page: an offer arriving through signaling
 * starts one, the listener's channel (or error) ends its setup, the channel's
 * end closes it.
 *
 *   offer ──► opening ──channel──► open ──channel ends──► closed
 *                └──session:error──► failed
 */
import { nextAttemptId } from './path-attempts.js'
import { observeClose } from './timed-dialer.js'
import type { PathAttempt, PathAttemptReport } from './path-attempts.js'
import type { MessageChannel, SignalEvent, Signaling } from '@chiral/core'
import type { WebRTCChannelInfo, WebRTCListener } from '@chiral/transport'

export interface IncomingAttemptsComponents {
  signaling: Signaling
  listener: WebRTCListener
}

export interface IncomingAttempts {
  start(): void
  stop(): void
  /** The listener opened `channel`: marks its attempt open and returns the channel, watched for its end. */
  opened(channel: MessageChannel, info: WebRTCChannelInfo): MessageChannel
}

/** Attempts waiting for their channel, at most this many (older ones are forgotten). */
const MAX_PENDING = 64

export function incomingAttempts (components: IncomingAttemptsComponents, report: PathAttemptReport): IncomingAttempts {
  const { signaling, listener } = components
  const pending = new Map<string, PathAttempt>()
  const keyOf = (from: string, session: string): string => `${from}\n${session}`

  const onSignal = (event: CustomEvent<SignalEvent>): void => {
    const { from, message } = event.detail
    if (message.type !== 'offer') return
    const key = keyOf(from, message.session ?? '')
    if (pending.has(key)) return
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value ?? '')
    const attempt: PathAttempt = {
      id: nextAttemptId(),
      peerId: from,
      direction: 'incoming',
      path: 'webrtc',
      method: 'webrtc-direct',
      state: 'opening',
      startedAt: Date.now()
    }
    pending.set(key, attempt)
    report({ ...attempt })
  }

  const onError = (event: CustomEvent<{ from: string, session: string, error: Error }>): void => {
    const key = keyOf(event.detail.from, event.detail.session)
    const attempt = pending.get(key)
    if (attempt === undefined) return
    pending.delete(key)
    report({ ...attempt, state: 'failed', setupMs: Date.now() - attempt.startedAt, error: event.detail.error.message })
  }

  return {
    start () {
      signaling.addEventListener('signal', onSignal)
      listener.addEventListener('session:error', onError)
    },
    stop () {
      signaling.removeEventListener('signal', onSignal)
      listener.removeEventListener('session:error', onError)
      pending.clear()
    },
    opened (channel, info) {
      const key = keyOf(info.from, info.session)
      const attempt = pending.get(key) ?? {
        id: nextAttemptId(), peerId: info.from, direction: 'incoming', path: 'webrtc', method: channel.method, state: 'opening', startedAt: Date.now()
      }
      pending.delete(key)
      const open: PathAttempt = { ...attempt, state: 'open', method: channel.method, setupMs: Date.now() - attempt.startedAt }
      report({ ...open })
      let closed = false
      return observeClose(channel, () => {
        if (closed) return
        closed = true
        report({ ...open, state: 'closed' })
      })
    }
  }
}
