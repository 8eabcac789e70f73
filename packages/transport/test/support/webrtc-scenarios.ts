/**
 * WebRTC path scenarios, run inside a network namespace by
 * test/webrtc-path.spec.ts (`ip netns exec … node --import tsx this-file <name>`).
 * Both peers live in this process and talk through an in-process Signaling
 * hub; the WebRTC traffic is real (node-datachannel over the namespace's
 * veth). Each scenario prints one JSON line with what it observed.
 */
import { createHash, randomFillSync } from 'node:crypto'
import { isChiralError } from '@chiral/core'
import { DataChannelMessageChannel } from '../../src/channels/data-channel.js'
import { WebRTCListener } from '../../src/paths/webrtc-listener.js'
import { WebRTCPathDialer } from '../../src/paths/webrtc.js'
import { NodeRTCPeerConnection } from '../../src/webrtc/node-peer-connection.js'
import { MemorySignalingHub } from './memory-signaling.js'
import { trackPeerConnections } from './tracked-peer-connection.js'
import type { SignalFilter } from './memory-signaling.js'
import type { MessageChannel } from '@chiral/core'

const PROTOCOL = '/chiral/test/1.0.0'
const MiB = 1024 * 1024

interface Pair {
  hub: MemorySignalingHub
  dialer: WebRTCPathDialer
  listener: WebRTCListener
  tracker: ReturnType<typeof trackPeerConnections>
  accepted: Promise<DataChannelMessageChannel>
  dial(signal?: AbortSignal): Promise<DataChannelMessageChannel>
  stop(): Promise<void>
}

/** A dialer and a listener on one memory hub; peer connections close with their last channel unless `idleTimeout` says otherwise. */
async function pair (options: { filter?: SignalFilter, connectTimeout?: number, highWaterMark?: number, idleTimeout?: number } = {}): Promise<Pair> {
  const hub = new MemorySignalingHub(options.filter)
  const tracker = trackPeerConnections(NodeRTCPeerConnection)
  const init = {
    iceServers: [],
    connectTimeout: options.connectTimeout ?? 10_000,
    highWaterMark: options.highWaterMark,
    lowWaterMark: options.highWaterMark == null ? undefined : options.highWaterMark / 4,
    idleTimeout: options.idleTimeout ?? 0
  }
  const a = hub.connect('peer-a')
  const b = hub.connect('peer-b')
  const dialer = new WebRTCPathDialer({ signaling: a, RTCPeerConnection: tracker.RTCPeerConnection }, init)
  const listener = new WebRTCListener({ signaling: b, RTCPeerConnection: tracker.RTCPeerConnection }, init)
  const accepted = new Promise<DataChannelMessageChannel>((resolve) => { listener.handle(PROTOCOL, (channel) => { resolve(channel) }) })
  await listener.start()
  return {
    hub,
    dialer,
    listener,
    tracker,
    accepted,
    dial: async (signal) => dialer.dial({ peerId: 'peer-b', multiaddrs: [] }, PROTOCOL, { signal }),
    stop: async () => { dialer.closeAll(); await listener.stop() }
  }
}

/** Sends `bytes` in messages of the channel's max size; returns the hex SHA-256 and the largest queue seen. */
async function sendAll (channel: DataChannelMessageChannel, bytes: number, limit: number): Promise<{ sha256: string, maxQueued: number }> {
  const hash = createHash('sha256')
  let maxQueued = 0
  for (let sent = 0; sent < bytes;) {
    const message = randomFillSync(new Uint8Array(Math.min(channel.maxMessageSize, bytes - sent)))
    hash.update(message)
    await channel.send(message)
    maxQueued = Math.max(maxQueued, channel.bufferedAmount)
    sent += message.byteLength
  }
  if (maxQueued > limit) throw new Error(`queue reached ${maxQueued} > ${limit}`)
  return { sha256: hash.digest('hex'), maxQueued }
}

async function receive (channel: MessageChannel, bytes: number): Promise<{ sha256: string, bytes: number, messages: number }> {
  const hash = createHash('sha256')
  let got = 0
  let messages = 0
  for await (const message of channel) {
    hash.update(message)
    got += message.byteLength
    messages++
    if (got >= bytes) break
  }
  return { sha256: hash.digest('hex'), bytes: got, messages }
}

/** Settles after the event loop has run node-datachannel's close callbacks. */
async function settle (ms = 300): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

const scenarios: Record<string, () => Promise<unknown>> = {
  /** 64 MiB one way and 16 MiB the other at the same time, hashes checked, queue bounded. */
  async transfer () {
    const highWaterMark = 1 * MiB
    const p = await pair({ highWaterMark })
    const t0 = performance.now()
    const a = await p.dial()
    const setupMs = performance.now() - t0
    const b = await p.accepted
    const t1 = performance.now()
    const [aSent, bGot, bSent, aGot] = await Promise.all([
      sendAll(a, 64 * MiB, highWaterMark + a.maxMessageSize),
      receive(b, 64 * MiB),
      sendAll(b, 16 * MiB, highWaterMark + b.maxMessageSize),
      receive(a, 16 * MiB)
    ])
    const seconds = (performance.now() - t1) / 1000
    // Graceful close: the other side's reads end.
    const ended = (async () => { for await (const _ of b) { /* drain */ } return true })()
    await a.close()
    const remoteEnded = await ended
    await b.close()
    await settle()
    const result = {
      setupMs,
      maxMessageSize: [a.maxMessageSize, b.maxMessageSize],
      method: a.method,
      protocol: b.protocol,
      aToB: { sent: aSent.sha256, got: bGot.sha256, bytes: bGot.bytes, maxQueued: aSent.maxQueued },
      bToA: { sent: bSent.sha256, got: aGot.sha256, bytes: aGot.bytes, maxQueued: bSent.maxQueued },
      mbPerSecond: (80 * MiB / 1e6) / seconds,
      remoteEnded,
      status: [a.status, b.status],
      openSessions: [p.dialer.openSessions, p.listener.openSessions],
      unclosed: p.tracker.unclosed(),
      created: p.tracker.created()
    }
    await p.stop()
    return result
  },

  /**
   * Offers and answers held back 300 ms. The listener's candidates overtake
   * the answer and wait in the dialer's queue; the dialer sends none before
   * it has applied the answer (so no ICE check can reach it earlier).
   */
  async 'early-candidates' () {
    const p = await pair({ filter: ({ message }) => message.type === 'candidate' ? 0 : 300 })
    const early = { 'peer-a': 0, 'peer-b': 0 }
    const received = { 'peer-a': 0, 'peer-b': 0 }
    // What each side receives, in delivery order.
    const seen = { 'peer-a': [] as string[], 'peer-b': [] as string[] }
    let answerDeliveredAt = Infinity
    let firstDialerCandidateSentAt = Infinity
    const original = p.hub.filter
    p.hub.filter = (env) => {
      const verdict = original(env)
      if (env.from === 'peer-a' && env.message.type === 'candidate') firstDialerCandidateSentAt = Math.min(firstDialerCandidateSentAt, performance.now())
      if (verdict !== 'drop') {
        setTimeout(() => {
          if (env.message.type === 'answer') answerDeliveredAt = performance.now()
          seen[env.to as 'peer-a' | 'peer-b'].push(env.message.type === 'candidate' ? (env.message.candidate == null ? 'end' : 'candidate') : env.message.type)
        }, verdict)
      }
      return verdict
    }
    const t0 = performance.now()
    const a = await p.dial()
    const b = await p.accepted
    const setupMs = performance.now() - t0
    await a.send(new Uint8Array([1, 2, 3]))
    const echo = await receive(b, 3)
    for (const id of ['peer-a', 'peer-b'] as const) {
      const firstDescription = seen[id].findIndex(t => t === 'offer' || t === 'answer')
      early[id] = seen[id].slice(0, firstDescription < 0 ? undefined : firstDescription).filter(t => t === 'candidate').length
      received[id] = seen[id].filter(t => t === 'candidate').length
    }
    await Promise.all([a.close(), b.close()])
    await settle()
    const result = {
      setupMs,
      early,
      received,
      dialerWaitedForAnswer: firstDialerCandidateSentAt >= answerDeliveredAt,
      // The dialer's connection is created first, the listener's second.
      added: p.tracker.candidatesAdded(),
      bytes: echo.bytes,
      unclosed: p.tracker.unclosed()
    }
    await p.stop()
    return result
  },

  /**
   * When the dialer's candidates go out: (1) the listener's candidates held
   * back 150 ms: the dialer sends none before a listener candidate is in
   * (it must check first, see WebRTCSession); (2) the listener's candidates
   * all dropped: the dialer sends its own after its hold time anyway, and
   * the connection comes up through the listener's checks.
   */
  async 'candidate-order' () {
    const run = async (listenerCandidates: number | 'drop') => {
      const at = { answer: Infinity, firstListenerCandidate: Infinity, firstDialerCandidate: Infinity }
      const p = await pair({
        filter: ({ from, message }) => {
          const now = performance.now()
          if (from === 'peer-a' && message.type === 'candidate') at.firstDialerCandidate = Math.min(at.firstDialerCandidate, now)
          if (from === 'peer-b' && message.type === 'candidate' && listenerCandidates !== 'drop') {
            setTimeout(() => { at.firstListenerCandidate = Math.min(at.firstListenerCandidate, performance.now()) }, listenerCandidates)
            return listenerCandidates
          }
          if (message.type === 'answer') setTimeout(() => { at.answer = Math.min(at.answer, performance.now()) }, 0)
          return from === 'peer-b' && message.type === 'candidate' ? 'drop' : 0
        }
      })
      const a = await p.dial()
      const b = await p.accepted
      await a.send(new Uint8Array([1, 2, 3]))
      const echo = await receive(b, 3)
      await Promise.all([a.close(), b.close()])
      await settle()
      const result = {
        bytes: echo.bytes,
        dialerHeldAfterAnswerMs: at.firstDialerCandidate - at.answer,
        dialerAfterListenerCandidateMs: at.firstDialerCandidate - at.firstListenerCandidate,
        unclosed: p.tracker.unclosed()
      }
      await p.stop()
      return result
    }
    return { late: await run(150), dropped: await run('drop') }
  },

  /** Every candidate dropped both ways: nothing can connect; the dial must fail in time and leave nothing. */
  async 'ice-failure' () {
    const connectTimeout = 1500
    const p = await pair({ connectTimeout, filter: ({ message }) => message.type === 'candidate' ? 'drop' : 0 })
    const listenerError = new Promise<string>((resolve) => {
      p.listener.addEventListener('session:error', (e) => { resolve((e.detail.error as { code?: string }).code ?? e.detail.error.name) }, { once: true })
    })
    const t0 = performance.now()
    let code = 'none'
    let reason: string | undefined
    try {
      await p.dial()
    } catch (err) {
      code = isChiralError(err) ? err.code : String(err)
      reason = (err as { reason?: string }).reason
    }
    const elapsedMs = performance.now() - t0
    const listenerCode = await listenerError
    await settle()
    const result = {
      connectTimeout,
      elapsedMs,
      code,
      reason,
      listenerCode,
      openSessions: [p.dialer.openSessions, p.listener.openSessions],
      created: p.tracker.created(),
      unclosed: p.tracker.unclosed()
    }
    await p.stop()
    return result
  },

  /** Abort before the answer arrives; abort of an open channel; listener stop closes accepted channels. */
  async abort () {
    const p = await pair({ filter: ({ message }) => message.type === 'answer' ? 5000 : 0 })
    const controller = new AbortController()
    const t0 = performance.now()
    setTimeout(() => { controller.abort() }, 100)
    let abortCode = 'none'
    try {
      await p.dial(controller.signal)
    } catch (err) {
      abortCode = isChiralError(err) ? err.code : String(err)
    }
    const abortMs = performance.now() - t0
    await settle()
    const afterAbort = { dialer: p.dialer.openSessions, unclosed: p.tracker.unclosed() }
    let preAbortedCode = 'none'
    try {
      await p.dial(AbortSignal.abort())
    } catch (err) {
      preAbortedCode = isChiralError(err) ? err.code : String(err)
    }
    p.hub.filter = () => 0
    const a = await p.dial()
    const b = await p.accepted
    // A pending read on `a` fails with the abort reason.
    const pendingRead = a[Symbol.asyncIterator]().next().then(() => 'resolved', (err: Error) => err.message)
    a.abort(new Error('stop now'))
    const readError = await pendingRead
    let sendAfterAbort = 'none'
    try { await a.send(new Uint8Array(1)) } catch (err) { sendAfterAbort = (err as Error).message }
    // b sees its channel end.
    const bEnded = await Promise.race([
      receive(b, 1).then(() => 'ended', (err: Error) => `error: ${err.message}`),
      settle(3000).then(() => 'timeout')
    ])
    await p.listener.stop()
    await settle()
    const result = {
      abortCode,
      abortMs,
      afterAbort,
      preAbortedCode,
      readError,
      sendAfterAbort,
      bEnded,
      openSessions: [p.dialer.openSessions, p.listener.openSessions],
      unclosed: p.tracker.unclosed()
    }
    await p.stop()
    return result
  },

  /** Close flushes what was queued; oversized messages are refused; unserved protocols are closed. */
  async 'close-semantics' () {
    const p = await pair()
    const a = await p.dial()
    const b = await p.accepted
    let oversized = 'none'
    try { await a.send(new Uint8Array(a.maxMessageSize + 1)) } catch (err) { oversized = isChiralError(err) ? err.code : String(err) }
    // Queue 8 MiB without waiting for drains between messages, then close at once.
    const sends: Array<Promise<void>> = []
    const hash = createHash('sha256')
    for (let i = 0; i < 32; i++) {
      const m = randomFillSync(new Uint8Array(256 * 1024))
      hash.update(m)
      sends.push(a.send(m).catch(() => {}))
    }
    const closing = a.close()
    const got = await receive(b, Number.MAX_SAFE_INTEGER)
    await closing
    await Promise.all(sends)
    const halfClosed = [a.status, b.status]
    await b.close()
    await settle()
    const closed = [a.status, b.status]
    // A channel for a protocol the listener does not serve is closed by it.
    // (The dial itself may fail instead, if the close overtakes the channel's opening.)
    const unservedEnd = await p.dialer.dial({ peerId: 'peer-b', multiaddrs: [] }, '/not/served/1.0.0').then(
      async unserved => Promise.race([
        receive(unserved, 1).then(r => `ended after ${r.bytes} bytes`, (err: Error) => `error: ${err.message}`),
        settle(5000).then(() => 'timeout')
      ]),
      (err: unknown) => `dial failed: ${isChiralError(err) ? err.code : String(err)}`
    )
    await settle()
    const result = {
      oversized,
      sent: hash.digest('hex'),
      got: got.sha256,
      bytes: got.bytes,
      unservedEnd,
      halfClosed,
      closed,
      openSessions: [p.dialer.openSessions, p.listener.openSessions],
      unclosed: p.tracker.unclosed()
    }
    await p.stop()
    return result
  }
}

/**
 * One peer connection, several channels: a second dial while the first
 * channel is open, and a third after both closed (within the idle time), all
 * ride the first connection; once idle for `idleTimeout` it closes on both
 * sides.
 */
scenarios.reuse = async () => {
  const p = await pair({ idleTimeout: 1500 })
  const accepted: DataChannelMessageChannel[] = []
  p.listener.handle(PROTOCOL, (channel) => {
    accepted.push(channel)
    void (async () => {
      for await (const m of channel) await channel.send(m)
      await channel.close()
    })().catch(() => {})
  })
  const echo = async (channel: DataChannelMessageChannel, n: number): Promise<boolean> => {
    await channel.send(new Uint8Array([n]))
    for await (const m of channel) return m[0] === n
    return false
  }
  const timed = async (): Promise<{ channel: DataChannelMessageChannel, ms: number }> => {
    const t0 = performance.now()
    const channel = await p.dial(AbortSignal.timeout(10_000))
    return { channel, ms: performance.now() - t0 }
  }
  const first = await timed()
  const second = await timed()
  const echoes = [await echo(first.channel, 1), await echo(second.channel, 2)]
  await first.channel.close()
  await second.channel.close()
  await settle()
  const third = await timed()
  echoes.push(await echo(third.channel, 3))
  const whileOpen = [p.dialer.openSessions, p.listener.openSessions]
  await third.channel.close()
  await settle()
  const afterClose = [p.dialer.openSessions, p.listener.openSessions]
  // The dialer's idle time passes: its side closes, and the listener's with it.
  await new Promise((resolve) => setTimeout(resolve, 2500))
  const result = {
    setupMs: [first.ms, second.ms, third.ms],
    echoes,
    channels: accepted.length,
    created: p.tracker.created(),
    peerConnections: [p.dialer.peerConnectionsCreated, p.listener.peerConnectionsCreated],
    whileOpen,
    afterClose,
    afterIdle: [p.dialer.openSessions, p.listener.openSessions],
    unclosed: p.tracker.unclosed()
  }
  await p.stop()
  return result
}

// CHIRAL_NDC_LOG=Debug (or Verbose, Info, Warning) prints libdatachannel's log on stderr.
const ndcLog = process.env.CHIRAL_NDC_LOG
if (ndcLog != null) {
  const { initLogger } = await import('node-datachannel')
  const t0 = performance.now()
  initLogger(ndcLog as 'Debug', (level, message) => { process.stderr.write(`${(performance.now() - t0).toFixed(1)} [${level}] ${message}\n`) })
}

const name = process.argv[2] ?? ''
const scenario = scenarios[name]
if (scenario == null) {
  process.stderr.write(`unknown scenario "${name}"; one of: ${Object.keys(scenarios).join(', ')}\n`)
  process.exit(2)
}
const watchdog = setTimeout(() => {
  process.stderr.write(`scenario ${name} did not finish within 50 s\n`)
  process.exit(3)
}, 50_000)
try {
  const result = await scenario()
  clearTimeout(watchdog)
  // node-datachannel's threads would keep the process alive: exit once the line is out.
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0))
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
}
