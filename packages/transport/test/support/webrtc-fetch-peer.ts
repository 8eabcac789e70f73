/**
 * One peer of a WebRTC fetch scenario (see fetch-scenario.ts), in its own
 * process so that scenarios can place peers in different network namespaces.
 *
 *   node --conditions=source --import tsx webrtc-fetch-peer.ts '<PeerOptions as JSON>'
 *
 * Path `webrtc` (Chiral's own, signaling over the chosen backend):
 * - `provide`: shares a random file of `size` bytes and answers WebRTC offers
 *   with `WebRTCListener`, serving /chiral/transfer/1.0.0 on each channel.
 *   It serves nothing over libp2p: the only way to the bytes is the
 *   DataChannel. Prints `{"ready":{peerId,multiaddrs,cid,sha256}}`, and
 *   `{"result":…}` once stdin closes.
 * - `fetch`: dials the provider with `WebRTCPathDialer`, fetches `cid` on
 *   that channel alone, prints `{"result":…}` and exits.
 *
 * Path `libp2p-webrtc` (libp2p's WebRTC transport, core's `webrtc` setting):
 * the provider serves the protocol on its libp2p node (relayed connections
 * included); the fetcher dials with `libp2pWebRTCDialer`, which accepts only
 * a WebRTC connection. No signaling backend is used.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createNode, relayAddresses, waitForRelayReservation } from '@chiral/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { TRANSFER_PROTOCOL, createProvider, createReceiver } from '../../src/index.js'
import { libp2pWebRTCDialer } from '../../src/paths/libp2p-webrtc.js'
import { createWebRTCListener } from '../../src/paths/webrtc-listener.js'
import { createWebRTCPathDialer } from '../../src/paths/webrtc.js'
import { NodeRTCPeerConnection } from '../../src/webrtc/node-peer-connection.js'
import { randomFile, sha256File, tempDir } from './files.js'
import { startBackend } from './signaling-backends.js'
import type { RouteCounts, SignalingBackend } from './signaling-backends.js'
import type { WebRTCChannelInfo } from '../../src/paths/webrtc-listener.js'
import type { Signaling } from '@chiral/core'

export interface PeerOptions {
  role: 'provide' | 'fetch'
  /** Default `webrtc`. */
  path?: 'webrtc' | 'libp2p-webrtc'
  backend: SignalingBackend
  /** Relay multiaddr: the node reserves a slot there (needed by the libp2p route). */
  relay?: string
  /** Signaling server URL (websocket and hybrid). */
  url?: string
  /** provide: file size in bytes. */
  size?: number
  /** fetch: the provider's PeerId, its addresses (libp2p-webrtc) and the content id. */
  provider?: string
  multiaddrs?: string[]
  cid?: string
  iceServers?: RTCIceServer[]
  connectTimeout?: number
}

export interface ProviderReady { peerId: string, multiaddrs: string[], cid: string, sha256: string }

export interface ProviderResult {
  channels: WebRTCChannelInfo[]
  sessionErrors: string[]
  served: number
  /** The method of each session the provider served (libp2p sessions included). */
  sessionMethods: string[]
  sent: RouteCounts
  received: RouteCounts
}

export interface FetcherResult {
  setupMs: number
  fetchMs: number
  method: string
  bytesByMethod: Record<string, number>
  bytes: number
  sha256: string
  sent: RouteCounts
  received: RouteCounts
  /** Hybrid only: the route reports of what this peer sent. */
  routes: Array<{ route: string, failed: string[] }>
  /** The multiplexer of each libp2p connection to the provider at the end (`/webrtc` for libp2p's WebRTC). */
  connections: string[]
}

const options = JSON.parse(process.argv[2] ?? '{}') as PeerOptions
const watchdog = setTimeout(() => {
  process.stderr.write('peer did not finish within 100 s\n')
  process.exit(3)
}, 100_000)
const line = (value: unknown): void => { process.stdout.write(JSON.stringify(value) + '\n') }
const dir = await tempDir('chiral-webrtc-fetch-')
const done = async (result: unknown): Promise<void> => {
  clearTimeout(watchdog)
  await rm(dir, { recursive: true, force: true })
  // node-datachannel's threads would keep the process alive: exit once the line is out.
  process.stdout.write(JSON.stringify({ result }) + '\n', () => process.exit(0))
}

const path = options.path ?? 'webrtc'
const init = { iceServers: options.iceServers ?? [], connectTimeout: options.connectTimeout ?? 10_000 }
const privateKey = await generateKeyPair('Ed25519')
const node = await createNode({
  role: 'peer',
  privateKey,
  listen: options.relay == null ? [] : ['/p2p-circuit'],
  relays: options.relay == null ? [] : [options.relay],
  allowPrivateAddresses: true,
  ...(path === 'libp2p-webrtc' ? { webrtc: { iceServers: init.iceServers } } : {})
})
await node.start()
if (options.relay != null) await waitForRelayReservation(node, { signal: AbortSignal.timeout(15_000) })
const backend = path === 'webrtc'
  ? await startBackend(options.backend, { node, privateKey, ...(options.url == null ? {} : { url: options.url }) })
  : undefined
const counts = (): Pick<FetcherResult, 'sent' | 'received' | 'routes'> => ({
  sent: backend?.signaling.sent ?? { websocket: 0, libp2p: 0 },
  received: backend?.signaling.received ?? { websocket: 0, libp2p: 0 },
  routes: backend?.routeReports ?? []
})
const webRTCPath = (): { signaling: Signaling, RTCPeerConnection: typeof NodeRTCPeerConnection } => {
  if (backend == null) throw new Error('no signaling backend')
  return { signaling: backend.signaling, RTCPeerConnection: NodeRTCPeerConnection }
}

try {
  if (options.role === 'provide') {
    const file = await randomFile(join(dir, 'shared.bin'), options.size ?? 1024 * 1024)
    const provider = createProvider(path === 'libp2p-webrtc' ? { node } : {})
    const sessionMethods: string[] = []
    provider.addEventListener('session:open', (e) => { sessionMethods.push(e.detail.method) })
    await provider.start()
    const manifest = await provider.share(file)
    const listener = path === 'webrtc' ? createWebRTCListener(webRTCPath(), init) : undefined
    const channels: WebRTCChannelInfo[] = []
    const sessionErrors: string[] = []
    let served = 0
    listener?.addEventListener('session:error', (e) => { sessionErrors.push(e.detail.error.message) })
    listener?.handle(TRANSFER_PROTOCOL, (channel, info) => {
      channels.push(info)
      provider.serve(channel).then(() => { served++ }, (err: Error) => { sessionErrors.push(err.message) })
    })
    await listener?.start()
    line({ ready: { peerId: node.peerId.toString(), multiaddrs: relayAddresses(node).map(String), cid: manifest.cid.toString(), sha256: await sha256File(file) } satisfies ProviderReady })
    await new Promise<void>((resolve) => { process.stdin.once('end', resolve); process.stdin.resume() })
    await listener?.stop()
    await provider.stop()
    await backend?.signaling.stop()
    await node.stop()
    const { sent, received } = counts()
    await done({ channels, sessionErrors, served, sessionMethods, sent, received } satisfies ProviderResult)
  } else {
    if (options.provider == null || options.cid == null) throw new Error('fetch needs provider and cid')
    const dialer = path === 'webrtc' ? createWebRTCPathDialer(webRTCPath(), init) : libp2pWebRTCDialer(node)
    const receiver = createReceiver()
    await receiver.start()
    const t0 = performance.now()
    const target = { peerId: options.provider, multiaddrs: (options.multiaddrs ?? []).map((a) => multiaddr(a)) }
    const channel = await dialer.dial(target, TRANSFER_PROTOCOL, { signal: AbortSignal.timeout(30_000) })
    const setupMs = performance.now() - t0
    const result = await receiver.fetch(options.cid, { channels: [channel], destination: dir, signal: AbortSignal.timeout(60_000) })
    const fetchMs = performance.now() - t0 - setupMs
    if (result.path == null) throw new Error('no file written')
    const sha256 = await sha256File(result.path)
    const connections = node.getConnections().filter((c) => c.remotePeer.toString() === options.provider).map((c) => c.multiplexer ?? 'none')
    await receiver.stop()
    await backend?.signaling.stop()
    await node.stop()
    await done({
      setupMs, fetchMs, method: result.method, bytesByMethod: result.bytesByMethod, bytes: result.bytes, sha256,
      ...counts(), connections
    } satisfies FetcherResult)
  }
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  await rm(dir, { recursive: true, force: true })
  process.exit(1)
}
