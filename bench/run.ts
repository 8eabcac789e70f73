/**
 * `pnpm bench`: runs every benchmark, one after another (never two at once on
 * a small machine), and writes docs/benchmarks.md (tables a person can read,
 * with the machine's cores and Node version) and docs/benchmarks.json (each
 * benchmark's raw JSON line) beside it.
 *
 *   pnpm bench                        every benchmark with its default size
 *   pnpm bench --only=wan,paths       some of them (still written to docs/)
 *   pnpm bench bench/<script>.ts …    one script with its own arguments, output to the terminal only
 *
 * Each benchmark is a script that prints its own table and, last, one JSON
 * line; a `markdown` field in that line is used as its section, otherwise the
 * printed table is quoted as it is.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

interface Benchmark {
  name: string
  script: string
  args: string[]
  what: string
}

const BENCHMARKS: Benchmark[] = [
  { name: 'wan', script: 'wan.ts', args: [], what: 'WAN lab: relay, each direct path and the race per link profile (NAT lab with delay and loss)' },
  { name: 'signaling-modes', script: 'signaling-modes.ts', args: ['5'], what: 'WebSocket vs hybrid signaling: how soon the direct path is up while the relay carries (NAT lab, WAN profiles)' },
  { name: 'paths', script: 'paths.ts', args: ['128', '3'], what: 'LAN: every path of a fetch and the race, with a raw DataChannel of the same run' },
  { name: 'relay-throughput', script: 'relay-throughput.ts', args: ['128', '256', '3'], what: 'transfer protocol over the relay vs a bare relayed stream; receiver RSS' },
  { name: 'webrtc-datachannel', script: 'webrtc-datachannel.ts', args: ['64', '3'], what: 'raw node-datachannel vs Chiral\'s DataChannel channel' },
  { name: 'manifest', script: 'manifest.ts', args: ['512'], what: 'manifest hashing MB/s and peak RSS for a streamed file' },
  { name: 'signaling-load', script: 'signaling-load.ts', args: ['18000', '2000', '10', '21000'], what: 'signaling server vs a bare ws router (RSS per client), route latency, two instances sharing Redis vs one (clients held, latency across instances)' }
]

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
const argv = process.argv.slice(2)

if (argv[0] !== undefined && !argv[0].startsWith('--')) {
  // One script, its own arguments, straight to the terminal.
  const code = await run(argv[0], argv.slice(1), true)
  process.exit(code.exitCode)
}

const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
const chosen = BENCHMARKS.filter((b) => only === undefined || only.includes(b.name))
const startedAt = new Date()
const sections: string[] = []
const raw: Record<string, unknown> = {}
for (const bench of chosen) {
  process.stderr.write(`\n[bench] ${bench.name}: ${bench.what}\n`)
  const t0 = Date.now()
  const { exitCode, stdout } = await run(here(`./${bench.script}`), bench.args, false)
  const seconds = ((Date.now() - t0) / 1000).toFixed(0)
  const lines = stdout.trimEnd().split('\n')
  const jsonLine = [...lines].reverse().find((l) => l.startsWith('{'))
  let json: Record<string, unknown> | undefined
  try { json = jsonLine === undefined ? undefined : JSON.parse(jsonLine) as Record<string, unknown> } catch {}
  raw[bench.name] = json ?? { error: `exit ${exitCode}, no JSON line` }
  const command = `pnpm bench bench/${bench.script} ${bench.args.join(' ')}`.trim()
  const body = typeof json?.markdown === 'string'
    ? json.markdown
    : ['```', ...lines.filter((l) => l !== jsonLine), '```'].join('\n')
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
  sections.push([`## ${bench.name}`, '', `${bench.what}. \`${command}\` — ${seconds} s, ${when} UTC${exitCode === 0 ? '' : `, **exit ${exitCode}**`}.`, '', body, ''].join('\n'))
}

const cpu = cpus()
const header = [
  '# Benchmarks',
  '',
  `Written by \`pnpm bench\` on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC${only === undefined ? ', in one run' : ` (${only.join(', ')}; the other sections are from earlier runs, each says when)`}: ` +
  `${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}.`,
  'The machine is shared and noisy: compare rows of the same run (ratios), not runs of different days.',
  'Raw results: [benchmarks.json](benchmarks.json).',
  ''
]
const docs = here('../docs/')
// `--only`: the other benchmarks keep their sections (and raw results) from the last time they ran.
const kept = only === undefined ? new Map<string, string>() : earlierSections(`${docs}benchmarks.md`)
const keptRaw = only === undefined ? {} : earlierRaw(`${docs}benchmarks.json`)
const ordered = BENCHMARKS.flatMap((b) => {
  const fresh = sections.find((x) => x.startsWith(`## ${b.name}\n`))
  const old = kept.get(b.name)
  return fresh !== undefined ? [fresh] : old !== undefined ? [old] : []
})
writeFileSync(`${docs}benchmarks.md`, [...header, ...ordered].join('\n'))
writeFileSync(`${docs}benchmarks.json`, JSON.stringify({ startedAt: startedAt.toISOString(), node: process.version, cores: cpu.length, results: { ...keptRaw, ...raw } }, null, 2) + '\n')
process.stderr.write(`\n[bench] wrote docs/benchmarks.md and docs/benchmarks.json\n`)

/** Runs a benchmark script under the same loader; echoes its output, returns stdout. */
async function run (script: string, args: string[], inherit: boolean): Promise<{ exitCode: number, stdout: string }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'inherit']
  })
  let stdout = ''
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); process.stdout.write(d) })
  const exitCode = await new Promise<number>((resolve) => { child.once('exit', (code, signal) => { resolve(code ?? (signal === null ? 1 : 128)) }) })
  return { exitCode, stdout }
}

/** The `## name` sections of an earlier benchmarks.md, by name. */
function earlierSections (path: string): Map<string, string> {
  const out = new Map<string, string>()
  if (!existsSync(path)) return out
  const text = readFileSync(path, 'utf8')
  const parts = text.split(/^(?=## )/m).slice(1)
  for (const part of parts) {
    const name = /^## (\S+)/.exec(part)?.[1]
    if (name !== undefined) out.set(name, `${part.trimEnd()}\n`)
  }
  return out
}

/** The raw results of an earlier benchmarks.json. */
function earlierRaw (path: string): Record<string, unknown> {
  if (!existsSync(path)) return {}
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { results?: Record<string, unknown> }).results ?? {}
  } catch {
    return {}
  }
}
