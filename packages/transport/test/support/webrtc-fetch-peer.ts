/**
 * One peer of a WebRTC fetch scenario (see fetch-scenario.ts), in its own
 * process so that scenarios can place peers in different network namespaces.
 *
 *   node --conditions=source --import tsx webrtc-fetch-peer.ts '<PeerOptions as JSON>'
 *
 * - `provide`: shares a random file of `size` bytes and answers WebRTC offers
 *   arriving through the chosen signaling backend, serving
 *   /chiral/transfer/1.0.0 on each channel. Prints `{"ready":{peerId,cid,sha256}}`,
 *   and `{"result":…}` once stdin closes.
 * - `fetch`: dials the provider over the WebRTC path, fetches `cid` on that
 *   channel alone, prints `{"result":…}` and exits.
 *
 * The provider serves nothing over libp2p: the only way to the bytes is the
 * WebRTC DataChannel.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createNode, waitForRelayReservation } from '@chiral/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TRANSFER_PROTOCOL, createProvider, createReceiver } from '../../src/index.js'
import { createWebRTCListener } from '../../src/paths/webrtc-listener.js'
import { createWebRTCPathDialer } from '../../src/paths/webrtc.js'
import { NodeRTCPeerConnection } from '../../src/webrtc/node-peer-connection.js'
import { randomFile, sha256File, tempDir } from './files.js'
import { startBackend } from './signaling-backends.js'
import type { RouteCounts, SignalingBackend } from './signaling-backends.js'
import type { WebRTCChannelInfo } from '../../src/paths/webrtc-listener.js'

export interface PeerOptions {
  role: 'provide' | 'fetch'
  backend: SignalingBackend
  /** Relay multiaddr: the node reserves a slot there (needed by the libp2p route). */
  relay?: string
  /** Signaling server URL (websocket and hybrid). */
  url?: string
  /** provide: file size in bytes. */
  size?: number
  /** fetch: the provider's PeerId and the content id. */
  provider?: string
  cid?: string
  iceServers?: RTCIceServer[]
  connectTimeout?: number
}

export interface ProviderReady { peerId: string, cid: string, sha256: string }

export interface ProviderResult {
  channels: WebRTCChannelInfo[]
  sessionErrors: string[]
  served: number
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

const privateKey = await generateKeyPair('Ed25519')
const node = await createNode({
  role: 'peer',
  privateKey,
  listen: options.relay == null ? [] : ['/p2p-circuit'],
  relays: options.relay == null ? [] : [options.relay],
  allowPrivateAddresses: true
})
await node.start()
if (options.relay != null) await waitForRelayReservation(node, { signal: AbortSignal.timeout(15_000) })
const { signaling, routeReports } = await startBackend(options.backend, { node, privateKey, ...(options.url == null ? {} : { url: options.url }) })
const webrtc = { signaling, RTCPeerConnection: NodeRTCPeerConnection }
const init = { iceServers: options.iceServers ?? [], connectTimeout: options.connectTimeout ?? 10_000 }

try {
  if (options.role === 'provide') {
    const file = await randomFile(join(dir, 'shared.bin'), options.size ?? 1024 * 1024)
    const provider = createProvider()
    await provider.start()
    const manifest = await provider.share(file)
    const listener = createWebRTCListener(webrtc, init)
    const channels: WebRTCChannelInfo[] = []
    const sessionErrors: string[] = []
    let served = 0
    listener.addEventListener('session:error', (e) => { sessionErrors.push(e.detail.error.message) })
    listener.handle(TRANSFER_PROTOCOL, (channel, info) => {
      channels.push(info)
      provider.serve(channel).then(() => { served++ }, (err: Error) => { sessionErrors.push(err.message) })
    })
    await listener.start()
    line({ ready: { peerId: node.peerId.toString(), cid: manifest.cid.toString(), sha256: await sha256File(file) } satisfies ProviderReady })
    await new Promise<void>((resolve) => { process.stdin.once('end', resolve); process.stdin.resume() })
    await listener.stop()
    await provider.stop()
    await signaling.stop()
    await node.stop()
    await done({ channels, sessionErrors, served, sent: signaling.sent, received: signaling.received } satisfies ProviderResult)
  } else {
    if (options.provider == null || options.cid == null) throw new Error('fetch needs provider and cid')
    const dialer = createWebRTCPathDialer(webrtc, init)
    const receiver = createReceiver()
    await receiver.start()
    const t0 = performance.now()
    const channel = await dialer.dial({ peerId: options.provider, multiaddrs: [] }, TRANSFER_PROTOCOL, { signal: AbortSignal.timeout(30_000) })
    const setupMs = performance.now() - t0
    const result = await receiver.fetch(options.cid, { channels: [channel], destination: dir, signal: AbortSignal.timeout(60_000) })
    const fetchMs = performance.now() - t0 - setupMs
    if (result.path == null) throw new Error('no file written')
    const sha256 = await sha256File(result.path)
    await receiver.stop()
    await signaling.stop()
    await node.stop()
    await done({
      setupMs, fetchMs, method: result.method, bytesByMethod: result.bytesByMethod, bytes: result.bytes, sha256,
      sent: signaling.sent, received: signaling.received, routes: routeReports
    } satisfies FetcherResult)
  }
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  await rm(dir, { recursive: true, force: true })
  process.exit(1)
}
