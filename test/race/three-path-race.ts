/**
 * A race of all three paths (relay, Chiral's WebRTC, libp2p's WebRTC) from
 * one Node peer to another, run inside a network namespace by
 * three-path-race.spec.ts:
 *
 *   node --conditions=source --import tsx three-path-race.ts <sizeMiB>
 *
 * One relay server and two `@chiral/peer` peers (reachable only through the
 * relay; asking for the libp2p-webrtc path gives them libp2p's WebRTC
 * transport) in this process. The sharer serves the transfer protocol on its
 * libp2p node (relayed and libp2p WebRTC connections) and on Chiral's WebRTC
 * path (signaled over libp2p). Prints
 * one JSON line: the fetch result, and the fetcher's connections to the
 * sharer at the end.
 */
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer } from '@chiral/peer'
import { methodOfConnection } from '@chiral/transport'
import { startLoopbackRelay } from '../../packages/core/test/support/loopback-relay.js'
import type { PeerInit } from '@chiral/peer'

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

const { server, relay } = await startLoopbackRelay()
const common: PeerInit = {
  relays: [relay],
  signalingMode: 'libp2p',
  iceServers: [],
  allowPrivateAddresses: true,
  paths: ['relay', 'webrtc', 'libp2p-webrtc']
}
const sharer = createPeer(common)
const fetcher = createPeer(common)
await Promise.all([sharer.start(), fetcher.start()])

const dir = mkdtempSync(join(tmpdir(), 'chiral-three-path-race-'))
const file = join(dir, 'source.bin')
const data = randomFillSync(Buffer.alloc(sizeMiB * 1024 * 1024))
writeFileSync(file, data)
const shared = await sharer.share(file, { name: 'race.bin', announce: false })
const result = await fetcher.fetch(shared.cid, {
  providers: [sharer.target],
  destination: join(dir, 'out'),
  signal: AbortSignal.timeout(60_000)
})
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const out: ThreePathRaceResult = {
  bytes: result.bytes,
  hashOk: result.path != null && sha256(readFileSync(result.path)) === sha256(data),
  method: result.method,
  bytesByMethod: result.bytesByMethod,
  pathReports: result.pathReports,
  ...(result.timeToFirstByteMs === undefined ? {} : { timeToFirstByteMs: result.timeToFirstByteMs }),
  connections: fetcher.components.node.getConnections().filter((c) => c.remotePeer.toString() === sharer.peerId).map((c) => ({ method: methodOfConnection(c), status: c.status }))
}
clearTimeout(watchdog)
await Promise.all([sharer.stop(), fetcher.stop()])
await server.stop()
rmSync(dir, { recursive: true, force: true })
process.stdout.write(JSON.stringify(out) + '\n')
