/**
 * One peer of the NAT lab, run inside a home namespace:
 *   node --conditions=source --import tsx peer.ts '<json settings>'
 *
 * - `share`: makes a random file, shares it, announces it on the node's DHT,
 *   answers WebRTC offers, prints `{"ready":true,"cid":…}` and serves until
 *   SIGTERM.
 * - `fetch`: finds the providers of `cid` on the DHT, races the relay and the
 *   direct WebRTC path, prints the fetch result as one JSON line and exits.
 *
 * Signaling: `hybrid` (libp2p through the relay first, the node's WebSocket
 * server second) or `websocket` (the node's WebSocket server only).
 *
 * `dcutr: true`: the node gets core's `directTcp` (DCUtR hole punching to
 * direct TCP) and the fetcher races the dcutr path as well.
 *
 * The sharer prints a `{"reannounce":…}` line for every re-announce; the
 * fetcher's result has `findMs` (first search to first provider) and
 * `foundAt` (epoch ms), and `findWithinMs` makes it search again while no
 * provider is known yet. `waitForSignal: true`: the fetcher prints
 * `{"waiting":true}` and fetches on SIGUSR2.
 *
 * - `reachability`: starts, prints `{"reachability":…,"ms":…}` for every
 *   change of `peer.reachability` (AutoNAT v2 against the node; `ms` since
 *   the peer was created), and exits once it is `public` or `private`.
 *   `listen` gives the peer direct listen addresses (any role).
 */
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer } from '@chiral/peer'
import { configureSctp } from '@chiral/transport'
import type { PathName } from '@chiral/peer'

interface Settings {
  role: 'share' | 'fetch' | 'reachability'
  relay: string
  signalingUrl: string
  stun: string
  signaling: 'hybrid' | 'websocket'
  sizeMiB?: number
  cid?: string
  dcutr?: boolean
  /**
   * The fetcher's paths, raced: `relay`, `webrtc` (more WebRTC paths side by
   * side as `webrtc-2`, `webrtc-3`, …: one peer connection each) and `dcutr`.
   * Default: relay and webrtc, plus dcutr when `dcutr` is set.
   */
  paths?: PathName[]
  /** node-datachannel SCTP settings for this process (default: the transport's). */
  sctp?: Record<string, number>
  /** The fetch's time limit, ms (default 60 s). */
  timeoutMs?: number
  /** The fetcher's relay use (the receiver's `relayUse`). */
  relayUse?: { whenDirectUp?: 'share' | 'stop', maxShare?: number }
  /** The fetcher searches again after "no providers" until this long after its first search, ms (default 30 s). */
  findWithinMs?: number
  /** The fetcher starts, prints `{"waiting":true}`, and fetches only on SIGUSR2. */
  waitForSignal?: boolean
  /** Fetches in a row from the same peer, each printing its result line (default 1). */
  fetches?: number
  /** The receiver's retry budget per outage, ms. */
  retryBudget?: number
  /** The fetcher prints `{"fault":true,…}` once this many MiB verified (the spec then injects its fault). */
  faultAtMiB?: number
  /** Direct listen addresses besides the relay reservation (the peer's `listen`). */
  listen?: string[]
  /** The peer's `reachabilityWindow`, ms. */
  reachabilityWindow?: number
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings
if (settings.sctp !== undefined) configureSctp(settings.sctp)
const peer = createPeer({
  signaling: settings.signalingUrl,
  signalingMode: settings.signaling,
  relays: [settings.relay],
  iceServers: [{ urls: settings.stun }],
  allowPrivateAddresses: true,
  directConnectTimeout: 8000,
  relayTimeout: 15_000,
  announceTimeout: 20_000,
  ...(settings.dcutr === true ? { directTcp: true } : {}),
  ...(settings.paths === undefined ? {} : { paths: settings.paths }),
  ...(settings.listen === undefined ? {} : { listen: settings.listen }),
  ...(settings.reachabilityWindow === undefined ? {} : { reachabilityWindow: settings.reachabilityWindow }),
  receiver: {
    ...(settings.relayUse === undefined ? {} : { relayUse: settings.relayUse }),
    ...(settings.retryBudget === undefined ? {} : { retryBudget: settings.retryBudget })
  }
})
const t0 = Date.now()
const trace = process.env.CHIRAL_NAT_TRACE === '1'
peer.addEventListener('announce', (e) => {
  if (e.detail.reason !== undefined) console.log(JSON.stringify({ reannounce: e.detail.cid.toString(), reason: e.detail.reason, error: e.detail.error?.message, at: Date.now() }))
})
let settled: (() => void) | undefined
if (settings.role === 'reachability') {
  let last = ''
  peer.addEventListener('reachability', (e) => {
    const text = JSON.stringify(e.detail.direct)
    if (text === last) return
    last = text
    console.log(JSON.stringify({ reachability: e.detail.direct, ms: Date.now() - t0 }))
    if (e.detail.direct.status === 'public' || e.detail.direct.status === 'private') settled?.()
  })
}
await peer.start()

const signaling = peer.components.signaling!
const routes = new Set<string>()
signaling.addEventListener('signal', (e) => {
  routes.add(e.detail.route)
  if (trace) process.stderr.write(`[${settings.role} +${Date.now() - t0}ms] got ${e.detail.message.type} via ${e.detail.route}${e.detail.message.type === 'candidate' ? ' ' + String(e.detail.message.candidate?.candidate) : ''}\n`)
})
if (trace) {
  const send = signaling.send.bind(signaling)
  signaling.send = async (to, message, options) => {
    const at = Date.now()
    const route = await send(to, message, options)
    process.stderr.write(`[${settings.role} +${at - t0}ms] sent ${message.type} via ${route} in ${Date.now() - at} ms\n`)
    return route
  }
}

if (settings.role === 'reachability') {
  const status = peer.reachability.status
  if (status !== 'public' && status !== 'private') await new Promise<void>((resolve) => { settled = resolve })
} else if (settings.role === 'share') {
  const dir = mkdtempSync(join(tmpdir(), 'chiral-nat-share-'))
  const data = randomFillSync(Buffer.alloc((settings.sizeMiB ?? 32) * 1024 * 1024))
  writeFileSync(join(dir, 'lab.bin'), data)
  const shared = await peer.share(join(dir, 'lab.bin'), { name: 'lab.bin' })
  console.log(JSON.stringify({
    ready: true,
    cid: shared.cid,
    peerId: peer.peerId,
    sha256: createHash('sha256').update(data).digest('hex'),
    relayAddresses: peer.relayAddresses
  }))
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => { resolve() }) })
} else {
  // Search timing: from the first search to the first dial (providers known).
  let firstSearch: number | undefined
  let foundAt: number | undefined
  peer.addEventListener('fetch:finding', () => { firstSearch ??= Date.now() })
  peer.addEventListener('path:dialing', () => { foundAt ??= Date.now() })
  if (settings.waitForSignal === true) {
    const go = new Promise((resolve) => process.once('SIGUSR2', resolve))
    console.log(JSON.stringify({ waiting: true }))
    await go
  }
  for (let run = 1; run <= (settings.fetches ?? 1); run++) {
    const dir = mkdtempSync(join(tmpdir(), 'chiral-nat-fetch-'))
    const started = Date.now()
    let faulted = false
    const result = await peer.fetch(settings.cid!, {
      destination: dir,
      signal: AbortSignal.timeout(settings.timeoutMs ?? 60_000),
      findTimeout: settings.findWithinMs ?? 30_000,
      onProgress: (p) => {
        if (p.state === 'reconnecting') console.log(JSON.stringify({ reconnecting: p.reconnecting, bytes: p.bytes, at: Date.now() }))
        if (!faulted && settings.faultAtMiB !== undefined && p.bytes >= settings.faultAtMiB * 1024 * 1024) {
          faulted = true
          console.log(JSON.stringify({ fault: true, bytes: p.bytes, at: Date.now() }))
        }
      }
    }).catch((err: Error) => {
      console.log(JSON.stringify({ error: `${(err as { code?: string }).code ?? err.name}: ${err.message}`, code: (err as { code?: string }).code, at: Date.now() }))
      process.exit(1)
    })
    // Let the WebRTC dial (if still trying) settle so its outcome is reported.
    await new Promise((resolve) => setTimeout(resolve, 100))
    console.log(JSON.stringify({
      run,
      method: result.method,
      bytes: result.bytes,
      transferredBytes: result.transferredBytes,
      bytesByMethod: result.bytesByMethod,
      pathReports: result.pathReports,
      switches: result.switches,
      recoveries: result.recoveries,
      losses: result.losses,
      timeToFirstByteMs: result.timeToFirstByteMs,
      durationMs: result.durationMs,
      totalMs: Date.now() - started,
      findMs: foundAt === undefined || firstSearch === undefined ? undefined : foundAt - firstSearch,
      foundAt,
      peerConnectionsCreated: peer.components.paths.webrtc.reduce((n, d) => n + d.peerConnectionsCreated, 0),
      mbps: Number((result.bytes / 1e6 / (result.durationMs / 1000)).toFixed(1)),
      sha256: createHash('sha256').update(readFileSync(result.path!)).digest('hex'),
      signalingRoutes: [...routes]
    }))
  }
}
await peer.stop()
// Nothing should keep the process alive now; say so if something does.
setTimeout(() => {
  process.stderr.write('peer: still running 5 s after stop\n')
  process.exit(0)
}, 5000).unref()
