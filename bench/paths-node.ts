/**
 * One process of the path benchmark (see paths.ts), run inside its network
 * namespace. Roles:
 *
 *   relay                                          a `server` node on 127.0.0.1
 *   provider <relay> <file> <libp2pWebRTC:0|1>     a peer sharing <file>: /chiral/transfer/1.0.0 on its
 *                                                  libp2p node (relayed and libp2p WebRTC connections)
 *                                                  and on Chiral's WebRTC path (signaled over libp2p)
 *   fetch <relay> <target.json> <cid> <mode> <sink> <dir> [racePaths]
 *                                                  fetches <cid> once over <mode>: relay | webrtc |
 *                                                  libp2p-webrtc | race (<racePaths> at once, default
 *                                                  all three); <sink> `discard` (chunks verified, not
 *                                                  stored) or `file`
 *
 * Each prints JSON lines on stdout: first `{ ready… }`, then (fetch) one
 * result line; relay/provider run until stdin closes. ICE servers are always
 * empty: no packet leaves the namespace.
 */
import { createPeer } from '@chiral/peer'
import { startLoopbackRelay } from '../packages/core/test/support/loopback-relay.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { PathName, PeerInit } from '@chiral/peer'
import type { FetchResult, TransferSink } from '@chiral/transport'

// CHIRAL_NDC_LOG=Info (Debug, Verbose, Warning) prints libdatachannel's log on stderr (see paths.ts --verbose).
if (process.env.CHIRAL_NDC_LOG != null) {
  const { initLogger } = await import('node-datachannel')
  initLogger(process.env.CHIRAL_NDC_LOG as 'Info', (level, message) => { process.stderr.write(`${performance.now().toFixed(1)} [${level}] ${message}\n`) })
}

const [role, ...args] = process.argv.slice(2)
const print = (value: unknown): void => { process.stdout.write(JSON.stringify(value) + '\n') }
const untilStdinEnds = async (): Promise<void> => new Promise((resolve) => {
  process.stdin.on('end', resolve)
  process.stdin.resume()
})
// Tuning knobs (public settings), from the environment: CHIRAL_BENCH_WINDOW (chunks in flight
// per channel) and CHIRAL_BENCH_HWM (the WebRTC channels' send high-water mark, bytes).
const chunkWindow = process.env.CHIRAL_BENCH_WINDOW == null ? undefined : Number(process.env.CHIRAL_BENCH_WINDOW)
const highWaterMark = process.env.CHIRAL_BENCH_HWM == null ? undefined : Number(process.env.CHIRAL_BENCH_HWM)
const webrtc = highWaterMark === undefined ? {} : { webrtc: { highWaterMark, lowWaterMark: Math.floor(highWaterMark / 4) } }

/** What one fetch process reports (paths.ts reads it). */
export interface FetchRun {
  mode: string
  bytes: number
  /** From the `fetch()` call to its result, ms. */
  ms: number
  timeToFirstByteMs?: number
  method: string
  bytesByMethod: Record<string, number>
  /** Chunk bytes per path name (a channel's label is `<path>:<peer>`). */
  bytesByPath: Record<string, number>
  pathReports: FetchResult['pathReports']
  switches: Array<{ from?: string, to: string, atBytes: number }>
  /** Max message size of each path's channel. */
  maxMessageSize: Record<string, number>
  /** The multiplexer of each libp2p connection to the provider at the end (`/webrtc` is libp2p's WebRTC). */
  connections: string[]
  cpuMs: number
}

/**
 * A peer reserved on `relay`, signaling through it, racing `paths`. Asking
 * for `libp2p-webrtc` turns on libp2p's WebRTC transport (listening on `/webrtc`).
 */
function peerInit (relay: string, paths: PathName[], more: Partial<PeerInit> = {}): PeerInit {
  return { relays: [relay], signalingMode: 'libp2p', iceServers: [], directConnectTimeout: 10_000, allowPrivateAddresses: true, paths, ...webrtc, ...more }
}

const discard: TransferSink = { open: async () => [], write: async () => {}, complete: async () => ({}), abort: async () => {} }

switch (role) {
  case 'relay': {
    const { server, relay } = await startLoopbackRelay()
    print({ ready: true, relay })
    await untilStdinEnds()
    await server.stop()
    break
  }
  case 'provider': {
    const [relay, file, libp2pWebRTCArg] = args
    const peer = createPeer(peerInit(relay!, libp2pWebRTCArg === '1' ? ['relay', 'webrtc', 'libp2p-webrtc'] : ['relay', 'webrtc']))
    const errors: string[] = []
    peer.addEventListener('incoming:failed', (e) => { errors.push(e.detail.error.message) })
    await peer.start()
    const { cid } = await peer.share(file!, { announce: false })
    // libp2p's WebRTC listens through each relay reservation: `<relay>/p2p-circuit/webrtc/p2p/<peer>`.
    const libp2pWebRTC = peer.components.node.getMultiaddrs().some((a) => a.getComponents().some((c) => c.name === 'webrtc'))
    print({ ready: true, target: { peerId: peer.peerId, multiaddrs: peer.relayAddresses }, cid, libp2pWebRTC })
    await untilStdinEnds()
    await peer.stop()
    print({ errors })
    break
  }
  case 'fetch': {
    const [relay, targetJson, cid, mode = 'race', sink = 'discard', dir, racePaths = 'relay,webrtc,libp2p-webrtc'] = args
    const target = JSON.parse(targetJson!) as { peerId: string, multiaddrs: string[] }
    const paths = (['relay', 'webrtc', 'libp2p-webrtc'] as const).filter((path) => mode === path || (mode === 'race' && racePaths.split(',').includes(path)))
    const peer = createPeer(peerInit(relay!, paths, { receiver: { dialTimeout: 15_000 } }))
    await peer.start()
    print({ ready: true, paths })
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    const result = await peer.fetch(cid!, {
      providers: [{ peerId: target.peerId, multiaddrs: target.multiaddrs.map((a) => multiaddr(a)) }],
      ...(sink === 'file' ? { destination: dir!, overwrite: true } : { sink: discard }),
      ...(chunkWindow === undefined ? {} : { window: chunkWindow }),
      signal: AbortSignal.timeout(300_000)
    })
    const ms = performance.now() - started
    const cpu = process.cpuUsage(cpu0)
    const bytesByPath: Record<string, number> = {}
    for (const p of result.paths) {
      const name = p.label.split(':')[0] ?? p.label
      bytesByPath[name] = (bytesByPath[name] ?? 0) + p.bytes
    }
    const maxMessageSize: Record<string, number> = {}
    for (const p of result.pathReports) if (p.maxMessageSize !== undefined) maxMessageSize[p.path] = p.maxMessageSize
    const run: FetchRun = {
      mode,
      bytes: result.bytes,
      ms,
      ...(result.timeToFirstByteMs === undefined ? {} : { timeToFirstByteMs: result.timeToFirstByteMs }),
      method: result.method,
      bytesByMethod: result.bytesByMethod,
      bytesByPath,
      pathReports: result.pathReports,
      switches: result.switches.map((s) => ({ ...(s.from === undefined ? {} : { from: s.from }), to: s.to, atBytes: s.atBytes })),
      maxMessageSize,
      connections: peer.components.node.getConnections().filter((c) => c.remotePeer.toString() === target.peerId).map((c) => c.multiplexer ?? 'none'),
      cpuMs: (cpu.user + cpu.system) / 1000
    }
    print(run)
    await peer.stop()
    break
  }
  default:
    process.stderr.write('usage: paths-node.ts relay | provider <relay> <file> <0|1> | fetch <relay> <target> <cid> <mode> <sink> <dir>\n')
    process.exit(2)
}
