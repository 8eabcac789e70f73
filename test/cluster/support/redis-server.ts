/**
 * A throwaway redis-server for tests: loopback only, a free port, no
 * persistence, its own temporary folder. `stop()` and `start()` again keep
 * the port, so clients can reconnect to "the same Redis" after an outage.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { freePort } from '../../support/free-port.js'

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server']

/** The redis-server binary, or why there is none. */
export function findRedisServer (): { ok: true, path: string } | { ok: false, reason: string } {
  const path = CANDIDATES.find((p) => existsSync(p)) ?? spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
  if (path === '') return { ok: false, reason: 'redis-server is not installed (apt-get install redis-server; scripts/setup.sh does it as root)' }
  return { ok: true, path }
}

export class TestRedis {
  private child: ChildProcess | undefined
  private output = ''
  private constructor (readonly binary: string, readonly port: number, readonly dir: string) {}

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start (binary: string): Promise<TestRedis> {
    const redis = new TestRedis(binary, await freePort(), mkdtempSync(join(tmpdir(), 'chiral-redis-')))
    await redis.start()
    return redis
  }

  /** Starts (again) on the same port. */
  async start (): Promise<void> {
    if (this.child !== undefined) return
    this.output = ''
    const child = spawn(this.binary, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning'
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (d: Buffer) => { this.output += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { this.output += d.toString() })
    this.child = child
    const deadline = Date.now() + 10_000
    while (!(await this.answersPing())) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL')
        this.child = undefined
        throw new Error(`redis-server did not start on ${this.port}:\n${this.output}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** Stops it (SIGTERM; nothing is saved) and waits until it has exited. */
  async stop (): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  async destroy (): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** True when something on the port answers PING with PONG. */
  private async answersPing (): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1')
      let reply = ''
      const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
      socket.setTimeout(500, () => { done(false) })
      socket.once('error', () => { done(false) })
      socket.once('connect', () => { socket.write('PING\r\n') })
      socket.on('data', (d: Buffer) => {
        reply += d.toString()
        if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
      })
    })
  }
}
