/**
 * Summaries, goals and the printed table of the path benchmark (paths.ts).
 */
import type { FetchRun } from './paths-node.js'
import { median } from './support/report.js'

export type FailedRun = { mode: string, error: string }
export type ModeRuns = Record<string, Array<FetchRun | FailedRun>>
export type ReferenceRun = { ref: string, mbPerSecond: number, setupMs: number } | { ref: string, error: string }

export interface ReportInput {
  mib: number
  rounds: number
  sink: string
  runs: ModeRuns
  references: Record<string, ReferenceRun[]>
  /** Whether the provider's node listened on libp2p WebRTC. */
  libp2pWebRTC: boolean
  /** Settings the run changed (window, high-water mark) and the raced paths. */
  tuning: Record<string, string>
}

export interface ModeSummary {
  runs: number
  failed: number
  errors: string[]
  /** File bytes / (fetch call → verified file), per successful run. */
  mbPerSecond: number[]
  medianMBps: number
  /** File bytes / (first verified chunk → verified file): the rate once data flows. */
  afterFirstByteMBps: number[]
  ttfbMs: number[]
  medianTtfbMs: number
  /** Setup time of each path, ms, per run (from the fetch's path reports). */
  setupMs: Record<string, number[]>
  medianSetupMs: Record<string, number>
  /** Status of each path per run (up, down, failed, dialing). */
  pathStatus: Record<string, string[]>
  /** Why paths failed or went down (`path: error` → count). */
  pathErrors: Record<string, number>
  /** Max message size of each path's channel, bytes (the provider's messages are at most this). */
  maxMessageSize: Record<string, number[]>
  /** The fetcher process's CPU time during the fetch, ms, per run. */
  fetcherCpuMs: number[]
  /** Share of chunk bytes per path, per run. */
  shareByPath: Array<Record<string, number>>
  switches: string[]
}

export interface Goal {
  goal: string
  value: number | null
  target: number | null
  /** null: could not be measured in this run. */
  met: boolean | null
  detail: string
}

export interface Report {
  mib: number
  rounds: number
  sink: string
  libp2pWebRTC: 'available' | 'not available'
  tuning: Record<string, string>
  modes: Record<string, ModeSummary>
  references: Record<string, { mbPerSecond: number[], medianMBps: number, setupMs: number[], errors: string[] }>
  goals: Goal[]
}

export { median }
const round1 = (x: number): number => Number(x.toFixed(1))
const isRun = (r: FetchRun | FailedRun): r is FetchRun => !('error' in r)
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000)

function summarise (runs: Array<FetchRun | FailedRun>): ModeSummary {
  const ok = runs.filter(isRun)
  const setupMs: Record<string, number[]> = {}
  const pathStatus: Record<string, string[]> = {}
  const pathErrors: Record<string, number> = {}
  for (const run of ok) {
    for (const p of run.pathReports) {
      if (p.error !== undefined) {
        const key = `${p.path} ${p.status}: ${p.error.slice(0, 500)}`
        pathErrors[key] = (pathErrors[key] ?? 0) + 1
      }
      if (p.setupMs !== undefined && (p.status === 'up' || p.status === 'down')) (setupMs[p.path] ??= []).push(p.setupMs)
      ;(pathStatus[p.path] ??= []).push(p.status)
    }
  }
  const ttfbMs = ok.flatMap((r) => r.timeToFirstByteMs === undefined ? [] : [r.timeToFirstByteMs])
  const mbPerSecond = ok.map((r) => round1(mbps(r.bytes, r.ms)))
  return {
    runs: runs.length,
    failed: runs.length - ok.length,
    errors: runs.filter((r): r is FailedRun => !isRun(r)).map((r) => r.error),
    mbPerSecond,
    medianMBps: round1(median(mbPerSecond)),
    afterFirstByteMBps: ok.map((r) => round1(mbps(r.bytes, r.ms - (r.timeToFirstByteMs ?? 0)))),
    ttfbMs,
    medianTtfbMs: median(ttfbMs),
    setupMs,
    medianSetupMs: Object.fromEntries(Object.entries(setupMs).map(([k, v]) => [k, median(v)])),
    pathStatus,
    pathErrors,
    maxMessageSize: ok.reduce<Record<string, number[]>>((acc, r) => {
      for (const [p, v] of Object.entries(r.maxMessageSize)) (acc[p] ??= []).push(v)
      return acc
    }, {}),
    fetcherCpuMs: ok.map((r) => Math.round(r.cpuMs)),
    shareByPath: ok.map((r) => {
      const total = Object.values(r.bytesByPath).reduce((a, b) => a + b, 0)
      return Object.fromEntries(Object.entries(r.bytesByPath).map(([k, v]) => [k, Number((v / total).toFixed(3))]))
    }),
    switches: ok.map((r) => r.switches.map((s) => `${s.to}@${(s.atBytes / 2 ** 20).toFixed(0)}MiB`).join('→'))
  }
}

/** Per-round ratios a[i] / b[i] of two modes' successful runs of the same round. */
function roundRatios (a: Array<FetchRun | FailedRun>, b: Array<FetchRun | FailedRun>): number[] {
  const out: number[] = []
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!
    const y = b[i]!
    if (isRun(x) && isRun(y)) out.push(mbps(x.bytes, x.ms) / mbps(y.bytes, y.ms))
  }
  return out
}

export function evaluate (input: ReportInput): Report {
  const modes = Object.fromEntries(Object.entries(input.runs).map(([m, runs]) => [m, summarise(runs)]))
  const references = Object.fromEntries(Object.entries(input.references).map(([ref, runs]) => {
    const ok = runs.filter((r): r is Extract<ReferenceRun, { mbPerSecond: number }> => !('error' in r))
    const mbPerSecond = ok.map((r) => round1(r.mbPerSecond))
    return [ref, { mbPerSecond, medianMBps: round1(median(mbPerSecond)), setupMs: ok.map((r) => round1(r.setupMs)), errors: runs.flatMap((r) => 'error' in r ? [r.error] : []) }]
  }))
  const goals: Goal[] = []

  const direct = modes.webrtc
  if (direct !== undefined) {
    const v = direct.medianMBps
    goals.push({
      goal: 'direct (webrtc) ≥ 100 MB/s',
      value: Number.isNaN(v) ? null : v,
      target: 100,
      met: Number.isNaN(v) ? null : v >= 100,
      detail: Number.isNaN(v) ? 'no successful webrtc run' : v >= 100 ? `${v} MB/s` : `${v} MB/s: short by ${round1(100 - v)} MB/s (${((1 - v / 100) * 100).toFixed(0)}%)`
    })
  }
  if (direct !== undefined) {
    const libp2p = input.runs['libp2p-webrtc']
    if (!input.libp2pWebRTC || libp2p === undefined || libp2p.filter(isRun).length === 0) {
      goals.push({
        goal: 'direct ≥ 1.8 × libp2p-webrtc',
        value: null,
        target: 1.8,
        met: null,
        detail: !input.libp2pWebRTC
          ? 'libp2p-webrtc not available in this checkout'
          : libp2p === undefined ? 'libp2p-webrtc not measured in this run' : 'no successful libp2p-webrtc run'
      })
    } else {
      const ratios = roundRatios(input.runs.webrtc ?? [], libp2p)
      const r = median(ratios)
      goals.push({
        goal: 'direct ≥ 1.8 × libp2p-webrtc',
        value: Number.isNaN(r) ? null : Number(r.toFixed(2)),
        target: 1.8,
        met: Number.isNaN(r) ? null : r >= 1.8,
        detail: `per round ${ratios.map((x) => x.toFixed(2)).join(' ')}` + (r >= 1.8 ? '' : `; short by ${(1.8 - r).toFixed(2)}× (${((1 - r / 1.8) * 100).toFixed(0)}%)`)
      })
    }
  }
  const race = modes.race
  const singles = Object.entries(modes).filter(([m, s]) => m !== 'race' && !Number.isNaN(s.medianTtfbMs))
  if (race !== undefined && singles.length > 0) {
    const [fastest, best] = singles.reduce((a, b) => b[1].medianTtfbMs < a[1].medianTtfbMs ? b : a)
    const limit = best.medianTtfbMs + 10
    const v = race.medianTtfbMs
    goals.push({
      goal: 'race TTFB ≤ fastest single path TTFB + 10 ms',
      value: Number.isNaN(v) ? null : v,
      target: limit,
      met: Number.isNaN(v) ? null : v <= limit,
      detail: `race ${v} ms vs ${fastest} ${best.medianTtfbMs} ms + 10 (medians)` + (v <= limit ? '' : `; over by ${round1(v - limit)} ms`)
    })
  }
  const ratioGoal = (goal: string, a: ModeSummary | undefined, b: number | undefined, target: number): void => {
    if (a === undefined || b === undefined) return
    const r = a.medianMBps / b
    goals.push({
      goal,
      value: Number.isFinite(r) ? Number(r.toFixed(2)) : null,
      target,
      met: Number.isFinite(r) ? r >= target : null,
      detail: `${a.medianMBps} vs ${round1(b)} MB/s (medians of the same run)`
    })
  }
  ratioGoal('race ≥ 0.9 × relay alone (LAN)', race, modes.relay?.medianMBps, 0.9)
  ratioGoal('own webrtc ≥ 0.95 × raw DataChannel of the same run', direct, references.raw?.medianMBps, 0.95)
  return {
    mib: input.mib,
    rounds: input.rounds,
    sink: input.sink,
    libp2pWebRTC: input.libp2pWebRTC ? 'available' : 'not available',
    tuning: input.tuning,
    modes,
    references,
    goals
  }
}

const REFERENCE_NAMES: Record<string, string> = {
  raw: 'raw DataChannel',
  'raw-offerer-dtls-client': 'raw DataChannel, offerer DTLS client',
  channel: 'Chiral DataChannel channel'
}

const list = (xs: number[], digits = 0): string => xs.map((x) => x.toFixed(digits)).join(' ')

export function printReport (report: Report): void {
  console.log(`Paths: relay server, provider and fetcher in separate processes in a network namespace; ${report.mib} MiB, ` +
    `${report.rounds} round(s), fresh fetcher process per fetch, chunks ${report.sink === 'file' ? 'written to disk' : 'verified then dropped'}; ` +
    `libp2p-webrtc ${report.libp2pWebRTC}; ` +
    `window ${report.tuning.window ?? 'default'}, WebRTC high-water MiB ${report.tuning.hwmMiB ?? 'default'}, race of ${report.tuning.race ?? 'all paths'}`)
  const rows: Array<Record<string, string>> = []
  for (const [mode, s] of Object.entries(report.modes)) {
    rows.push({
      mode,
      'MB/s (median)': s.medianMBps.toFixed(1),
      'MB/s per round': list(s.mbPerSecond, 1),
      'MB/s after 1st byte': list(s.afterFirstByteMBps, 1),
      'TTFB ms (median; per round)': s.ttfbMs.length === 0 ? '' : `${s.medianTtfbMs.toFixed(0)}; ${list(s.ttfbMs)}`,
      'setup ms per path (median)': Object.entries(s.medianSetupMs).map(([p, v]) => `${p} ${v.toFixed(0)}`).join(', '),
      'max msg KiB': Object.entries(s.maxMessageSize).map(([p, v]) => `${p} ${[...new Set(v.map((x) => x / 1024))].join('/')}`).join(', '),
      'fetcher CPU s': list(s.fetcherCpuMs.map((ms) => ms / 1000), 1),
      'bytes by path': s.shareByPath.map((share) => Object.entries(share).map(([p, v]) => `${p} ${(v * 100).toFixed(0)}%`).join('+')).join(' | '),
      failed: `${s.failed}/${s.runs}`
    })
  }
  for (const [ref, r] of Object.entries(report.references)) {
    rows.push({
      mode: `reference: ${REFERENCE_NAMES[ref] ?? ref} (256 KiB msgs, no protocol)`,
      'MB/s (median)': r.medianMBps.toFixed(1),
      'MB/s per round': list(r.mbPerSecond, 1),
      'MB/s after 1st byte': '',
      'TTFB ms (median; per round)': '',
      'setup ms per path (median)': `connection ${median(r.setupMs).toFixed(0)}`,
      'max msg KiB': '256',
      'fetcher CPU s': '',
      'bytes by path': '',
      failed: `${r.errors.length}/${r.mbPerSecond.length + r.errors.length}`
    })
  }
  console.table(rows)
  const race = report.modes.race
  if (race !== undefined && race.switches.some((s) => s !== '')) console.log(`race switches per round: ${race.switches.join(' | ')}`)
  const raw = report.references.raw
  const direct = report.modes.webrtc
  if (raw !== undefined && direct !== undefined) {
    console.log(`webrtc / raw DataChannel of the same run: ${(direct.medianMBps / raw.medianMBps).toFixed(2)}`)
  }
  console.table(report.goals.map((g) => ({ goal: g.goal, met: g.met === null ? 'n/a' : g.met ? 'yes' : 'NO', detail: g.detail })))
  for (const [mode, s] of Object.entries(report.modes)) {
    for (const e of s.errors) console.log(`${mode} failed: ${e.split('\n').slice(0, 4).join(' / ')}`)
    for (const [e, n] of Object.entries(s.pathErrors)) console.log(`${mode}: path ${e} (${n}×)`)
  }
  for (const [ref, r] of Object.entries(report.references)) {
    for (const e of r.errors) console.log(`reference ${ref} failed: ${e.split('\n').slice(0, 4).join(' / ')}`)
  }
}
