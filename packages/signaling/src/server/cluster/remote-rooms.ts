import type { RemoteMember } from './cluster.js'

/**
 * This instance's view of the members other instances hold, for the rooms
 * it has local members in: room → id → owning instance. The registry sends
 * `peer-joined` / `peer-left` when the union of its local members and this
 * view changes, so a client that moves between instances (or is seen twice
 * for a moment during a takeover) causes no spurious delta.
 */
export class RemoteRooms {
  private readonly rooms = new Map<string, Map<string, string>>()

  has (room: string, id: string): boolean {
    return this.rooms.get(room)?.has(id) ?? false
  }

  ids (room: string): Iterable<string> {
    return this.rooms.get(room)?.keys() ?? []
  }

  /** Records `id` in `room` as held by `instance`; true when the id is new to the view. */
  set (room: string, id: string, instance: string): boolean {
    let members = this.rooms.get(room)
    if (members === undefined) {
      members = new Map()
      this.rooms.set(room, members)
    }
    const isNew = !members.has(id)
    members.set(id, instance)
    return isNew
  }

  /** Removes `id` from `room` (only when `instance` still holds it, if given); true when removed. */
  delete (room: string, id: string, instance?: string): boolean {
    const members = this.rooms.get(room)
    if (members === undefined) return false
    const owner = members.get(id)
    if (owner === undefined || (instance !== undefined && owner !== instance)) return false
    members.delete(id)
    if (members.size === 0) this.rooms.delete(room)
    return true
  }

  /** Forgets a room (its last local member left). */
  drop (room: string): void {
    this.rooms.delete(room)
  }

  /** Replaces the view of `room` with a full list; returns the ids added and removed. */
  replace (room: string, members: RemoteMember[]): { added: string[], removed: string[] } {
    const before = this.rooms.get(room) ?? new Map<string, string>()
    const after = new Map(members.map((m) => [m.id, m.instance]))
    const added = [...after.keys()].filter((id) => !before.has(id))
    const removed = [...before.keys()].filter((id) => !after.has(id))
    if (after.size === 0) this.rooms.delete(room)
    else this.rooms.set(room, after)
    return { added, removed }
  }
}
