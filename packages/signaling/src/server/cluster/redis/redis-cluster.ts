import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { Channels, instanceMessageSchema, parseBusMessage, roomEventSchema } from './bus.js'
import { resolveRedisClusterOptions } from './options.js'
import { RedisLink } from './redis-link.js'
import { parseClaimReply, parseSyncReply } from './replies.js'
import { SCRIPTS } from './scripts.js'
import type { SignalingErrorCode } from '../../../errors.js'
import type { ClaimOutcome, ClusterComponents, ClusterState, ClusterStatus, ForwardOutcome, LocalRegistration, SignalingCluster, SignalingClusterEvents, SignalingClusterFactory } from '../cluster.js'
import type { RedisClusterInit, ResolvedRedisClusterOptions } from './options.js'

const log = logger('chiral:signaling:cluster')

/**
 * Where the backend stands (one transition function, `enter`):
 *
 *     idle ─start()─▶ connecting ─both connections up─▶ syncing ─presence published─▶ ready
 *                        │                                 ▲  │ failed                 │ │
 *                        └──────────▶ unavailable ─────────┘  ▼                         │ │ tick: this instance
 *                     connection lost ▲   (reconnects     unavailable ◀─ connection lost ┘ │ was swept
 *                                     │    on its own)                                     ▼
 *     (any) ─stop()─▶ stopped                                                     syncing (again)
 *
 * Only `ready` claims ids and routes through Redis; in the other states the
 * server registers and routes locally, and the next sync publishes what
 * changed meanwhile.
 */
export class RedisCluster extends TypedEventEmitter<SignalingClusterEvents> implements SignalingCluster {
  readonly shared = true
  readonly instanceId: string
  private readonly options: ResolvedRedisClusterOptions
  private readonly channels: Channels
  private readonly link: RedisLink
  private state: { name: ClusterState | 'idle', since: number, error?: string } = { name: 'idle', since: Date.now() }
  /** Local changes the last sync may not include: sync again. */
  private dirty = false
  private syncs = 0
  private syncing = false
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly inflight = new Map<string, number>()
  private idleRooms = new Set<string>()

  constructor (private readonly components: ClusterComponents, init: RedisClusterInit) {
    super()
    this.options = resolveRedisClusterOptions(init)
    this.instanceId = this.options.instanceId
    this.channels = new Channels(this.options.keyPrefix)
    this.link = new RedisLink(this.options, {
      up: () => { void this.sync() },
      down: (error) => {
        // What arrives on the next connection may come from a restarted Redis, whose versions start at 0.
        this.safeDispatchEvent('versions:reset')
        this.enter('unavailable', error)
      },
      message: (channel, text) => { this.onMessage(channel, text) }
    })
  }

  status (): ClusterStatus {
    const { name, since, error } = this.state
    const state: ClusterState = name === 'idle' ? 'stopped' : name
    return {
      mode: 'redis',
      instanceId: this.instanceId,
      state,
      connected: state === 'ready' || state === 'syncing',
      since,
      ...(error === undefined ? {} : { error })
    }
  }

  /** Connects; resolves once presence is published or the first attempt failed (the server starts either way). */
  async start (): Promise<void> {
    if (this.state.name !== 'idle' && this.state.name !== 'stopped') return
    this.enter('connecting')
    this.link.want(this.channels.instance(this.instanceId))
    try {
      await this.link.open()
    } catch (err) {
      this.enter('stopped')
      throw err
    }
    this.timer = setInterval(() => { void this.tick() }, this.options.refreshInterval)
    this.timer.unref?.()
    await new Promise<void>((resolve) => {
      const done = (): void => {
        if (this.state.name === 'connecting' || this.state.name === 'syncing') return
        clearTimeout(timer)
        this.removeEventListener('status', done)
        resolve()
      }
      const timer = setTimeout(() => { this.removeEventListener('status', done); resolve() }, this.options.commandTimeout + 3000)
      this.addEventListener('status', done)
    })
  }

  /** Removes this instance's clients from Redis (everyone sees them leave at once) and disconnects. */
  async stop (): Promise<void> {
    if (this.state.name === 'idle' || this.state.name === 'stopped') return
    clearInterval(this.timer)
    const cmd = this.link.cmd
    this.enter('stopped')
    if (cmd !== undefined) {
      await SCRIPTS.retire.run(cmd, [this.options.keyPrefix, this.instanceId]).catch((err: Error) => { log.error('could not retire presence %e', err) })
    }
    await this.link.close()
  }

  async claim (reg: LocalRegistration, signed: boolean): Promise<ClaimOutcome> {
    const cmd = this.link.cmd
    if (this.state.name !== 'ready' || cmd === undefined) {
      this.dirty = true
      return { kind: 'unavailable' }
    }
    const syncs = this.syncs
    this.inflight.set(reg.room, (this.inflight.get(reg.room) ?? 0) + 1)
    try {
      // Subscribed before the claim runs: every change published after the member list is read reaches us.
      await this.link.subscribe(this.channels.room(reg.room))
      return parseClaimReply(await SCRIPTS.claim.run(cmd, [this.options.keyPrefix, this.instanceId, this.options.presenceTtl, reg.id, reg.room, reg.token, signed ? '1' : '0']))
    } catch (err) {
      // It may have run in Redis all the same (a reply that timed out): publish again.
      log.error('claim of %s failed %e', reg.id, err)
      this.requestSync()
      return { kind: 'unavailable' }
    } finally {
      const n = (this.inflight.get(reg.room) ?? 1) - 1
      if (n <= 0) this.inflight.delete(reg.room)
      else this.inflight.set(reg.room, n)
      // A sync that ran meanwhile could not list this registration yet.
      if (this.syncs !== syncs || this.syncing) this.requestSync()
    }
  }

  release (reg: LocalRegistration): void {
    const cmd = this.link.cmd
    if (this.state.name !== 'ready' || cmd === undefined) {
      this.dirty = true
      return
    }
    SCRIPTS.release.run(cmd, [this.options.keyPrefix, this.instanceId, reg.id, reg.token]).catch((err: Error) => {
      log.error('release of %s failed %e', reg.id, err)
      this.requestSync()
    })
  }

  async forward (to: string, from: string, frame: string): Promise<ForwardOutcome> {
    const cmd = this.link.cmd
    if (cmd === undefined || (this.state.name !== 'ready' && this.state.name !== 'syncing')) return 'unavailable'
    const payload = JSON.stringify({ t: 'fwd', to, from, o: this.instanceId, f: frame })
    try {
      const receivers = await SCRIPTS.forward.run(cmd, [this.options.keyPrefix, this.options.presenceTtl, to, payload])
      return typeof receivers === 'number' && receivers > 0 ? 'sent' : 'unknown'
    } catch (err) {
      log.error('forward to %s failed %e', to, err)
      return 'unavailable'
    }
  }

  bounce (origin: string, to: string, code: SignalingErrorCode, message: string): void {
    const cmd = this.link.cmd
    if (cmd === undefined) return
    cmd.publish(this.channels.instance(origin), JSON.stringify({ t: 'bounce', to, code, message })).catch(() => {})
  }

  /** The one place where the state changes. */
  private enter (name: ClusterState, error?: string): void {
    const from = this.state.name
    if (from === 'stopped' && name !== 'connecting') return
    if (from === name && name === 'unavailable') return // one report per outage, not one per retry
    this.state = { name, since: Date.now(), ...(error === undefined ? {} : { error }) }
    if (name === 'unavailable') log.error('redis unavailable (%s): cross-instance signaling paused, local routing continues', error)
    else log('%s → %s', from, name)
    this.safeDispatchEvent('status', { detail: this.status() })
  }

  private requestSync (): void {
    this.dirty = true
    if (!this.syncing && this.state.name === 'ready') void this.sync()
  }

  /** Publishes this instance's presence again, until nothing changed while it ran. */
  private async sync (): Promise<void> {
    if (this.syncing || this.state.name === 'stopped' || this.state.name === 'idle') return
    this.syncing = true
    this.enter('syncing')
    try {
      do {
        this.dirty = false
        this.syncs++
        // Let registrations whose claim just finished enter the registry first.
        await new Promise((resolve) => setImmediate(resolve))
        // Subscribed before the member lists are read (a registration made
        // meanwhile sets `dirty`, and the next round covers its room).
        const rooms = new Set(this.components.localRegistrations().map((r) => r.room))
        await Promise.all([...rooms].map(async (room) => this.link.subscribe(this.channels.room(room))))
        const cmd = this.link.cmd
        if (cmd === undefined) throw new Error('connection lost')
        const regs = this.components.localRegistrations()
        const args: Array<string | number> = [this.options.keyPrefix, this.instanceId, this.options.presenceTtl, regs.length]
        for (const r of regs) args.push(r.id, r.room, r.token)
        const reply = parseSyncReply(await SCRIPTS.sync.run(cmd, args))
        for (const { id, token } of reply.lost) this.safeDispatchEvent('replaced', { detail: { id, token } })
        for (const { room, members } of reply.rooms) {
          this.safeDispatchEvent('members', { detail: { room, members: members.filter((m) => m.instance !== this.instanceId), version: reply.version } })
        }
      } while (this.dirty)
      if (this.state.name === 'syncing') this.enter('ready')
    } catch (err) {
      log.error('publishing presence failed %e', err)
      this.dirty = true
      if (this.state.name === 'syncing') this.enter('unavailable', (err as Error).message)
    } finally {
      this.syncing = false
    }
  }

  /** Refreshes presence, sweeps dead instances, drops subscriptions of rooms no longer used. */
  private async tick (): Promise<void> {
    const cmd = this.link.cmd
    if (this.state.name === 'unavailable' && this.link.up) { void this.sync(); return }
    if (this.state.name !== 'ready' || cmd === undefined) return
    try {
      const reply = await SCRIPTS.tick.run(cmd, [this.options.keyPrefix, this.instanceId, this.options.presenceTtl])
      const [missing, swept] = Array.isArray(reply) ? reply : []
      if (typeof swept === 'number' && swept > 0) log('swept %d ids of dead instances', swept)
      if (missing === 1) {
        log('presence of this instance was gone from redis; publishing it again')
        this.requestSync()
      }
    } catch (err) {
      // A command that times out on a connection that looks open: start over.
      this.enter('unavailable', (err as Error).message)
      this.link.reconnect()
      return
    }
    this.unwatchIdleRooms()
  }

  /** Unsubscribes rooms without local members for two ticks in a row (a claim may be just finishing). */
  private unwatchIdleRooms (): void {
    const used = new Set(this.components.localRegistrations().map((r) => r.room))
    for (const room of this.inflight.keys()) used.add(room)
    const idle = new Set<string>()
    for (const channel of this.link.channels()) {
      const room = this.channels.roomOf(channel)
      if (room === undefined || used.has(room)) continue
      if (!this.idleRooms.has(room)) { idle.add(room); continue }
      this.link.unsubscribe(channel)
      this.safeDispatchEvent('room:unwatched', { detail: { room } })
    }
    this.idleRooms = idle
  }

  private onMessage (channel: string, text: string): void {
    if (this.state.name === 'stopped') return
    if (channel === this.channels.instance(this.instanceId)) {
      const m = parseBusMessage(instanceMessageSchema, text)
      if (m === undefined) { log.error('ignored a malformed instance message'); return }
      if (m.t === 'fwd') this.safeDispatchEvent('forward', { detail: { to: m.to, from: m.from, origin: m.o, frame: m.f } })
      else if (m.t === 'replaced') this.safeDispatchEvent('replaced', { detail: { id: m.id, token: m.token } })
      else this.safeDispatchEvent('bounce', { detail: { to: m.to, code: m.code, message: m.message } })
      return
    }
    const room = this.channels.roomOf(channel)
    const e = room === undefined ? undefined : parseBusMessage(roomEventSchema, text)
    if (room === undefined || e === undefined) { log.error('ignored a malformed message on %s', channel); return }
    if (e.i === this.instanceId) return // our own clients: the local registry already told the room
    this.safeDispatchEvent(e.t === 'joined' ? 'member:joined' : 'member:left', { detail: { room, id: e.id, instance: e.i, version: e.v } })
  }
}

/**
 * Signaling across instances through one Redis: every instance given the same
 * URL and key prefix serves one id space and one set of rooms.
 *
 * The client is `ioredis`: maintained (by Redis), one dependency-light
 * package, reconnects by itself with a configurable strategy, can fail
 * commands at once while disconnected (no offline queue), and speaks TLS for
 * `rediss://` URLs.
 */
export function redisCluster (init: RedisClusterInit): SignalingClusterFactory {
  resolveRedisClusterOptions(init) // bad settings fail here, before a server is built
  return (components) => new RedisCluster(components, init)
}
