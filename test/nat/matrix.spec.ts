import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createLab, labSupport, namespacesWithPrefix, PUB_IP, STUN_PORT } from './lab.js'
import { jsonLine, startNode, startPeer } from './lab-processes.js'
import type { NatKind } from './lab.js'

/**
 * The cross-network proof: for each pair of NAT kinds, peer A (home a) shares
 * a 32 MiB file, peer B (home b) finds it through the DHT on the real
 * chiral-node in `pub` and fetches it with the path race. Direct wherever
 * hole punching can work, relay elsewhere, correct bytes everywhere.
 *
 * `CHIRAL_NAT_REPORT=1` writes the table to docs/nat-matrix.md.
 */
const REPORT = fileURLToPath(new URL('../../docs/nat-matrix.md', import.meta.url))
const SIZE_MIB = 32

interface Cell {
  a: NatKind
  b: NatKind
  signaling: 'hybrid' | 'websocket'
  expect: 'webrtc-direct' | 'relay'
}

// Hole punching works unless one side is symmetric and the other filters by
// endpoint (port-restricted or symmetric): then no mapping the other side can
// learn lets packets in.
const CELLS: Cell[] = [
  { a: 'cone', b: 'cone', signaling: 'hybrid', expect: 'webrtc-direct' },
  { a: 'cone', b: 'port-restricted', signaling: 'hybrid', expect: 'webrtc-direct' },
  { a: 'port-restricted', b: 'port-restricted', signaling: 'hybrid', expect: 'webrtc-direct' },
  { a: 'cone', b: 'symmetric', signaling: 'hybrid', expect: 'webrtc-direct' },
  { a: 'port-restricted', b: 'symmetric', signaling: 'hybrid', expect: 'relay' },
  { a: 'symmetric', b: 'symmetric', signaling: 'hybrid', expect: 'relay' },
  { a: 'cone', b: 'cone', signaling: 'websocket', expect: 'webrtc-direct' }
]

interface Row {
  cell: string
  signaling: string
  expected: string
  method: string
  relayMiB: string
  directMiB: string
  setup: string
  mbps: number
  verified: boolean
  udpDirect: number
}

const support = labSupport()
if (!support.ok) console.warn(`NAT matrix skipped: ${support.reason}`)

describe.skipIf(!support.ok)('NAT lab matrix (real chiral-node, coturn STUN, kernel NAT in network namespaces)', { timeout: 150_000, retry: 1 }, () => {
  const rows: Row[] = []
  const prefixes: string[] = []

  afterAll(() => {
    // Nothing left behind: every namespace of every lab is gone.
    for (const prefix of prefixes) expect(namespacesWithPrefix(prefix)).toEqual([])
    if (process.env.CHIRAL_NAT_REPORT === '1' && rows.length > 0) writeReport(rows)
  })

  // One retry per cell. The node caps each relayed connection at 8 MiB/s, a
  // relay's real-world order of magnitude: uncapped on this LAN the relay can
  // finish the 32 MiB before ICE (≈ 1 s with hybrid signaling) is done, and a
  // direct cell would then show no direct bytes.
  it.each(CELLS)('$a × $b, $signaling signaling → $expect', async (cell) => {
    const lab = await createLab({ natA: cell.a, natB: cell.b })
    prefixes.push(lab.prefix)
    try {
      const node = await startNode(lab, { args: ['--relay-rate-limit', '8MiB'] })
      // The node's announce configuration is what peers get: its public address, nothing local.
      expect(node.multiaddrs.length).toBeGreaterThan(0)
      for (const a of node.multiaddrs) expect(a.startsWith(`/ip4/${PUB_IP}/`)).toBe(true)
      expect(node.signalingUrl).toBe(`ws://${PUB_IP}:9000`)

      const common = { relay: node.relay, signalingUrl: node.signalingUrl, stun: `stun:${PUB_IP}:${STUN_PORT}`, signaling: cell.signaling }
      const sharer = startPeer(lab, lab.namespaces.ha, { ...common, role: 'share', sizeMiB: SIZE_MIB })
      const shared = await jsonLine(sharer, (v) => v.ready === true, 40_000, 'sharer')
      for (const a of shared.relayAddresses as string[]) expect(a, "relay circuit address").toMatch(new RegExp(`^/ip4/${PUB_IP.replace(/\./g, "\\.")}/tcp/400[12]/`))

      const fetcher = startPeer(lab, lab.namespaces.hb, { ...common, role: 'fetch', cid: shared.cid })
      const r = await jsonLine(fetcher, (v) => typeof v.method === 'string', 60_000, 'fetcher')
      const udp = await lab.udpToPeerRouter('a') + await lab.udpToPeerRouter('b')
      const setup = (r.pathReports as Array<{ path: string, setupMs?: number, status: string }>)
        .map((p) => `${p.path} ${p.status === 'up' || p.status === 'down' ? `${String(p.setupMs)} ms` : p.status === 'dialing' ? 'not up when done' : 'failed'}`).join(', ')
      // A retried cell replaces its earlier row.
      const label = `${cell.a} × ${cell.b}`
      const earlier = rows.findIndex((x) => x.cell === label && x.signaling.startsWith(cell.signaling === 'websocket' ? 'WebSocket' : 'hybrid'))
      if (earlier >= 0) rows.splice(earlier, 1)
      rows.push({
        cell: `${cell.a} × ${cell.b}`,
        signaling: cell.signaling === 'websocket' ? 'WebSocket server only' : 'hybrid (libp2p, WebSocket)',
        expected: cell.expect,
        method: r.method,
        relayMiB: ((r.bytesByMethod.relay ?? 0) / 2 ** 20).toFixed(1),
        directMiB: ((r.bytesByMethod['webrtc-direct'] ?? 0) / 2 ** 20).toFixed(1),
        setup,
        mbps: r.mbps,
        verified: r.sha256 === shared.sha256,
        udpDirect: udp
      })
      const row = rows.at(-1)!
      console.log(`nat ${row.cell} (${cell.signaling}): ${row.method}, relay ${row.relayMiB} MiB, direct ${row.directMiB} MiB, ${row.setup}, ${row.mbps} MB/s, UDP A↔B ${row.udpDirect}`)
      expect(r.sha256).toBe(shared.sha256)
      expect(r.bytes).toBe(SIZE_MIB * 2 ** 20)
      if (cell.expect === 'webrtc-direct') {
        // Hole punching worked: the direct path came up and carried a real part of the file
        // (how much is the selector's call, from what each path measured).
        expect(udp).toBeGreaterThan(0) // the UDP really went router to router
        // (A 32 MiB file can be half done on the relay before ICE connects with libp2p-first signaling.)
        expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBeGreaterThan(0)
        const top = Object.entries(r.bytesByMethod as Record<string, number>).sort((x, y) => y[1] - x[1])[0]![0]
        expect(r.method).toBe(top)
      } else {
        expect(r.method).toBe('relay')
        expect(r.bytesByMethod['webrtc-direct'] ?? 0).toBe(0)
      }
      if (cell.signaling === 'websocket') expect(r.signalingRoutes).toEqual(['websocket'])
    } finally {
      await lab.destroy()
      expect(lab.liveProcesses()).toBe(0)
      expect(namespacesWithPrefix(lab.prefix)).toEqual([])
    }
  })
})

function writeReport (rows: Row[]): void {
  const lines = [
    '# NAT lab matrix',
    '',
    `Written by \`CHIRAL_NAT_REPORT=1 npx vitest run test/nat\` on ${new Date().toISOString().slice(0, 10)}.`,
    `Each cell: a fresh lab (network namespaces, kernel NAT with iptables, coturn STUN, the real chiral-node),`,
    `peer A shares ${SIZE_MIB} MiB, peer B finds it on the DHT and fetches it with the path race (relay + direct WebRTC).`,
    '"UDP A↔B" counts UDP packets the routers forwarded straight to the other router (proof of a direct path).',
    '',
    '| NATs (A × B) | signaling | expected | method | relay MiB | direct MiB | path setup | MB/s | verified | UDP A↔B |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.cell} | ${r.signaling} | ${r.expected} | ${r.method} | ${r.relayMiB} | ${r.directMiB} | ${r.setup} | ${r.mbps} | ${r.verified ? 'yes' : 'NO'} | ${r.udpDirect} |`),
    '',
    'NAT kinds: `cone` = endpoint-independent mapping and filtering (full cone); `port-restricted` =',
    'endpoint-independent mapping, replies only; `symmetric` = a new random port per destination',
    '(`MASQUERADE --random-fully`), replies only. See test/nat/lab.ts.',
    ''
  ]
  writeFileSync(REPORT, lines.join('\n'))
}
