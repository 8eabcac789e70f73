/**
 * Signaling modes benchmark: which way of carrying the direct path's offers
 * sets it up sooner while the relay already carries the file. NAT lab (cone ×
 * cone, the real chiral-node and STUN in `pub`), per WAN profile; the node
 * caps each relayed connection (8 MiB/s) so the fetch lasts while WebRTC
 * comes up. Per round and mode a fresh fetcher races the relay and WebRTC:
 *
 *   websocket  offers, answers and candidates through the node's WebSocket signaling server
 *   hybrid     through libp2p over the relayed connection first, the WebSocket server second
 *
 * Each mode has its own sharer (same signaling as its fetcher, its own file).
 * Reported: the WebRTC path's setup (dial → open DataChannel) and first
 * byte, the relay's first byte, the share WebRTC carried, MB/s; medians, and
 * hybrid ÷ websocket of the same run.
 *
 *   pnpm bench bench/signaling-modes.ts [rounds=5] [--profiles=lan,rtt40,rtt100] [--mib=32]
 *
 * Needs root, iproute2, iptables, coturn and a C compiler for the delay
 * program (npm test's setup installs them); prints why and exits 0 otherwise.
 */
import { createLab, labSupport, PUB_IP, STUN_PORT } from '../test/nat/lab.js'
import { jsonLine, startNode, startPeer } from '../test/nat/lab-processes.js'
import { median, printReport } from './support/report.js'
import type { Lab, WanProfileName } from '../test/nat/lab.js'

const MODES = ['websocket', 'hybrid'] as const
type Mode = typeof MODES[number]
const args = process.argv.slice(2)
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const rounds = Number(args.find((a) => !a.startsWith('--')) ?? 5)
const profiles = flag('profiles')?.split(',') ?? ['lan', 'rtt40', 'rtt100']
const mib = Number(flag('mib') ?? 32)

const support = labSupport()
if (!support.ok) {
  console.log(`signaling-modes: skipped (${support.reason})`)
  console.log(JSON.stringify({ bench: 'signaling-modes', skipped: support.reason }))
  process.exit(0)
}

interface Run {
  error?: string
  webrtcSetupMs?: number
  webrtcFirstByteMs?: number
  relayFirstByteMs?: number
  directShare?: number
  mbps?: number
}
interface Report { path: string, status: string, setupMs?: number, firstByteMs?: number, share?: number }

const results: Record<string, Record<Mode, Run[]>> = {}
let current: Lab | undefined
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void current?.destroy().finally(() => process.exit(130)) })

for (const profile of profiles) {
  results[profile] = { websocket: [], hybrid: [] }
  const lab = current = await createLab({ natA: 'cone', natB: 'cone', wan: profile as WanProfileName })
  try {
    const node = await startNode(lab, { args: ['--relay-rate-limit', '8MiB'] })
    const common = { relay: node.relay, signalingUrl: node.signalingUrl, stun: `stun:${PUB_IP}:${STUN_PORT}` }
    const shared: Record<string, Record<string, any>> = {}
    for (const mode of MODES) {
      const sharer = startPeer(lab, lab.namespaces.ha, { ...common, signaling: mode, role: 'share', sizeMiB: mib })
      shared[mode] = await jsonLine(sharer, (v) => v.ready === true, 60_000, `sharer ${mode}`)
    }
    for (let round = 0; round < rounds; round++) {
      for (const mode of MODES) {
        const fetcher = startPeer(lab, lab.namespaces.hb, { ...common, signaling: mode, role: 'fetch', cid: shared[mode]!.cid, paths: ['relay', 'webrtc'], timeoutMs: 90_000 })
        let run: Run
        try {
          const r = await jsonLine(fetcher, (v) => typeof v.method === 'string' || typeof v.error === 'string', 120_000, `fetch ${mode}`)
          const reports = (r.pathReports ?? []) as Report[]
          const webrtc = reports.find((p) => p.path === 'webrtc')
          const relay = reports.find((p) => p.path === 'relay')
          run = typeof r.error === 'string'
            ? { error: r.error }
            : r.sha256 !== shared[mode]!.sha256
              ? { error: 'hash mismatch' }
              : {
                  ...(webrtc?.status === 'up' || webrtc?.status === 'down' ? { webrtcSetupMs: webrtc.setupMs } : {}),
                  ...(webrtc?.firstByteMs === undefined ? {} : { webrtcFirstByteMs: webrtc.firstByteMs }),
                  ...(relay?.firstByteMs === undefined ? {} : { relayFirstByteMs: relay.firstByteMs }),
                  directShare: webrtc?.share ?? 0,
                  mbps: r.mbps
                }
        } catch (err) {
          run = { error: (err as Error).message.split('\n')[0] ?? 'failed' }
        }
        results[profile]![mode].push(run)
        process.stderr.write(`[signaling-modes] ${profile} ${mode} round ${round + 1}: ${run.error ?? `webrtc up ${String(run.webrtcSetupMs)} ms, first byte ${String(run.webrtcFirstByteMs)} ms, direct ${Math.round(100 * (run.directShare ?? 0))} %, ${String(run.mbps)} MB/s`}\n`)
      }
    }
  } finally {
    await lab.destroy()
    current = undefined
  }
}

const of = (runs: Run[], key: keyof Omit<Run, 'error'>): number => median(runs.flatMap((r) => typeof r[key] === 'number' ? [r[key]] : []))
const fmt = (x: number, digits = 0): string => Number.isFinite(x) ? x.toFixed(digits) : '–'

const summary: Record<string, Record<Mode, Record<string, number>>> = {}
const table = [
  '| profile | mode | WebRTC up, ms | WebRTC first byte, ms | relay first byte, ms | direct share | MB/s | failed |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |'
]
const goals: string[] = []
for (const profile of profiles) {
  summary[profile] = { websocket: {}, hybrid: {} }
  for (const mode of MODES) {
    const runs = results[profile]![mode]
    const s = summary[profile]![mode] = {
      webrtcSetupMs: of(runs, 'webrtcSetupMs'),
      webrtcFirstByteMs: of(runs, 'webrtcFirstByteMs'),
      relayFirstByteMs: of(runs, 'relayFirstByteMs'),
      directShare: of(runs, 'directShare'),
      mbps: of(runs, 'mbps')
    }
    table.push(`| ${profile} | ${mode} | ${fmt(s.webrtcSetupMs)} | ${fmt(s.webrtcFirstByteMs)} | ${fmt(s.relayFirstByteMs)} | ${fmt(100 * s.directShare)} % | ${fmt(s.mbps, 1)} | ${runs.filter((r) => r.error !== undefined).length}/${runs.length} |`)
  }
  const ratio = summary[profile]!.hybrid.webrtcSetupMs! / summary[profile]!.websocket.webrtcSetupMs!
  goals.push(`- \`${profile}\`: hybrid's WebRTC setup ÷ websocket's = ${fmt(ratio, 2)} (medians of the same run): ${Number.isFinite(ratio) ? (ratio > 1 ? 'websocket sets the direct path up sooner' : 'hybrid sets the direct path up sooner') : 'not measured'}`)
}

printReport('signaling-modes', {
  intro: [
    `NAT lab, cone × cone, ${rounds} round(s) per mode, ${mib} MiB, relay capped at 8 MiB/s per relayed connection; relay and WebRTC raced.`,
    'WebRTC up: dial start to open DataChannel; first byte: dial start to the path\'s first chunk byte (medians).'
  ],
  table,
  goals
}, { rounds, mib, summary, results })
