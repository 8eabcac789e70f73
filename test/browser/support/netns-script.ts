/**
 * Runs a scenario script (scenario.ts, big-scenario.ts) in a fresh network
 * namespace as a child process, always deleting the namespace, and parses
 * the JSON line it prints last.
 */
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createBrowserNetns } from './netns.js'
import { REPO } from './demo-build.js'

export async function runInNetns<Result> (script: string, init: { label: string, workDir: string }, timeoutMs: number): Promise<Result> {
  const ns = await createBrowserNetns()
  rmSync(init.workDir, { recursive: true, force: true })
  try {
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--conditions=source', '--import', 'tsx', script, JSON.stringify(init)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-20_000) })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    const code = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
    clearTimeout(timer)
    const line = out.split('\n').reverse().find((l) => l.startsWith('{'))
    if (code !== 0 || line === undefined) throw new Error(`scenario ${init.label} failed (exit ${String(code)}):\n${err}\n${out.slice(-4000)}`)
    return JSON.parse(line) as Result
  } finally {
    await ns.delete()
    rmSync(init.workDir, { recursive: true, force: true })
  }
}
