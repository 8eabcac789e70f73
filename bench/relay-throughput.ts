/**
 * Relay path benchmark, every node in its own process on 127.0.0.1
 * (relay server, provider, receiver):
 *
 * 1. Throughput, <MiB> (default 256) over the relay path, in the same run:
 *    - bare: raw bytes read from the provider's disk and sent on a plain
 *      libp2p stream over a relayed connection; the receiver counts them;
 *    - protocol: /chiral/transfer/1.0.0 (manifest, windowed chunk requests,
 *      framing, SHA-256 of every chunk), verified chunks dropped;
 *    - to disk: the same, written to a .part file and renamed.
 *    Reports protocol / bare (goal ≥ 0.9) and to-disk / bare per round and
 *    their medians.
 * 2. Memory: the receiver's peak RSS fetching a 64 MiB and a <rssMiB>
 *    (default 1024) file, each in a fresh process (goal: no growth with size).
 *
 *   node --conditions=source --import tsx bench/relay-throughput.ts [MiB=256] [rssMiB=1024] [rounds=3]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { randomFile } from './support/random-file.js'
import { median } from './support/report.js'

const mib = Number(process.argv[2] ?? 256)
const rssMib = Number(process.argv[3] ?? 1024)
const rounds = Number(process.argv[4] ?? 3)
const MiB = 1024 * 1024
const script = fileURLToPath(new URL('./relay-node.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../', import.meta.url))

interface Child { child: ChildProcessByStdio<Writable, Readable, null>, lines: AsyncIterator<string> }

function start (...args: string[]): Child {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] })
  return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() }
}

async function nextJson<T> (c: Child): Promise<T> {
  const { value, done } = await c.lines.next()
  if (done === true) throw new Error(`process ${c.child.pid} ended early`)
  return JSON.parse(value) as T
}

async function finish (c: Child): Promise<{ maxRssMiB?: number }> {
  c.child.stdin.end()
  const last = await nextJson<{ maxRssMiB?: number }>(c).catch(() => ({}))
  await new Promise((resolve) => { if (c.child.exitCode != null) resolve(null); else c.child.once('exit', resolve) })
  return last
}


interface RunResult { bytes: number, ms: number, cpuMs: number, maxRssMiB: number, peakSampledRssMiB?: number, peakHeapMiB?: number, peakArrayBuffersMiB?: number, method?: string }

async function runOnce (...args: string[]): Promise<RunResult> {
  const c = start(...args)
  await nextJson(c)
  const result = await nextJson<RunResult>(c)
  await new Promise((resolve) => { if (c.child.exitCode != null) resolve(null); else c.child.once('exit', resolve) })
  return result
}

const mbps = (r: RunResult): number => r.bytes / 1e6 / (r.ms / 1000)
const dir = await mkdtemp(join(tmpdir(), 'chiral-relay-bench-'))
const children: Child[] = []
try {
  const big = await randomFile(join(dir, 'throughput.bin'), mib * MiB)
  const files = [big]
  if (rssMib > 0) files.push(await randomFile(join(dir, 'rss-64.bin'), 64 * MiB), await randomFile(join(dir, 'rss-big.bin'), rssMib * MiB))

  const relay = start('relay')
  children.push(relay)
  const { relay: relayAddr } = await nextJson<{ relay: string }>(relay)
  const provider = start('provider', relayAddr, ...files)
  children.push(provider)
  const { target, cids } = await nextJson<{ target: unknown, cids: string[] }>(provider)
  const targetJson = JSON.stringify(target)

  const rows: Array<Record<string, string | number>> = []
  const raws: RunResult[] = []
  const protos: RunResult[] = []
  const disks: RunResult[] = []
  const row = (round: number, what: string, r: RunResult): void => {
    rows.push({ round, what, 'MB/s': mbps(r).toFixed(1), seconds: (r.ms / 1000).toFixed(2), 'receiver CPU ms': Math.round(r.cpuMs), 'receiver peak RSS MiB': r.maxRssMiB })
  }
  for (let round = 1; round <= rounds; round++) {
    const raw = await runOnce('raw', relayAddr, targetJson, String(mib * MiB))
    const proto = await runOnce('fetch', relayAddr, targetJson, cids[0]!, join(dir, 'out'), 'discard')
    const disk = await runOnce('fetch', relayAddr, targetJson, cids[0]!, join(dir, 'out'), 'file')
    await rm(join(dir, 'out'), { recursive: true, force: true })
    raws.push(raw)
    protos.push(proto)
    disks.push(disk)
    row(round, 'bare libp2p stream via relay (bytes counted)', raw)
    row(round, 'transfer protocol via relay (chunks verified, not stored)', proto)
    row(round, 'transfer protocol via relay to disk (.part, rename)', disk)
  }
  // Other work on the machine moves every figure: compare runs of the same
  // round (seconds apart) and take the median over rounds.
  const ratios = protos.map((p, i) => mbps(p) / mbps(raws[i]!))
  const diskRatios = disks.map((d, i) => mbps(d) / mbps(raws[i]!))
  const ratio = median(ratios)
  const diskRatio = median(diskRatios)

  const rss: Array<{ fileMiB: number, result: RunResult }> = []
  if (rssMib > 0) {
    for (const [i, size] of [[1, 64], [2, rssMib]] as const) {
      const result = await runOnce('fetch', relayAddr, targetJson, cids[i]!, join(dir, 'out-rss'))
      await rm(join(dir, 'out-rss'), { recursive: true, force: true })
      rss.push({ fileMiB: size, result })
    }
  }
  const providerEnd = await finish(provider)
  await finish(relay)
  children.length = 0

  console.log(`Relay path, 3 processes on 127.0.0.1 (relay, provider, receiver), ${mib} MiB, ${rounds} round(s), Node ${process.version}`)
  console.table(rows)
  console.log(`protocol / bare stream throughput, per round: ${ratios.map((r) => r.toFixed(2)).join(' ')}, median ${ratio.toFixed(2)} (goal ≥ 0.90)`)
  console.log(`to disk / bare stream, per round: ${diskRatios.map((r) => r.toFixed(2)).join(' ')}, median ${diskRatio.toFixed(2)}`)
  if (rss.length > 0) {
    console.table(rss.map(({ fileMiB, result }) => ({
      'file MiB (to disk)': fileMiB,
      'MB/s': mbps(result).toFixed(1),
      'peak RSS MiB': result.maxRssMiB,
      'peak JS heap MiB': result.peakHeapMiB ?? '',
      'peak ArrayBuffers MiB': result.peakArrayBuffersMiB ?? ''
    })))
    console.log(`provider peak RSS: ${providerEnd.maxRssMiB ?? '?'} MiB`)
  }
  console.log(JSON.stringify({
    bench: 'relay-throughput',
    mib,
    rounds,
    bareMBps: raws.map((r) => Number(mbps(r).toFixed(1))),
    protocolMBps: protos.map((r) => Number(mbps(r).toFixed(1))),
    toDiskMBps: disks.map((r) => Number(mbps(r).toFixed(1))),
    ratios: ratios.map((r) => Number(r.toFixed(3))),
    medianRatio: Number(ratio.toFixed(3)),
    diskRatios: diskRatios.map((r) => Number(r.toFixed(3))),
    medianDiskRatio: Number(diskRatio.toFixed(3)),
    rss: rss.map(({ fileMiB, result }) => ({ fileMiB, maxRssMiB: result.maxRssMiB, peakHeapMiB: result.peakHeapMiB, peakArrayBuffersMiB: result.peakArrayBuffersMiB, MBps: Number(mbps(result).toFixed(1)) })),
    providerMaxRssMiB: providerEnd.maxRssMiB
  }))
} finally {
  for (const c of children) c.child.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
}
