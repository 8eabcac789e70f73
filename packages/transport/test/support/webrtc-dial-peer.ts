/**
 * One peer of the repeated-dial scenario (test/webrtc-repeated-dials.spec.ts):
 * two processes in a network namespace, signaling through their parent
 * (stdio-signaling.ts). The same two processes connect again and again.
 *
 *   node --conditions=source --import tsx webrtc-dial-peer.ts <dial|listen> '<DialPlan as JSON>'
 *
 * - `listen`: a `WebRTCListener` that echoes every message back and closes
 *   when the dialer closes. Prints `{"ready":true}`, then its result once
 *   stdin closes.
 * - `dial`: `backToBack` dials in a row, each sending one message, reading
 *   its echo and closing; the next dial starts as soon as `close()` resolves
 *   (the previous connection is then still half-closed), then `concurrent`
 *   dials at once, then `overlapping` dials started while the previous
 *   channel is still open. Every failure is recorded, not thrown.
 */
import { WebRTCListener } from '../../src/paths/webrtc-listener.js'
import { WebRTCPathDialer } from '../../src/paths/webrtc.js'
import { NodeRTCPeerConnection } from '../../src/webrtc/node-peer-connection.js'
import { StdioSignaling, finishWith, printLine } from './stdio-signaling.js'
import { trackPeerConnections } from './tracked-peer-connection.js'
import type { DataChannelMessageChannel } from '../../src/channels/data-channel.js'

export interface DialPlan {
  backToBack: number
  concurrent: number
  overlapping: number
  connectTimeout?: number
}

export interface DialOutcome {
  phase: 'back-to-back' | 'concurrent' | 'overlapping'
  ok: boolean
  setupMs: number
  error?: string
}

export interface DialerResult {
  outcomes: DialOutcome[]
  openSessions: number
  created: number
  unclosed: number
}

export interface ListenerResult {
  channels: number
  echoed: number
  sessionErrors: string[]
  openSessions: number
  created: number
  unclosed: number
}

// CHIRAL_NDC_LOG=Debug (or Verbose, Info, Warning) prints libdatachannel's log on stderr.
if (process.env.CHIRAL_NDC_LOG != null) {
  const { initLogger } = await import('node-datachannel')
  const t0 = performance.now()
  initLogger(process.env.CHIRAL_NDC_LOG as 'Debug', (level, message) => { process.stderr.write(`${(performance.now() - t0).toFixed(1)} [${level}] ${message}\n`) })
}

const PROTOCOL = '/chiral/test/1.0.0'
const [role = 'dial', planArg = '{}'] = process.argv.slice(2)
const plan = JSON.parse(planArg) as DialPlan
// No reuse: each dial its own peer connection, since what is repeated here is ICE + DTLS setup.
const init = { iceServers: [], connectTimeout: plan.connectTimeout ?? 5000, idleTimeout: 0 }
const tracker = trackPeerConnections(NodeRTCPeerConnection)
const self = role === 'dial' ? 'dialer' : 'listener'
const remote = role === 'dial' ? 'listener' : 'dialer'
let go: () => void = () => {}
const started = new Promise<void>((resolve) => { go = resolve })
let finish: () => void = () => {}
const finished = new Promise<void>((resolve) => { finish = resolve })
const signaling = new StdioSignaling(self, (line) => { if (line.go === true) go() })
await signaling.start()
process.stdin.once('end', () => { finish() })

const watchdog = setTimeout(() => {
  process.stderr.write(`${self} did not finish within 90 s\n`)
  process.exit(3)
}, 90_000)

async function settle (ms = 300): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

if (role === 'listen') {
  const listener = new WebRTCListener({ signaling, RTCPeerConnection: tracker.RTCPeerConnection }, init)
  const sessionErrors: string[] = []
  let channels = 0
  let echoed = 0
  listener.addEventListener('session:error', (e) => { sessionErrors.push(e.detail.error.message) })
  listener.handle(PROTOCOL, (channel) => {
    channels++
    void (async () => {
      try {
        for await (const message of channel) {
          await channel.send(message)
          echoed++
        }
        await channel.close({ signal: AbortSignal.timeout(5000) })
      } catch (err) {
        channel.abort(err as Error)
      }
    })()
  })
  await listener.start()
  printLine({ ready: true })
  await finished
  await settle()
  const result: ListenerResult = { channels, echoed, sessionErrors, openSessions: listener.openSessions, created: tracker.created(), unclosed: 0 }
  await listener.stop()
  await settle()
  result.unclosed = tracker.unclosed()
  clearTimeout(watchdog)
  finishWith(result)
} else {
  await started
  const dialer = new WebRTCPathDialer({ signaling, RTCPeerConnection: tracker.RTCPeerConnection }, init)
  const outcomes: DialOutcome[] = []
  /** Dial, exchange one message, and (unless `keepOpen`) close; the outcome is recorded. */
  const once = async (phase: DialOutcome['phase'], n: number, keepOpen = false): Promise<DataChannelMessageChannel | undefined> => {
    const t0 = performance.now()
    try {
      const channel = await dialer.dial({ peerId: remote, multiaddrs: [] }, PROTOCOL, { signal: AbortSignal.timeout(init.connectTimeout + 2000) })
      const setupMs = performance.now() - t0
      await channel.send(new Uint8Array([n & 0xff, 1, 2, 3]))
      const echo = await channel[Symbol.asyncIterator]().next()
      if (echo.done === true || echo.value[0] !== (n & 0xff)) throw new Error('wrong or missing echo')
      if (!keepOpen) await channel.close({ signal: AbortSignal.timeout(5000) })
      outcomes.push({ phase, ok: true, setupMs })
      return channel
    } catch (err) {
      outcomes.push({ phase, ok: false, setupMs: performance.now() - t0, error: (err as Error).message })
      return undefined
    }
  }
  let n = 0
  for (let i = 0; i < plan.backToBack; i++) await once('back-to-back', n++)
  await Promise.all(Array.from({ length: plan.concurrent }, async () => once('concurrent', n++)))
  // Each new dial starts while the previous channel is open; it is closed afterwards.
  let previous: DataChannelMessageChannel | undefined
  for (let i = 0; i < plan.overlapping; i++) {
    const next = await once('overlapping', n++, true)
    await previous?.close({ signal: AbortSignal.timeout(5000) }).catch(() => {})
    previous = next
  }
  await previous?.close({ signal: AbortSignal.timeout(5000) }).catch(() => {})
  await settle()
  const result: DialerResult = { outcomes, openSessions: dialer.openSessions, created: tracker.created(), unclosed: 0 }
  dialer.closeAll()
  await settle()
  result.unclosed = tracker.unclosed()
  clearTimeout(watchdog)
  finishWith(result)
}
