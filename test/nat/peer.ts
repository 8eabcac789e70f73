/**
 * One peer of the NAT lab, run inside a home namespace:
 *   node --conditions=source --import tsx peer.ts '<json settings>'
 *
 * - `share`: makes a random file, shares it, announces it on the node's DHT,
 *   answers WebRTC offers, prints `{"ready":true,"cid":…}` and serves until
 *   SIGTERM.
 * - `fetch`: finds the providers of `cid` on the DHT, races the paths in
 *   `paths` (default relay and direct WebRTC), prints the fetch result as one
 *   JSON line and exits.
 *
 * Signaling: `hybrid` (libp2p through the relay first, the node's WebSocket
 * server second) or `websocket` (the node's WebSocket server only).
 */
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDiscovery, createNode, relayAddresses, waitForRelayReservation } from '@chiral/core'
import { createHybridSignaling, createLibp2pSignaling, createWebSocketSignaling } from '@chiral/signaling'
import {
  createProvider, createReceiver, createWebRTCListener, createWebRTCPathDialer, NodeRTCPeerConnection, relayDialer, TRANSFER_PROTOCOL
} from '@chiral/transport'
import { generateKeyPair } from '@libp2p/crypto/keys'
import WebSocket from 'ws'
import type { Signaling } from '@chiral/core'
import type { WebSocketConstructor } from '@chiral/signaling'

interface Settings {
  role: 'share' | 'fetch'
  relay: string
  signalingUrl: string
  stun: string
  signaling: 'hybrid' | 'websocket'
  sizeMiB?: number
  cid?: string
  /** Paths the fetcher may use (default both). */
  paths?: Array<'relay' | 'webrtc'>
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings
const paths = settings.paths ?? ['relay', 'webrtc']
const rtc = { iceServers: [{ urls: settings.stun }], connectTimeout: 8000 }
const privateKey = await generateKeyPair('Ed25519')
const node = await createNode({ role: 'peer', privateKey, listen: ['/p2p-circuit'], relays: [settings.relay], allowPrivateAddresses: true })
await node.start()
await waitForRelayReservation(node, { signal: AbortSignal.timeout(15_000) })

const ws = createWebSocketSignaling({ url: settings.signalingUrl, privateKey, WebSocket: WebSocket as unknown as WebSocketConstructor })
const signaling: Signaling = settings.signaling === 'websocket'
  ? ws
  : createHybridSignaling({ libp2p: createLibp2pSignaling({ node }), websocket: ws })
await signaling.start()
const routes = new Set<string>()
const t0 = Date.now()
signaling.addEventListener('signal', (e) => {
  routes.add(e.detail.route)
  if (process.env.CHIRAL_NAT_TRACE === '1') process.stderr.write(`[${settings.role} +${Date.now() - t0}ms] got ${e.detail.message.type} via ${e.detail.route}${e.detail.message.type === 'candidate' ? ' ' + String(e.detail.message.candidate?.candidate) : ''}\n`)
})
if (process.env.CHIRAL_NAT_TRACE === '1') {
  const send = signaling.send.bind(signaling)
  signaling.send = async (to, message, options) => {
    const at = Date.now()
    const route = await send(to, message, options)
    process.stderr.write(`[${settings.role} +${at - t0}ms] sent ${message.type} via ${route} in ${Date.now() - at} ms\n`)
    return route
  }
}

const discovery = createDiscovery(node)
await discovery.start()

if (settings.role === 'share') {
  const provider = createProvider({ node })
  await provider.start()
  const listener = createWebRTCListener({ signaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)
  listener.handle(TRANSFER_PROTOCOL, (channel) => { void provider.serve(channel).catch(() => {}) })
  await listener.start()
  const dir = mkdtempSync(join(tmpdir(), 'chiral-nat-share-'))
  const data = randomFillSync(Buffer.alloc((settings.sizeMiB ?? 32) * 1024 * 1024))
  writeFileSync(join(dir, 'lab.bin'), data)
  const manifest = await provider.share(join(dir, 'lab.bin'), { name: 'lab.bin' })
  await discovery.announce(manifest.cid, { signal: AbortSignal.timeout(20_000) })
  console.log(JSON.stringify({
    ready: true,
    cid: manifest.cid.toString(),
    peerId: node.peerId.toString(),
    sha256: createHash('sha256').update(data).digest('hex'),
    relayAddresses: relayAddresses(node).map(String)
  }))
  await new Promise<void>((resolve) => { process.once('SIGTERM', () => { resolve() }) })
  await listener.stop()
  await provider.stop()
} else {
  const receiver = createReceiver({
    node,
    discovery,
    dialers: [
      ...(paths.includes('relay') ? [relayDialer(node)] : []),
      ...(paths.includes('webrtc') ? [createWebRTCPathDialer({ signaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)] : [])
    ]
  }, {})
  await receiver.start()
  const dir = mkdtempSync(join(tmpdir(), 'chiral-nat-fetch-'))
  const started = Date.now()
  const result = await receiver.fetch(settings.cid!, { destination: dir, signal: AbortSignal.timeout(60_000) })
  // Let the WebRTC dial (if still trying) settle so its outcome is reported.
  await new Promise((resolve) => setTimeout(resolve, 100))
  console.log(JSON.stringify({
    method: result.method,
    bytes: result.bytes,
    bytesByMethod: result.bytesByMethod,
    pathReports: result.pathReports,
    switches: result.switches,
    timeToFirstByteMs: result.timeToFirstByteMs,
    durationMs: result.durationMs,
    totalMs: Date.now() - started,
    mbps: Number((result.bytes / 1e6 / (result.durationMs / 1000)).toFixed(1)),
    sha256: createHash('sha256').update(readFileSync(result.path!)).digest('hex'),
    signalingRoutes: [...routes],
    paths
  }))
  await receiver.stop()
}
await discovery.stop()
await signaling.stop()
await node.stop()
process.exit(0)
