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
import { createNode, relayAddresses, waitForRelayReservation } from '@chiral/core'
import { createLibp2pSignaling } from '@chiral/signaling'
import {
  createProvider, createReceiver, createWebRTCListener, createWebRTCPathDialer, NodeRTCPeerConnection, relayDialer, TRANSFER_PROTOCOL
} from '@chiral/transport'
import { multiaddr } from '@multiformats/multiaddr'
import type { PathDialer } from '@chiral/core'
import type { FetchResult, TransferSink } from '@chiral/transport'
import type { Libp2p } from '@libp2p/interface'

const [role, ...args] = process.argv.slice(2)
const print = (value: unknown): void => { process.stdout.write(JSON.stringify(value) + '\n') }
const untilStdinEnds = async (): Promise<void> => new Promise((resolve) => {
  process.stdin.on('end', resolve)
  process.stdin.resume()
})
const rtc = { iceServers: [], connectTimeout: 10_000 }

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
  /** The multiplexer of each libp2p connection to the provider at the end (`/webrtc` is libp2p's WebRTC). */
  connections: string[]
  cpuMs: number
}

type Libp2pWebRTCDialerFactory = (node: Pick<Libp2p, 'dial' | 'getConnections'>, init?: { dialTimeout?: number }) => PathDialer

/**
 * libp2p's WebRTC path dialer, when this checkout has it (exported by the
 * package, or at least present in its sources); undefined otherwise.
 */
async function loadLibp2pWebRTCDialer (): Promise<Libp2pWebRTCDialerFactory | undefined> {
  const exported = (await import('@chiral/transport') as Record<string, unknown>).libp2pWebRTCDialer
  if (typeof exported === 'function') return exported as Libp2pWebRTCDialerFactory
  const source = '../packages/transport/src/paths/libp2p-webrtc.js'
  try {
    const mod = await import(source) as Record<string, unknown>
    return typeof mod.libp2pWebRTCDialer === 'function' ? mod.libp2pWebRTCDialer as Libp2pWebRTCDialerFactory : undefined
  } catch {
    return undefined
  }
}

/**
 * A peer reserved on `relay`. With `libp2pWebRTC`, core's `webrtc` setting
 * turns on libp2p's WebRTC transport (listening on `/webrtc`); a core
 * without that setting ignores it (the provider then reports it missing).
 */
async function peer (relay: string, libp2pWebRTC: boolean): Promise<Libp2p> {
  const webrtc: Record<string, unknown> = libp2pWebRTC ? { webrtc: { iceServers: [] } } : {}
  const node = await createNode({ role: 'peer', listen: ['/p2p-circuit'], relays: [relay], allowPrivateAddresses: true, ...webrtc })
  await node.start()
  await waitForRelayReservation(node, { signal: AbortSignal.timeout(15_000) })
  return node
}

const discard: TransferSink = { open: async () => [], write: async () => {}, complete: async () => ({}), abort: async () => {} }

switch (role) {
  case 'relay': {
    const node = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
    await node.start()
    print({ ready: true, relay: node.getMultiaddrs()[0]!.toString() })
    await untilStdinEnds()
    await node.stop()
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
    const libp2pWebRTCDialer = uses('libp2p-webrtc') ? await loadLibp2pWebRTCDialer() : undefined
    if (mode === 'libp2p-webrtc' && libp2pWebRTCDialer === undefined) throw new Error('this checkout has no libp2p-webrtc path dialer')
    const node = await peer(relay!, libp2pWebRTCDialer !== undefined)
    const signaling = useWebRTC ? createLibp2pSignaling({ node }) : undefined
    await signaling?.start()
    const dialers: PathDialer[] = [
      ...(useRelay ? [relayDialer(node)] : []),
      ...(signaling === undefined ? [] : [createWebRTCPathDialer({ signaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)]),
      ...(libp2pWebRTCDialer === undefined ? [] : [libp2pWebRTCDialer(node, { dialTimeout: 10_000 })])
    ]
    const receiver = createReceiver({ node, dialers }, { dialTimeout: 15_000 })
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
