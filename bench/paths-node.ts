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
import { relayAddresses } from '@chiral/core'
import { startLoopbackRelay, startRelayedPeer } from '../packages/core/test/support/loopback-relay.js'
import { createLibp2pSignaling } from '@chiral/signaling'
import {
  createProvider, createReceiver, createWebRTCListener, createWebRTCPathDialer, libp2pWebRTCDialer, NodeRTCPeerConnection, relayDialer,
  TRANSFER_PROTOCOL
} from '@chiral/transport'
import { multiaddr } from '@multiformats/multiaddr'
import type { PathDialer } from '@chiral/core'
import type { FetchResult, TransferSink } from '@chiral/transport'
import type { Libp2p } from '@libp2p/interface'

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
const rtc = { iceServers: [], connectTimeout: 10_000, ...(highWaterMark === undefined ? {} : { highWaterMark, lowWaterMark: Math.floor(highWaterMark / 4) }) }

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
 * A peer reserved on `relay`. With `libp2pWebRTC`, core's `webrtc` setting
 * turns on libp2p's WebRTC transport (listening on `/webrtc`).
 */
async function peer (relay: string, libp2pWebRTC: boolean): Promise<Libp2p> {
  return startRelayedPeer(relay, libp2pWebRTC ? { webrtc: { iceServers: [] } } : {})
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
    const node = await peer(relay!, libp2pWebRTCArg === '1')
    const provider = createProvider({ node })
    await provider.start()
    const manifest = await provider.share(file!)
    const signaling = createLibp2pSignaling({ node })
    await signaling.start()
    const listener = createWebRTCListener({ signaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)
    const errors: string[] = []
    listener.addEventListener('session:error', (e) => { errors.push(e.detail.error.message) })
    listener.handle(TRANSFER_PROTOCOL, (channel) => { provider.serve(channel).catch((err: Error) => { errors.push(err.message) }) })
    await listener.start()
    // libp2p's WebRTC listens through each relay reservation: `<relay>/p2p-circuit/webrtc/p2p/<peer>`.
    const libp2pWebRTC = node.getMultiaddrs().some((a) => a.getComponents().some((c) => c.name === 'webrtc'))
    print({ ready: true, target: { peerId: node.peerId.toString(), multiaddrs: relayAddresses(node).map(String) }, cid: manifest.cid.toString(), libp2pWebRTC })
    await untilStdinEnds()
    await listener.stop()
    await signaling.stop()
    await provider.stop()
    await node.stop()
    print({ errors })
    process.exit(0)
    break
  }
  case 'fetch': {
    const [relay, targetJson, cid, mode = 'race', sink = 'discard', dir, racePaths = 'relay,webrtc,libp2p-webrtc'] = args
    const target = JSON.parse(targetJson!) as { peerId: string, multiaddrs: string[] }
    const uses = (path: string): boolean => mode === path || (mode === 'race' && racePaths.split(',').includes(path))
    const useRelay = uses('relay')
    const useWebRTC = uses('webrtc')
    const useLibp2pWebRTC = uses('libp2p-webrtc')
    const node = await peer(relay!, useLibp2pWebRTC)
    const signaling = useWebRTC ? createLibp2pSignaling({ node }) : undefined
    await signaling?.start()
    // Each channel's max message size (the provider splits chunks into messages of that size).
    const maxMessageSize: Record<string, number> = {}
    const observed = (dialer: PathDialer): PathDialer => ({
      name: dialer.name,
      method: dialer.method,
      dial: async (...a) => {
        const channel = await dialer.dial(...a)
        maxMessageSize[dialer.name] = channel.maxMessageSize
        return channel
      }
    })
    const dialers: PathDialer[] = [
      ...(useRelay ? [relayDialer(node)] : []),
      ...(signaling === undefined ? [] : [createWebRTCPathDialer({ signaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)]),
      ...(useLibp2pWebRTC ? [libp2pWebRTCDialer(node, { dialTimeout: 10_000 })] : [])
    ].map(observed)
    const receiver = createReceiver({ node, dialers }, { dialTimeout: 15_000, ...(chunkWindow === undefined ? {} : { window: chunkWindow }) })
    await receiver.start()
    print({ ready: true, paths: dialers.map((d) => d.name) })
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    const result = await receiver.fetch(cid!, {
      providers: [{ peerId: target.peerId, multiaddrs: target.multiaddrs.map((a) => multiaddr(a)) }],
      ...(sink === 'file' ? { destination: dir!, overwrite: true } : { sink: discard }),
      signal: AbortSignal.timeout(300_000)
    })
    const ms = performance.now() - started
    const cpu = process.cpuUsage(cpu0)
    const bytesByPath: Record<string, number> = {}
    for (const p of result.paths) {
      const name = p.label.split(':')[0] ?? p.label
      bytesByPath[name] = (bytesByPath[name] ?? 0) + p.bytes
    }
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
      connections: node.getConnections().filter((c) => c.remotePeer.toString() === target.peerId).map((c) => c.multiplexer ?? 'none'),
      cpuMs: (cpu.user + cpu.system) / 1000
    }
    print(run)
    await receiver.stop()
    await signaling?.stop()
    await node.stop()
    process.exit(0)
    break
  }
  default:
    process.stderr.write('usage: paths-node.ts relay | provider <relay> <file> <0|1> | fetch <relay> <target> <cid> <mode> <sink> <dir>\n')
    process.exit(2)
}
