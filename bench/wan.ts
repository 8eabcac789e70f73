/**
 * WAN benchmark: the NAT lab (cone × cone, the real chiral-node and STUN in
 * `pub`) under each link profile (one-way delay and random loss on both
 * routers' WAN side), and per profile every way to fetch one file:
 *
 *   relay      the relay path alone
 *   webrtc     Chiral's WebRTC path alone (one peer connection)
 *   webrtc-x4  four WebRTC paths side by side (four SCTP associations)
 *   dcutr      the hole-punched direct TCP path alone (after the relayed connection)
 *   race       relay + webrtc + dcutr raced, scheduled by measured goodput
 *
 * Modes run interleaved, round after round, each fetch by a fresh fetcher
 * process, so machine load hits them alike. Reported: MB/s from the fetch call
 * to the verified file (median, min–max), the race's bytes per path, and the
 * race against the best single path of the same profile in the same run.
 *
 *   pnpm bench bench/wan.ts [rounds=3] [--profiles=lan,rtt40,…] [--modes=relay,…] [--mib=64] [--loss-mib=16] [--sctp='{"congestionControlModule":2}']
 *
 * Needs root, iproute2, iptables, coturn and a C compiler for the delay
 * program (npm test's setup installs them); prints why and exits 0 otherwise.
 */
import { createLab, labSupport, PUB_IP, STUN_PORT } from '../test/nat/lab.js'
import { jsonLine, startNode, startPeer } from '../test/nat/lab-processes.js'
import { WAN_PROFILES } from '../test/nat/wan/profiles.js'
import { median, printReport } from './support/report.js'
import type { Lab, WanProfileName } from '../test/nat/lab.js'

const MODES: Record<string, string[]> = {
  relay: ['relay'],
  webrtc: ['webrtc'],
  'webrtc-x4': ['webrtc', 'webrtc-2', 'webrtc-3', 'webrtc-4'],
  dcutr: ['dcutr'],
  race: ['relay', 'webrtc', 'dcutr']
}
const args = process.argv.slice(2)
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const rounds = Number(args.find((a) => !a.startsWith('--')) ?? 3)
const profiles = (flag('profiles')?.split(',') ?? WAN_PROFILES.map((p) => p.name))
const modes = (flag('modes')?.split(',') ?? Object.keys(MODES)).filter((m) => MODES[m] !== undefined)
const mib = Number(flag('mib') ?? 64)
const lossMib = Number(flag('loss-mib') ?? 16)
const sctp = flag('sctp') === undefined ? {} : { sctp: JSON.parse(flag('sctp')!) as Record<string, number> }

const support = labSupport()
if (!support.ok) {
  console.log(`wan: skipped (${support.reason})`)
  console.log(JSON.stringify({ bench: 'wan', skipped: support.reason }))
  process.exit(0)
}

interface Run { mbps?: number, error?: string, bytesByMethod?: Record<string, number>, paths?: Array<{ path: string, bytes?: number, goodput?: number, status: string }> }
const results: Record<string, Record<string, Run[]>> = {}
let current: Lab | undefined
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void current?.destroy().finally(() => process.exit(130)) })

for (const profile of profiles) {
  const sizeMiB = profile.includes('loss') ? lossMib : mib
  results[profile] = Object.fromEntries(modes.map((m) => [m, []]))
  const lab = current = await createLab({ natA: 'cone', natB: 'cone', wan: profile as WanProfileName })
  try {
    const node = await startNode(lab)
    const common = { relay: node.relay, signalingUrl: node.signalingUrl, stun: `stun:${PUB_IP}:${STUN_PORT}`, signaling: 'websocket', ...sctp }
    const sharer = startPeer(lab, lab.namespaces.ha, { ...common, role: 'share', sizeMiB, dcutr: true })
    const shared = await jsonLine(sharer, (v) => v.ready === true, 60_000, 'sharer')
    for (let round = 0; round < rounds; round++) {
      for (const mode of modes) {
        const paths = MODES[mode]!
        const fetcher = startPeer(lab, lab.namespaces.hb, { ...common, role: 'fetch', cid: shared.cid, paths, dcutr: paths.includes('dcutr'), timeoutMs: 90_000 })
        let run: Run
        try {
          const r = await jsonLine(fetcher, (v) => typeof v.method === 'string' || typeof v.error === 'string', 120_000, `fetch ${mode}`)
          run = typeof r.error === 'string'
            ? { error: r.error }
            : r.sha256 !== shared.sha256
              ? { error: 'hash mismatch' }
              : { mbps: r.mbps, bytesByMethod: r.bytesByMethod, paths: r.pathReports }
        } catch (err) {
          run = { error: (err as Error).message.split('\n')[0] ?? 'failed' }
        }
        results[profile]![mode]!.push(run)
        process.stderr.write(`[wan] ${profile} ${mode} round ${round + 1}: ${run.mbps ?? run.error} MB/s${run.bytesByMethod === undefined ? '' : ` ${JSON.stringify(run.bytesByMethod)}`}\n`)
      }
    }
  } finally {
    await lab.destroy()
    current = undefined
  }
}

const rates = (runs: Run[]): number[] => runs.flatMap((r) => r.mbps === undefined ? [] : [r.mbps])
const cell = (runs: Run[]): string => {
  const xs = rates(runs)
  const failed = runs.length - xs.length
  if (xs.length === 0) return `failed (${runs[0]?.error ?? '?'})`.slice(0, 60)
  return `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})${failed > 0 ? `, ${failed} failed` : ''}`
}

const summary: Record<string, Record<string, number>> = {}
const table = [
  `| profile | ${modes.join(' | ')} | race ÷ best single | race bytes by path |`,
  `| --- | ${modes.map(() => '---').join(' | ')} | --- | --- |`
]
for (const profile of profiles) {
  const byMode = results[profile]!
  summary[profile] = Object.fromEntries(modes.map((m) => [m, median(rates(byMode[m]!))]))
  const singles = modes.filter((m) => m !== 'race').map((m) => summary[profile]![m]!).filter((x) => Number.isFinite(x))
  const best = singles.length === 0 ? NaN : Math.max(...singles)
  const race = summary[profile]!.race ?? NaN
  const share: Record<string, number> = {}
  for (const run of byMode.race ?? []) for (const [k, v] of Object.entries(run.bytesByMethod ?? {})) share[k] = (share[k] ?? 0) + v
  const total = Object.values(share).reduce((a, b) => a + b, 0)
  const shares = Object.entries(share).map(([k, v]) => `${k} ${Math.round(100 * v / total)} %`).join(', ')
  table.push(`| ${profile} | ${modes.map((m) => cell(byMode[m]!)).join(' | ')} | ${Number.isFinite(race / best) ? (race / best).toFixed(2) : '–'} | ${shares || '–'} |`)
}

const goals: string[] = []
const goal = (what: string, ok: boolean | undefined, detail: string): void => { goals.push(`- ${ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**'}: ${what} — ${detail}`) }
for (const profile of profiles) {
  const s = summary[profile]!
  const singles = modes.filter((m) => m !== 'race').map((m) => s[m]!).filter((x) => Number.isFinite(x))
  if (s.race !== undefined && singles.length > 0) {
    const ratio = s.race / Math.max(...singles)
    goal(`race ≥ 0.9 × best single path at \`${profile}\``, Number.isFinite(ratio) ? ratio >= 0.9 : false, `${ratio.toFixed(2)}×`)
  }
}
const webrtcGoal = (profile: string, min: number): void => {
  const v = summary[profile]?.webrtc
  goal(`direct WebRTC alone ≥ ${min} MB/s at \`${profile}\``, v === undefined ? undefined : Number.isFinite(v) && v >= min, v === undefined || !Number.isFinite(v) ? 'no result' : `${v.toFixed(1)} MB/s`)
}
webrtcGoal('rtt40', 25)
webrtcGoal('rtt100', 10)
webrtcGoal('rtt40-loss1', 3)

printReport('wan', {
  intro: [
    `NAT lab, cone × cone, ${rounds} round(s); file ${mib} MiB (${lossMib} MiB on lossy profiles). MB/s from the fetch call to the verified file,`,
    'median (min–max). Profiles: delay and loss on each router\'s WAN egress (test/nat/wan/profiles.ts); `rttN` ≈ N ms between the homes,',
    'half of it between a home and the relay.'
  ],
  table,
  goals
}, { rounds, mib, lossMib, summary, results })
