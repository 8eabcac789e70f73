/**
 * WebRTC DataChannel benchmark, two processes inside a network namespace it
 * creates (and deletes): setup time and throughput with 256 KiB messages of
 *   - raw node-datachannel, default SDP (the answerer is the DTLS client),
 *   - raw node-datachannel with the offerer as DTLS client (Chiral's fix),
 *   - Chiral's WebRTC path (dialer/listener + DataChannel MessageChannel).
 * Chiral's figure is also given as a ratio to the raw one of the same run.
 *
 *   node --conditions=source --import tsx bench/webrtc-datachannel.ts [MiB=128] [setupTrials=7] [modes=raw,raw-offerer-dtls-client,chiral]
 *
 * Needs root and iproute2 (prints why and exits 0 otherwise).
 */
import { fileURLToPath } from 'node:url'
import { createNetns, netnsSupport, spawnNodeScript } from '../packages/transport/test/support/netns.js'
import { linkChildren } from '../packages/transport/test/support/stdio-signaling.js'
import type { Netns } from '../packages/transport/test/support/netns.js'

const mib = Number(process.argv[2] ?? 128)
const trials = Number(process.argv[3] ?? 7)
const bytes = mib * 1024 * 1024
const peerScript = fileURLToPath(new URL('./webrtc-datachannel-peer.ts', import.meta.url))
const allModes = ['raw', 'raw-offerer-dtls-client', 'chiral'] as const
const modes = process.argv[4] == null ? allModes : allModes.filter(m => process.argv[4]?.split(',').includes(m))

const support = await netnsSupport()
if (!support.ok) {
  console.log(`webrtc-datachannel: skipped (${support.reason})`)
  process.exit(0)
}

interface ModeResult { setupMs: number[], mbPerSecond: number }

async function runMode (ns: Netns, mode: string): Promise<ModeResult> {
  const args = (role: string): string[] => [mode, role, String(trials), String(bytes)]
  const answerer = spawnNodeScript(ns, peerScript, { args: args('answer'), signal: AbortSignal.timeout(300_000) })
  const offerer = spawnNodeScript(ns, peerScript, { args: args('offer'), signal: AbortSignal.timeout(300_000) })
  const results = await linkChildren([{ id: 'answerer', child: answerer }, { id: 'offerer', child: offerer }], (id, line) => {
    if (id === 'answerer' && 'ready' in line) offerer.stdin.write(JSON.stringify({ go: true }) + '\n')
  })
  const off = results.offerer as { setupMs: number[] }
  const ans = results.answerer as { mbPerSecond: number }
  return { setupMs: off.setupMs, mbPerSecond: ans.mbPerSecond }
}

function stats (values: number[]): { median: number, min: number, max: number, over500: number } {
  const sorted = [...values].sort((a, b) => a - b)
  return {
    median: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    over500: values.filter(v => v > 500).length
  }
}

const ns = await createNetns({ prefix: 'chiral-bench' })
const results: Record<string, ModeResult> = {}
try {
  for (const mode of modes) {
    process.stderr.write(`${mode}…\n`)
    results[mode] = await runMode(ns, mode)
  }
} finally {
  await ns.delete()
}

const raw = results.raw?.mbPerSecond ?? NaN
const rows = modes.map((mode) => {
  const r = results[mode]
  const s = stats(r?.setupMs ?? [])
  return {
    mode,
    'MB/s': (r?.mbPerSecond ?? NaN).toFixed(1),
    'vs raw': ((r?.mbPerSecond ?? NaN) / raw).toFixed(2),
    'setup median ms': s.median.toFixed(1),
    'setup min–max ms': `${s.min.toFixed(1)}–${s.max.toFixed(1)}`,
    'setups > 500 ms': `${s.over500}/${r?.setupMs.length ?? 0}`
  }
})
console.log(`WebRTC DataChannel, two processes in a network namespace, ${mib} MiB in 256 KiB messages, ${trials + 1} setups per mode`)
console.table(rows)
console.log(JSON.stringify({ bench: 'webrtc-datachannel', mib, results }))
