// A group of the classic protocol (JoinGroup/SyncGroup/Heartbeat) and its
// members, as Kafka's ClassicGroup and ClassicGroupMember keep them: the state
// (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead) with Kafka's
// allowed transitions, the generation, the chosen protocol, the leader, the
// static members by instance id, the members that were told MEMBER_ID_REQUIRED
// and have not joined yet, and the members whose SyncGroup is still awaited.
// A member's parked JoinGroup or SyncGroup is a callback; completing it
// answers that request. The rebalance logic that drives these lives in the
// coordinator (group-coordinator.ts); nothing here does I/O or keeps time.

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

/** Kafka's ClassicGroupState.validPreviousStates */
const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ["PreparingRebalance"],
  PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
};

export const UNKNOWN_MEMBER_ID = "";
/** the consumer protocol type, whose subscriptions the coordinator can read */
export const CONSUMER_PROTOCOL_TYPE = "consumer";

export interface Protocol {
  readonly name: string;
  readonly metadata: Uint8Array;
}

export interface JoinMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Uint8Array;
}

/** What a parked JoinGroup is answered with (JoinGroupResponse's fields). */
export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: JoinMember[];
}

/** What a parked SyncGroup is answered with. */
export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export const EMPTY_ASSIGNMENT = new Uint8Array(0);

export function joinError(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: "", skipAssignment: false, memberId, members: [] };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT };
}

export class ClassicGroupMember {
  assignment: Uint8Array = EMPTY_ASSIGNMENT;
  awaitingJoin: ((r: JoinResult) => void) | null = null;
  awaitingSync: ((r: SyncResult) => void) | null = null;
  /** joined in the current rebalance and not yet answered: may expire while awaiting join */
  isNew = false;

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: readonly Protocol[],
  ) {}

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  metadata(protocol: string | null): Uint8Array {
    const p = this.protocols.find((x) => x.name === protocol);
    if (!p) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** The same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i]!;
      const b = this.protocols[i]!;
      if (a.name !== b.name || !bytesEqual(a.metadata, b.metadata)) return false;
    }
    return true;
  }

  /** The first of this member's protocols (in its order of preference) among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.protocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} does not support any of the candidate protocols`);
    return p.name;
  }

  /** Kafka's hasSatisfiedHeartbeat: a parked member counts as alive, unless it is new. */
  get hasSatisfiedHeartbeat(): boolean {
    return this.isNew ? false : this.isAwaitingJoin || this.isAwaitingSync;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class GroupError extends Error {
  constructor(readonly errorCode: number) {
    super(`error ${errorCode}`);
  }
}

export class ClassicGroup {
  state: GroupState = "Empty";
  previousState: GroupState | null = null;
  /** when the state last changed (GroupMetadataValue.currentStateTimestamp), -1 if never */
  stateTimestamp = -1;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicGroupMember>();
  /** instance id -> member id */
  readonly staticMembers = new Map<string, string>();
  /** told MEMBER_ID_REQUIRED, not joined yet */
  readonly pendingJoinMembers = new Set<string>();
  /** joined this generation, SyncGroup not yet received */
  readonly pendingSyncMembers = new Set<string>();
  /** protocol name -> how many members support it */
  private readonly supported = new Map<string, number>();
  numAwaitingJoin = 0;
  /** a member joined during the initial rebalance delay: extend it */
  newMemberAdded = false;
  /** topics the members subscribe to (consumer protocol), null when unknown */
  subscribedTopics: Set<string> | null = null;

  constructor(
    readonly groupId: string,
    private readonly now: () => number,
  ) {}

  is(state: GroupState): boolean {
    return this.state === state;
  }

  get isEmpty(): boolean {
    return this.state === "Empty";
  }

  transitionTo(target: GroupState): void {
    if (!VALID_PREVIOUS[target].includes(this.state)) throw new Error(`group ${this.groupId}: ${this.state} -> ${target} is not a valid transition`);
    this.previousState = this.state;
    this.state = target;
    this.stateTimestamp = this.now();
  }

  /** PreparingRebalance may be entered from here. */
  get canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  member(memberId: string): ClassicGroupMember | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  add(member: ClassicGroupMember, onJoin: ((r: JoinResult) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) throw new Error(`static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, 1);
    member.awaitingJoin = onJoin;
    if (onJoin) this.numAwaitingJoin++;
    this.pendingJoinMembers.delete(member.memberId);
  }

  remove(memberId: string): void {
    const m = this.members.get(memberId);
    if (m) {
      this.members.delete(memberId);
      this.countProtocols(m, -1);
      if (m.isAwaitingJoin) this.numAwaitingJoin--;
      if (m.groupInstanceId !== null) this.staticMembers.delete(m.groupInstanceId);
    }
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value ?? null;
    this.pendingJoinMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  private countProtocols(m: ClassicGroupMember, delta: number): void {
    for (const p of m.protocols) this.supported.set(p.name, (this.supported.get(p.name) ?? 0) + delta);
  }

  updateMember(m: ClassicGroupMember, protocols: readonly Protocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, onJoin: ((r: JoinResult) => void) | null): void {
    this.countProtocols(m, -1);
    m.protocols = protocols;
    this.countProtocols(m, 1);
    m.rebalanceTimeoutMs = rebalanceTimeoutMs;
    m.sessionTimeoutMs = sessionTimeoutMs;
    if (onJoin && !m.isAwaitingJoin) this.numAwaitingJoin++;
    else if (!onJoin && m.isAwaitingJoin) this.numAwaitingJoin--;
    m.awaitingJoin = onJoin;
  }

  /** Answers a member's parked JoinGroup; false if none was parked. */
  completeJoin(m: ClassicGroupMember, r: JoinResult): boolean {
    const f = m.awaitingJoin;
    if (!f) return false;
    m.awaitingJoin = null;
    this.numAwaitingJoin--;
    f(r);
    return true;
  }

  completeSync(m: ClassicGroupMember, r: SyncResult): boolean {
    const f = m.awaitingSync;
    if (!f) return false;
    m.awaitingSync = null;
    f(r);
    return true;
  }

  completeAllJoins(errorCode: number): void {
    for (const [id, m] of this.members) this.completeJoin(m, joinError(errorCode, id));
  }

  completeAllSyncs(errorCode: number): void {
    for (const m of this.members.values()) this.completeSync(m, syncError(errorCode));
  }

  get hasAllMembersJoined(): boolean {
    return this.members.size === this.numAwaitingJoin && this.pendingJoinMembers.size === 0;
  }

  /** The member ids that have not rejoined in this rebalance. */
  notYetRejoined(): ClassicGroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /** If the leader has not rejoined, the first member that has becomes leader; false if none has. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Replaces a static member's id (a restarted static member), fencing whatever the old id has parked. */
  replaceStaticMember(instanceId: string, oldId: string, newId: string, fencedCode: number): ClassicGroupMember {
    const old = this.members.get(oldId);
    if (!old) throw new Error(`cannot replace unknown member ${oldId}`);
    this.members.delete(oldId);
    if (old.awaitingJoin) {
      const f = old.awaitingJoin;
      old.awaitingJoin = null;
      this.numAwaitingJoin--;
      f({ ...joinError(fencedCode, oldId), generationId: -1, leader: "" });
    }
    this.completeSync(old, syncError(fencedCode));
    const m = new ClassicGroupMember(newId, old.groupInstanceId, old.clientId, old.clientHost, old.rebalanceTimeoutMs, old.sessionTimeoutMs, old.protocolType, old.protocols);
    m.assignment = old.assignment;
    this.members.set(newId, m);
    if (this.isLeader(oldId)) this.leaderId = newId;
    this.staticMembers.set(instanceId, newId);
    this.pendingSyncMembers.delete(oldId);
    return m;
  }

  /**
   * Kafka's validateMember: a static member's instance id must map to this
   * member id (FENCED_INSTANCE_ID otherwise), and the member must exist.
   */
  validateMember(memberId: string, groupInstanceId: string | null, codes: { unknownMember: number; fenced: number }): void {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) throw new GroupError(codes.unknownMember);
      if (existing !== memberId) throw new GroupError(codes.fenced);
    }
    if (!this.members.has(memberId)) throw new GroupError(codes.unknownMember);
  }

  /** A member with these protocols may join: the same protocol type and one protocol every member supports. */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.state === "Empty") return protocolType !== "" && protocols.length > 0;
    return this.protocolType === protocolType && protocols.some((p) => (this.supported.get(p.name) ?? 0) === this.members.size);
  }

  /** The protocol every member supports that most members prefer (Kafka's selectProtocol). */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, n] of this.supported) if (n === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best!;
  }

  initNextGeneration(): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo("CompletingRebalance");
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo("Empty");
    }
    this.pendingSyncMembers.clear();
  }

  /** Every member with its metadata for the chosen protocol: what the leader is given to assign. */
  currentMembers(): JoinMember[] {
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(this.protocolName) }));
  }

  /**
   * The topics the consumer-protocol subscriptions name (version, then an
   * array of topic strings: the prefix every version of ConsumerProtocolSubscription shares).
   */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    try {
      for (const m of this.members.values()) for (const t of subscriptionTopics(m.metadata(this.protocolName))) topics.add(t);
    } catch {
      return null;
    }
    return topics;
  }

  /** Kafka's hasStaticMember/staticMemberId */
  staticMemberId(instanceId: string): string | undefined {
    return this.staticMembers.get(instanceId);
  }
}

/** The topic names of a ConsumerProtocolSubscription (read at version 0, the prefix of all versions). */
export function subscriptionTopics(b: Uint8Array): string[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 2; // version
  const n = v.getInt32(p);
  p += 4;
  if (n < 0 || n > b.length) throw new Error("bad topic count");
  const out: string[] = [];
  const dec = new TextDecoder();
  for (let i = 0; i < n; i++) {
    const len = v.getInt16(p);
    p += 2;
    if (len < 0 || p + len > b.length) throw new Error("bad topic name");
    out.push(dec.decode(b.subarray(p, p + len)));
    p += len;
  }
  return out;
}
