/**
 * Race scenarios, run inside a network namespace by race.spec.ts:
 *   node --conditions=source --import tsx scenario.ts <mode> <sizeMiB>
 * One relay/DHT server and two `@chiral/peer` peers (reachable only through
 * the relay) in this process; WebRTC over the namespace's veth, signaled
 * through libp2p.
 * Prints one JSON line with the fetch result.
 *
 * modes: both | no-webrtc | upgrade | downgrade
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer } from '@chiral/peer'
import { startLoopbackRelay } from '../../packages/core/test/support/loopback-relay.js'
import { FilteredSignaling } from './signaling-filter.js'
import type { PeerInit } from '@chiral/peer'

const mode = process.argv[2] ?? 'both'
const sizeMiB = Number(process.argv[3] ?? 64)
const MiB = 1024 * 1024

// upgrade: the relay is capped so a loopback relay cannot finish the file before the late direct path is up.
const { server, relay } = await startLoopbackRelay(mode === 'upgrade' ? { rateLimit: 24 * MiB } : undefined)
const common: PeerInit = { relays: [relay], signalingMode: 'libp2p', iceServers: [], directConnectTimeout: 5000, allowPrivateAddresses: true }
const sharer = createPeer(common)
// The fetcher's signaling may be filtered: no candidates (WebRTC never connects) or late offers.
const fetcher = createPeer({
  ...common,
  receiver: { stallTimeout: 1000 },
  wrapSignaling: (signaling) => mode === 'no-webrtc'
    ? new FilteredSignaling(signaling, { dropCandidates: true })
    : mode === 'upgrade' ? new FilteredSignaling(signaling, { delayOffers: 400 }) : signaling
})
await Promise.all([sharer.start(), fetcher.start()])

const dir = mkdtempSync(join(tmpdir(), 'chiral-race-'))
const file = join(dir, 'source.bin')
const data = randomFillSync(Buffer.alloc(sizeMiB * MiB))
writeFileSync(file, data)
const sha256 = createHash('sha256').update(data).digest('hex')
const shared = await sharer.share(file, { name: 'race.bin', announce: false })

let killedAt: number | undefined
const result = await fetcher.fetch(shared.cid, {
  providers: [sharer.target],
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

await Promise.all([sharer.stop(), fetcher.stop()])
await server.stop()
