/**
 * A race of all three paths (relay, Chiral's WebRTC, libp2p's WebRTC) from
 * one Node peer to another, run inside a network namespace by
 * test/libp2p-webrtc-race.spec.ts:
 *
 *   node --conditions=source --import tsx three-path-race.ts <sizeMiB>
 *
 * One relay server and two peers (reachable only through the relay, both
 * with libp2p's WebRTC transport) in this process. The sharer serves the
 * transfer protocol on its libp2p node (relayed and libp2p WebRTC
 * connections) and on Chiral's WebRTC path (signaled over libp2p). Prints
 * one JSON line: the fetch result, and the fetcher's connections to the
 * sharer at the end.
 */
import { join } from 'node:path'
import { relayAddresses } from '@chiral/core'
import { startLoopbackRelay, startRelayedPeer } from '../../../core/test/support/loopback-relay.js'
import { createLibp2pSignaling } from '@chiral/signaling'
import { TRANSFER_PROTOCOL, createProvider, createReceiver } from '../../src/index.js'
import { methodOfConnection } from '../../src/paths/connection-method.js'
import { libp2pWebRTCDialer } from '../../src/paths/libp2p-webrtc.js'
import { relayDialer } from '../../src/paths/relay.js'
import { createWebRTCListener } from '../../src/paths/webrtc-listener.js'
import { createWebRTCPathDialer } from '../../src/paths/webrtc.js'
import { NodeRTCPeerConnection } from '../../src/webrtc/node-peer-connection.js'
import { randomFile, removeDir, sha256File, tempDir } from './files.js'

export interface ThreePathRaceResult {
  bytes: number
  hashOk: boolean
  method: string
  bytesByMethod: Record<string, number>
  pathReports: Array<{ path: string, status: string, setupMs?: number, error?: string }>
  timeToFirstByteMs?: number
  /** The fetcher's connections to the sharer once the fetch is over. */
  connections: Array<{ method: string, status: string }>
}

const sizeMiB = Number(process.argv[2] ?? 8)
const watchdog = setTimeout(() => {
  process.stderr.write('race did not finish within 80 s\n')
  process.exit(3)
}, 80_000)

const rtc = { iceServers: [], connectTimeout: 10_000 }
const { server, relay } = await startLoopbackRelay()
const sharer = await startRelayedPeer(relay, { webrtc: { iceServers: [] } })
const fetcher = await startRelayedPeer(relay, { webrtc: { iceServers: [] } })
const sharerSignaling = createLibp2pSignaling({ node: sharer })
const fetcherSignaling = createLibp2pSignaling({ node: fetcher })
await sharerSignaling.start()
await fetcherSignaling.start()

const provider = createProvider({ node: sharer })
await provider.start()
const listener = createWebRTCListener({ signaling: sharerSignaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)
listener.handle(TRANSFER_PROTOCOL, (channel) => { void provider.serve(channel).catch(() => {}) })
await listener.start()

const dir = await tempDir('chiral-three-path-race-')
const file = await randomFile(join(dir, 'source.bin'), sizeMiB * 1024 * 1024)
const manifest = await provider.share(file, { name: 'race.bin' })

const receiver = createReceiver({
  node: fetcher,
  dialers: [
    relayDialer(fetcher),
    createWebRTCPathDialer({ signaling: fetcherSignaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc),
    libp2pWebRTCDialer(fetcher, { dialTimeout: 10_000 })
  ]
})
await receiver.start()
const result = await receiver.fetch(manifest.cid, {
  providers: [{ peerId: sharer.peerId.toString(), multiaddrs: relayAddresses(sharer) }],
  destination: join(dir, 'out'),
  signal: AbortSignal.timeout(60_000)
})
const out: ThreePathRaceResult = {
  bytes: result.bytes,
  hashOk: result.path != null && await sha256File(result.path) === await sha256File(file),
  method: result.method,
  bytesByMethod: result.bytesByMethod,
  pathReports: result.pathReports,
  ...(result.timeToFirstByteMs === undefined ? {} : { timeToFirstByteMs: result.timeToFirstByteMs }),
  connections: fetcher.getConnections(sharer.peerId).map((c) => ({ method: methodOfConnection(c), status: c.status }))
}
clearTimeout(watchdog)
await receiver.stop()
await listener.stop()
await provider.stop()
await Promise.all([sharerSignaling.stop(), fetcherSignaling.stop()])
await Promise.all([sharer.stop(), fetcher.stop()])
await server.stop()
await removeDir(dir)
// node-datachannel's threads would keep the process alive: exit once the line is out.
process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0))
