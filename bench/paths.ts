/**
 * Path benchmark: every path of a fetch, and the race between them, in one
 * run. Inside a network namespace it creates (and deletes, also on failure),
 * a relay server, a provider and a fetcher each run in their own process
 * (bench/paths-node.ts); for each mode the fetcher is a fresh process that
 * fetches the file once:
 *
 *   relay          the relay path alone (circuit relay v2, libp2p stream)
 *   webrtc         Chiral's WebRTC path alone (own DataChannel, signaled over libp2p)
 *   libp2p-webrtc  libp2p's WebRTC transport alone (/p2p-circuit/webrtc)
 *   race           all of them at once (happy eyeballs, switch at chunk boundaries)
 *
 * and, for reference, a raw node-datachannel DataChannel between two processes
 * (bench/webrtc-datachannel-peer.ts, 256 KiB messages, no protocol). Modes run
 * interleaved, round after round, so machine load hits them alike.
 *
 * Per mode: MB/s (file bytes / time from the fetch call to the verified file),
 * each path's setup ms (dial start to usable channel, from the fetch's path
 * reports), time to first byte (fetch call to the first verified 1 MiB chunk).
 * Goals: direct (webrtc) ≥ 100 MB/s; direct ≥ 1.8 × libp2p-webrtc of the same
 * run; race time to first byte ≤ the fastest single path's + 10 ms.
 *
 *   node --conditions=source --import tsx bench/paths.ts [MiB=256] [rounds=3] [--modes=relay,webrtc,libp2p-webrtc,race] [--race=relay,webrtc,libp2p-webrtc] [--refs=raw,raw-offerer-dtls-client,channel] [--window=N] [--hwm=MiB] [--sink=discard|file] [--verbose]
 *
 * `--race`: the paths raced in mode `race` (default all three).
 * `--window=N`: chunks in flight per channel (receiver setting; default the
 * package's 8). `--hwm=MiB`: the WebRTC channels' send high-water mark
 * (default the package's 4 MiB; low-water mark a quarter of it).
 * `--verbose`: the relay, provider and fetcher processes' stderr goes to
 * ours (with e.g. DEBUG=chiral:* for their logs; never when measuring).
 * `--refs`: raw (default), raw-offerer-dtls-client (raw with Chiral's DTLS
 * roles) and/or channel (Chiral's DataChannel message channel without the
 * transfer protocol); `--refs=` for none. `--sink=file`
 * writes each fetch to disk (default: chunks verified, then dropped).
 * Needs root and iproute2 (prints why and exits 0 otherwise).
 */
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createNetns, netnsSupport, spawnNodeScript } from '../packages/transport/test/support/netns.js'
import { linkChildren } from '../packages/transport/test/support/stdio-signaling.js'
import { evaluate, printReport } from './paths-report.js'
import type { FetchRun } from './paths-node.js'
import type { ModeRuns, ReferenceRun } from './paths-report.js'
import type { Netns } from '../packages/transport/test/support/netns.js'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomFile } from './support/random-file.js'

const MiB = 1024 * 1024
const ALL_MODES = ['relay', 'webrtc', 'libp2p-webrtc', 'race'] as const
const ALL_REFS = ['raw', 'raw-offerer-dtls-client', 'channel'] as const
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const flag = (name: string): string | undefined => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const mib = Number(positional[0] ?? 256)
const rounds = Number(positional[1] ?? 3)
const modes = ALL_MODES.filter((m) => (flag('modes')?.split(',') ?? ALL_MODES).includes(m))
const refs = ALL_REFS.filter((r) => (flag('refs')?.split(',') ?? ['raw']).includes(r))
const sink = flag('sink') === 'file' ? 'file' : 'discard'
const verbose = process.argv.includes('--verbose')
const racePaths = flag('race') ?? 'relay,webrtc,libp2p-webrtc'
const tuning: Record<string, string> = {
  ...(flag('window') === undefined ? {} : { CHIRAL_BENCH_WINDOW: flag('window')! }),
  ...(flag('hwm') === undefined ? {} : { CHIRAL_BENCH_HWM: String(Number(flag('hwm')) * MiB) })
}
const nodeScript = fileURLToPath(new URL('./paths-node.ts', import.meta.url))
const peerScript = fileURLToPath(new URL('./webrtc-datachannel-peer.ts', import.meta.url))

const support = await netnsSupport()
if (!support.ok) {
  console.log(`paths: skipped (${support.reason})`)
  process.exit(0)
}

/** A long-lived child (relay, provider): JSON lines from its stdout, the tail of its stderr. */
interface Child { child: ChildProcessWithoutNullStreams, lines: AsyncIterator<string>, stderr: () => string }

/** Every child still running: killed if this process is interrupted. */
const live = new Set<ChildProcessWithoutNullStreams>()
function track (child: ChildProcessWithoutNullStreams): ChildProcessWithoutNullStreams {
  live.add(child)
  child.once('close', () => { live.delete(child) })
  return child
}

function start (ns: Netns, args: string[], signal: AbortSignal): Child {
  const child = track(spawnNodeScript(ns, nodeScript, { args, signal, env: tuning }))
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000)
    if (verbose) process.stderr.write(chunk.replace(/^(?=.)/gm, `[${args[0] ?? ''} ${args[4] ?? ''}] `))
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  return { child, lines, stderr: () => stderr }
}

async function nextJson<T> (c: Child): Promise<T> {
  for (;;) {
    const { value, done } = await c.lines.next()
    if (done === true) {
      if (c.child.exitCode == null) await new Promise((resolve) => c.child.once('close', resolve))
      throw new Error(`${c.child.spawnargs.slice(-6).join(' ')} ended (code ${String(c.child.exitCode)})\n${c.stderr()}`)
    }
    if (value.startsWith('{')) return JSON.parse(value) as T
  }
}

async function exited (c: Child): Promise<void> {
  if (c.child.exitCode != null || c.child.signalCode != null) return
  await new Promise((resolve) => c.child.once('close', resolve))
}


/** One fetch in a fresh process; a failure is recorded, not thrown. */
async function fetchOnce (ns: Netns, relay: string, target: string, cid: string, mode: string, destination: string): Promise<FetchRun | { mode: string, error: string }> {
  const c = start(ns, ['fetch', relay, target, cid, mode, sink, destination, racePaths], AbortSignal.timeout(240_000))
  try {
    await nextJson(c)
    const run = await nextJson<FetchRun>(c)
    await exited(c)
    return run
  } catch (err) {
    c.child.kill('SIGKILL')
    return { mode, error: (err as Error).message.split('\n').slice(0, 12).join('\n') }
  } finally {
    await rm(destination, { recursive: true, force: true })
  }
}

/**
 * The reference: two processes of bench/webrtc-datachannel-peer.ts, one
 * connection (its setup timed) carrying the file size in 256 KiB messages.
 */
async function reference (ns: Netns, ref: string): Promise<ReferenceRun> {
  const mode = ref === 'channel' ? 'chiral' : ref
  const args = (role: string): string[] => [mode, role, '0', String(mib * MiB)]
  const signal = AbortSignal.timeout(180_000)
  const answerer = track(spawnNodeScript(ns, peerScript, { args: args('answer'), signal }))
  const offerer = track(spawnNodeScript(ns, peerScript, { args: args('offer'), signal }))
  try {
    const results = await linkChildren([{ id: 'answerer', child: answerer }, { id: 'offerer', child: offerer }], (id, line) => {
      if (id === 'answerer' && 'ready' in line) offerer.stdin.write(JSON.stringify({ go: true }) + '\n')
    })
    const setupMs = (results.offerer as { setupMs: number[] }).setupMs[0] ?? NaN
    return { ref, mbPerSecond: (results.answerer as { mbPerSecond: number }).mbPerSecond, setupMs }
  } catch (err) {
    answerer.kill('SIGKILL')
    offerer.kill('SIGKILL')
    return { ref, error: (err as Error).message.split('\n').slice(0, 12).join('\n') }
  }
}

const dir = await mkdtemp(join(tmpdir(), 'chiral-paths-bench-'))
// Interrupted: kill the children and remove the file; the namespace goes with
// the exit hook of createNetns.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    process.exit(130)
  })
}
const children: Child[] = []
let ns: Netns | undefined
const runs: ModeRuns = Object.fromEntries(modes.map((m) => [m, []]))
const references: Record<string, ReferenceRun[]> = Object.fromEntries(refs.map((r) => [r, []]))
let libp2pWebRTC = false
let providerErrors: string[] = []
try {
  const file = await randomFile(join(dir, 'shared.bin'), mib * MiB)
  ns = await createNetns({ prefix: 'chiral-paths' })
  const lifetime = AbortSignal.timeout(3_600_000)
  const relay = start(ns, ['relay'], lifetime)
  children.push(relay)
  const { relay: relayAddr } = await nextJson<{ relay: string }>(relay)
  const provider = start(ns, ['provider', relayAddr, file, '1'], lifetime)
  children.push(provider)
  const ready = await nextJson<{ target: unknown, cid: string, libp2pWebRTC: boolean }>(provider)
  libp2pWebRTC = ready.libp2pWebRTC
  const target = JSON.stringify(ready.target)
  for (let round = 1; round <= rounds; round++) {
    for (const mode of modes) {
      if (mode === 'libp2p-webrtc' && !libp2pWebRTC) continue
      process.stderr.write(`round ${round}/${rounds}: ${mode}…\n`)
      runs[mode]!.push(await fetchOnce(ns, relayAddr, target, ready.cid, mode, join(dir, 'out')))
    }
    for (const ref of refs) {
      process.stderr.write(`round ${round}/${rounds}: reference ${ref}…\n`)
      references[ref]!.push(await reference(ns, ref))
    }
  }
  provider.child.stdin.end()
  providerErrors = (await nextJson<{ errors: string[] }>(provider).catch(() => ({ errors: [] }))).errors
  relay.child.stdin.end()
  await Promise.all([exited(provider), exited(relay)])
  children.length = 0
} finally {
  for (const c of children) c.child.kill('SIGKILL')
  await Promise.all(children.map(exited))
  await ns?.delete()
  await rm(dir, { recursive: true, force: true })
}

const report = evaluate({ mib, rounds, sink, runs, references, libp2pWebRTC, tuning: { window: flag('window') ?? 'default', hwmMiB: flag('hwm') ?? 'default', race: racePaths } })
printReport(report)
if (providerErrors.length > 0) console.log(`provider session errors: ${providerErrors.slice(0, 5).join(' | ')}`)
console.log(JSON.stringify({ bench: 'paths', node: process.version, ...report, providerErrors }))
