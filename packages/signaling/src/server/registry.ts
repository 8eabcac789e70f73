import { RemoteRooms } from './cluster/remote-rooms.js'
import type { ClientConnection } from './client-connection.js'
import type { RemoteMember } from './cluster/cluster.js'

/** The room of clients that registered without one. */
export const DEFAULT_ROOM = ''

/**
 * Registered clients by id and by room. Joining or leaving sends the other
 * members of the room a `peer-joined` / `peer-left` delta; the full list goes
 * only to the client that registers.
 *
 * A room's members are the local clients plus, in a cluster, the members
 * other instances hold (`remote`). Deltas go to the local clients whenever
 * that union changes; without a cluster `remote` stays empty.
 */
export class Registry {
  private readonly byId = new Map<string, ClientConnection>()
  private readonly rooms = new Map<string, Set<ClientConnection>>()
  private readonly remote = new RemoteRooms()

  get size (): number {
    return this.byId.size
  }

  get roomCount (): number {
    return this.rooms.size
  }

  get (id: string): ClientConnection | undefined {
    return this.byId.get(id)
  }

  /** Every registered connection (for publishing presence again). */
  connections (): IterableIterator<ClientConnection> {
    return this.byId.values()
  }

  /** Adds `conn` as `id` in `room`, tells the room, and returns the ids already there. */
  add (conn: ClientConnection, id: string, room: string): string[] {
    let members = this.rooms.get(room)
    if (members === undefined) {
      members = new Set()
      this.rooms.set(room, members)
    }
    // Seen on another instance until now (it moved here): the room sees no change.
    const known = this.remote.vacate(room, id)
    const peers: string[] = []
    const joined = JSON.stringify({ type: 'peer-joined', clientId: id })
    for (const member of members) {
      const memberId = member.id
      if (memberId === undefined) continue
      peers.push(memberId)
      if (!known) member.sendControlText(joined)
    }
    for (const remoteId of this.remote.ids(room)) peers.push(remoteId)
    members.add(conn)
    this.byId.set(id, conn)
    conn.phase = { name: 'registered', id, room }
    return peers
  }

  /** Removes a registered connection and tells its room; no-op for others. */
  remove (conn: ClientConnection): { id: string, room: string } | undefined {
    if (conn.phase.name !== 'registered') return undefined
    const { id, room } = conn.phase
    if (this.byId.get(id) === conn) this.byId.delete(id)
    const members = this.rooms.get(room)
    if (members !== undefined) {
      members.delete(conn)
      if (members.size === 0) {
        this.rooms.delete(room)
      } else if (!this.remote.has(room, id)) {
        // Still held by another instance (taken over there): no change for the room.
        this.broadcast(members, { type: 'peer-left', clientId: id })
      }
    }
    return { id, room }
  }

  /**
   * Hands `id` from a stale connection to a new one (a signed re-registration
   * of the same key). Within one room nobody sees a change; across rooms the
   * old room sees `peer-left` and the new one `peer-joined`.
   */
  replace (stale: ClientConnection, conn: ClientConnection, id: string, room: string): string[] {
    if (stale.phase.name === 'registered' && stale.phase.room === room) {
      const members = this.rooms.get(room)
      members?.delete(stale)
      members?.add(conn)
      this.byId.set(id, conn)
      conn.phase = { name: 'registered', id, room }
      const local = [...(members ?? [])].filter((m) => m !== conn && m.id !== undefined).map((m) => m.id as string)
      return [...local, ...this.remote.ids(room)]
    }
    this.remove(stale)
    return this.add(conn, id, room)
  }

  /** Another instance's client joined `room` (as of the cluster's `version`). */
  remoteJoined (room: string, id: string, instance: string, version: number): void {
    if (this.remote.apply(room, id, instance, version) === 'added' && !this.isLocalIn(id, room)) {
      this.tell(room, { type: 'peer-joined', clientId: id })
    }
  }

  /** Another instance's client left `room`. */
  remoteLeft (room: string, id: string, version: number): void {
    if (this.remote.apply(room, id, undefined, version) === 'removed' && !this.isLocalIn(id, room)) {
      this.tell(room, { type: 'peer-left', clientId: id })
    }
  }

  /**
   * Takes a full list of `room`'s members on other instances as of `version`,
   * and tells the local members what changed since the view they had.
   * `joining` is about to be added locally: no delta about it.
   */
  reconcile (room: string, remoteMembers: RemoteMember[], version: number, joining?: string): void {
    const others = remoteMembers.filter((m) => m.id !== joining && !this.isLocalIn(m.id, room))
    // Older news about the joining id must not make it remote again once it is local.
    if (joining !== undefined) this.remote.touch(room, joining, version)
    const { added, removed } = this.remote.snapshot(room, others, version, joining)
    for (const id of added) this.tell(room, { type: 'peer-joined', clientId: id })
    for (const id of removed) {
      if (!this.isLocalIn(id, room)) this.tell(room, { type: 'peer-left', clientId: id })
    }
  }

  /** The cluster's versions start over: see `RemoteRooms.forgetVersions`. */
  forgetVersions (): void {
    this.remote.forgetVersions()
  }

  /** The cluster no longer watches `room` (no local member): forget its remote members. */
  forgetRoom (room: string): void {
    if (!this.rooms.has(room)) this.remote.drop(room)
  }

  private isLocalIn (id: string, room: string): boolean {
    const conn = this.byId.get(id)
    return conn?.phase.name === 'registered' && conn.phase.room === room
  }

  private tell (room: string, message: { type: 'peer-joined' | 'peer-left', clientId: string }): void {
    const members = this.rooms.get(room)
    if (members !== undefined) this.broadcast(members, message)
  }

  private broadcast (members: Set<ClientConnection>, message: { type: 'peer-joined' | 'peer-left', clientId: string }): void {
    const text = JSON.stringify(message)
    for (const member of members) {
      if (member.id !== undefined) member.sendControlText(text)
    }
  }
}
