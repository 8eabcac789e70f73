import type { RemoteMember } from './cluster.js'

/** A member another instance holds, or (without `instance`) the memory that one left. */
interface Entry {
  instance: string | undefined
  version: number
  at: number
}

/** How long the memory of a departure is kept: far longer than any reply can be late. */
const TOMBSTONE_MS = 30_000

/**
 * This instance's view of the members other instances hold: room → id →
 * owning instance. The registry sends `peer-joined` / `peer-left` when the
 * union of its local members and this view changes, so a client that moves
 * between instances (or is seen twice for a moment during a takeover)
 * causes no spurious delta.
 *
 * Every change carries the cluster's version (a number that grows with each
 * membership change, cluster-wide). Events and full lists reach us over
 * different paths and can be handled out of order: a change older than what
 * the view already knows about that id is ignored, which is why a departure
 * is remembered for a while.
 */
export class RemoteRooms {
  private readonly rooms = new Map<string, Map<string, Entry>>()
  private tombstones = 0

  has (room: string, id: string): boolean {
    return this.rooms.get(room)?.get(id)?.instance !== undefined
  }

  * ids (room: string): Iterable<string> {
    for (const [id, entry] of this.rooms.get(room) ?? []) {
      if (entry.instance !== undefined) yield id
    }
  }

  /**
   * Records that `id` is in `room` on `instance` (or, with `undefined`, that it
   * left), unless the view knows something newer. Returns what changed.
   */
  apply (room: string, id: string, instance: string | undefined, version: number): 'added' | 'removed' | 'unchanged' {
    const members = this.members(room)
    const entry = members.get(id)
    if (entry !== undefined && entry.version > version) return 'unchanged'
    const was = entry?.instance !== undefined
    this.put(members, id, instance, version)
    if (instance !== undefined) return was ? 'unchanged' : 'added'
    return was ? 'removed' : 'unchanged'
  }

  /** Marks what the view knows about `id` as at least as new as `version`, without changing it. */
  touch (room: string, id: string, version: number): void {
    const members = this.members(room)
    const entry = members.get(id)
    if (entry === undefined) this.put(members, id, undefined, version)
    else entry.version = Math.max(entry.version, version)
  }

  /** The id is a local member now: not a remote one, whatever older news says. */
  vacate (room: string, id: string): boolean {
    const entry = this.rooms.get(room)?.get(id)
    if (entry?.instance === undefined) return false
    this.put(this.members(room), id, undefined, entry.version)
    return true
  }

  /**
   * Applies a full list of `room`'s remote members as of `version`: ids listed
   * are present, ids not listed are gone, except where the view has newer news
   * (and `except`, left as it is).
   */
  snapshot (room: string, list: RemoteMember[], version: number, except?: string): { added: string[], removed: string[] } {
    const members = this.members(room)
    const added: string[] = []
    const removed: string[] = []
    const listed = new Set<string>()
    for (const m of list) {
      listed.add(m.id)
      if (this.apply(room, m.id, m.instance, version) === 'added') added.push(m.id)
    }
    for (const [id, entry] of [...members]) {
      if (listed.has(id) || id === except || entry.instance === undefined || entry.version > version) continue
      this.put(members, id, undefined, version)
      removed.push(id)
    }
    return { added, removed }
  }

  /** The versions start over (a new connection, perhaps to a restarted Redis): keep who is where, forget when. */
  forgetVersions (): void {
    for (const [room, members] of this.rooms) {
      for (const [id, entry] of members) {
        if (entry.instance === undefined) members.delete(id)
        else entry.version = -Infinity
      }
      if (members.size === 0) this.rooms.delete(room)
    }
    this.tombstones = 0
  }

  /** Forgets a room (no local member is left in it, and the cluster stopped watching it). */
  drop (room: string): void {
    this.rooms.delete(room)
  }

  private members (room: string): Map<string, Entry> {
    let members = this.rooms.get(room)
    if (members === undefined) {
      members = new Map()
      this.rooms.set(room, members)
    }
    return members
  }

  private put (members: Map<string, Entry>, id: string, instance: string | undefined, version: number): void {
    members.set(id, { instance, version, at: Date.now() })
    if (instance === undefined && ++this.tombstones % 256 === 0) this.prune()
  }

  private prune (): void {
    const before = Date.now() - TOMBSTONE_MS
    for (const members of this.rooms.values()) {
      for (const [id, entry] of members) {
        if (entry.instance === undefined && entry.at < before) members.delete(id)
      }
    }
  }
}
