/**
 * Race scenarios, run inside a network namespace by race.spec.ts:
 *   node --conditions=source --import tsx scenario.ts <mode> <sizeMiB>
 * One relay/DHT server and two peers (reachable only through the relay) in
 * this process; WebRTC over the namespace's veth, signaled through libp2p.
 * Prints one JSON line with the fetch result.
 *
 * modes: both | no-webrtc | upgrade | downgrade
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { relayAddresses } from '@chiral/core'
import { startLoopbackRelay, startRelayedPeer } from '../../packages/core/test/support/loopback-relay.js'
import { createLibp2pSignaling } from '@chiral/signaling'
import {
  createProvider, createReceiver, createWebRTCListener, createWebRTCPathDialer, NodeRTCPeerConnection, relayDialer, TRANSFER_PROTOCOL
} from '@chiral/transport'
import { FilteredSignaling } from './signaling-filter.js'
import type { Signaling } from '@chiral/core'

const mode = process.argv[2] ?? 'both'
const sizeMiB = Number(process.argv[3] ?? 64)
const MiB = 1024 * 1024

const { server, relay } = await startLoopbackRelay()
const sharer = await startRelayedPeer(relay)
const fetcher = await startRelayedPeer(relay)

// Signaling over libp2p (through the relay); the fetcher's may be filtered.
const sharerSignaling = createLibp2pSignaling({ node: sharer })
const fetcherLibp2pSignaling = createLibp2pSignaling({ node: fetcher })
const fetcherSignaling: Signaling = mode === 'no-webrtc'
  ? new FilteredSignaling(fetcherLibp2pSignaling, { dropCandidates: true })
  : mode === 'upgrade'
    ? new FilteredSignaling(fetcherLibp2pSignaling, { delayOffers: 400 })
    : fetcherLibp2pSignaling
await sharerSignaling.start()
await fetcherSignaling.start()

const rtc = { iceServers: [], connectTimeout: 5000 }
const provider = createProvider({ node: sharer })
await provider.start()
const listener = createWebRTCListener({ signaling: sharerSignaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)
listener.handle(TRANSFER_PROTOCOL, (channel) => { void provider.serve(channel).catch(() => {}) })
await listener.start()

const dir = mkdtempSync(join(tmpdir(), 'chiral-race-'))
const file = join(dir, 'source.bin')
const data = randomFillSync(Buffer.alloc(sizeMiB * MiB))
writeFileSync(file, data)
const sha256 = createHash('sha256').update(data).digest('hex')
const manifest = await provider.share(file, { name: 'race.bin' })

const receiver = createReceiver({
  node: fetcher,
  dialers: [relayDialer(fetcher), createWebRTCPathDialer({ signaling: fetcherSignaling, RTCPeerConnection: NodeRTCPeerConnection }, rtc)]
}, { stallTimeout: 1000 })
await receiver.start()

let killedAt: number | undefined
const result = await receiver.fetch(manifest.cid, {
  providers: [{ peerId: sharer.peerId.toString(), multiaddrs: relayAddresses(sharer) }],
  destination: join(dir, 'out'),
  signal: AbortSignal.timeout(60_000),
  onProgress: (p) => {
    // downgrade: once direct carries data, cut UDP (WebRTC) in this namespace.
    if (mode === 'downgrade' && killedAt === undefined && p.method === 'webrtc-direct' && p.bytes > p.total / 4) {
      killedAt = p.bytes
      execFileSync('iptables', ['-w', '-I', 'INPUT', '-p', 'udp', '-j', 'DROP'])
      execFileSync('iptables', ['-w', '-I', 'OUTPUT', '-p', 'udp', '-j', 'DROP'])
    }
  }
})
const received = createHash('sha256').update(readFileSync(result.path!)).digest('hex')

console.log(JSON.stringify({
  mode,
  bytes: result.bytes,
  hashOk: received === sha256,
  method: result.method,
  bytesByMethod: result.bytesByMethod,
  pathReports: result.pathReports,
  switches: result.switches,
  timeToFirstByteMs: result.timeToFirstByteMs,
  durationMs: result.durationMs,
  killedAt
}))

await receiver.stop()
await listener.stop()
await provider.stop()
await Promise.all([sharerSignaling.stop(), fetcherSignaling.stop()])
await Promise.all([sharer.stop(), fetcher.stop()])
await server.stop()
process.exit(0)
