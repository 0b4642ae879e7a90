// The group coordinator: classic consumer groups (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup) and committed offsets, as Kafka 4.4's
// GroupMetadataManager and OffsetMetadataManager keep them.
//
// The log is the state: every change that must survive a restart is appended
// as a record to the group's partition of __consumer_offsets (partition =
// Java hash of the group id mod its partition count) before it is answered,
// and start-up replays those partitions into the same maps. Offsets are
// applied from their records (commit and load share applyOffset); a classic
// group's richer in-memory state is changed directly and its GroupMetadata
// record written after each generation's assignment, as Kafka does.
//
// While a partition of __consumer_offsets is being loaded its groups are
// answered COORDINATOR_LOAD_IN_PROGRESS; before the topic exists (the first
// FindCoordinator creates it) NOT_COORDINATOR.
//
// A parked JoinGroup or SyncGroup is a callback on its member. When the
// request's connection closes (the session's signal) a new member is removed
// at once (Kafka would wait for its join timeout) and an existing member's
// parked request is dropped, so nothing waits on a socket that is gone.
//
// Room for the newer protocols: groups here are classic; KIP-848 consumer
// groups and share groups would be other group types beside ClassicGroup,
// keyed by the same group id, with their own records (key versions 3+).

import type { Broker } from "../../broker.ts";
import { brokerValue } from "../../config.ts";
import { log } from "../../log.ts";
import type { MetadataEvent } from "../../metadata/events.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_TRANSACTIONAL, int16At, OFF_ATTRIBUTES, validateBatches } from "../../records/batch.ts";
import { buildBatch, decodeRecords } from "../../records/record.ts";
import type { Service } from "../../service.ts";
import { KeyedTimer } from "../timer.ts";
import {
  ClassicGroup,
  ClassicGroupMember,
  EMPTY_ASSIGNMENT,
  GroupError,
  joinError,
  syncError,
  UNKNOWN_MEMBER_ID,
  type GroupState,
  type JoinMember,
  type JoinResult,
  type Protocol,
  type SyncResult,
} from "./classic-group.ts";
import {
  groupMetadataRecord,
  offsetCommitRecord,
  OFFSETS_TOPIC,
  offsetsTopicConfigs,
  partitionForGroup,
  readOffsetsRecord,
  type CommittedOffset,
  type GroupMetadata,
  type OffsetsRecord,
} from "./offsets-topic.ts";

export { OFFSETS_TOPIC } from "./offsets-topic.ts";
export type { JoinResult, SyncResult, JoinMember, Protocol } from "./classic-group.ts";

/** Kafka's GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS: a new member's JoinGroup is not parked longer. */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;

export interface GroupCoordinatorConfig {
  offsetsTopicPartitions: number;
  offsetsTopicSegmentBytes: number;
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxSize: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
}

export function groupCoordinatorConfig(raw: ReadonlyMap<string, string>): GroupCoordinatorConfig {
  return {
    offsetsTopicPartitions: brokerValue<number>(raw, "offsets.topic.num.partitions"),
    offsetsTopicSegmentBytes: brokerValue<number>(raw, "offsets.topic.segment.bytes"),
    initialRebalanceDelayMs: brokerValue<number>(raw, "group.initial.rebalance.delay.ms"),
    minSessionTimeoutMs: brokerValue<number>(raw, "group.min.session.timeout.ms"),
    maxSessionTimeoutMs: brokerValue<number>(raw, "group.max.session.timeout.ms"),
    maxSize: brokerValue<number>(raw, "group.max.size"),
    offsetsRetentionMs: brokerValue<number>(raw, "offsets.retention.minutes") * 60_000,
    offsetsRetentionCheckIntervalMs: brokerValue<number>(raw, "offsets.retention.check.interval.ms"),
    offsetMetadataMaxBytes: brokerValue<number>(raw, "offset.metadata.max.bytes"),
  };
}

/** Who sent a group request: what JoinGroup records about a member, and the connection's lifetime. */
export interface RequestInfo {
  apiVersion: number;
  clientId: string;
  /** "/ip", as Kafka records a member's host */
  clientHost: string;
  /** fires when the connection closes */
  signal: AbortSignal;
}

export interface JoinRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  /** metadata bytes owned by the caller's copy, not the receive buffer */
  protocols: Protocol[];
  reason: string | null;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
  reason: string | null;
}

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; memberMetadata: Uint8Array; memberAssignment: Uint8Array }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

export interface CommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface CommitRequest {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  /** -1: the broker's offsets.retention.minutes */
  retentionTimeMs: number;
  topics: { name: string; partitions: CommitPartition[] }[];
}

export interface PartitionResult {
  partitionIndex: number;
  errorCode: number;
}

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchedGroup {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

type Key = string;
const joinKey = (g: string): Key => `join\0${g}`;
const syncKey = (g: string): Key => `sync\0${g}`;
const heartbeatKey = (g: string, m: string): Key => `hb\0${g}\0${m}`;
const RETENTION_KEY = "offsets-retention";

const CODES = { unknownMember: ErrorCode.UNKNOWN_MEMBER_ID, fenced: ErrorCode.FENCED_INSTANCE_ID };

type LoadState = "loading" | "loaded";

export class GroupCoordinator implements Service {
  readonly name = "group-coordinator";
  readonly cfg: GroupCoordinatorConfig;
  private readonly groups = new Map<string, ClassicGroup>();
  /** group -> topic -> partition -> committed offset */
  private readonly offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  private readonly timer = new KeyedTimer();
  /** per partition of __consumer_offsets */
  private readonly loadStates = new Map<number, LoadState>();
  private unsubscribe: (() => void) | null = null;
  private active = false;
  /** resolves once every partition present at start-up is loaded */
  loaded: Promise<void> = Promise.resolve();
  /** the clock, for tests of expiry */
  now: () => number = Date.now;

  constructor(private readonly broker: Broker) {
    this.cfg = groupCoordinatorConfig(broker.config.raw);
  }

  // ---- lifecycle and loading ----

  start(): void {
    this.unsubscribe = this.broker.metadata.events.subscribe((e) => this.onMetadata(e));
    this.active = true;
    const topic = this.broker.topic(OFFSETS_TOPIC);
    if (topic) {
      const parts = topic.partitions.map((p) => p.partition);
      for (const p of parts) this.loadStates.set(p, "loading");
      this.loaded = this.loadPartitions(parts);
    }
    this.scheduleRetention();
  }

  stop(): void {
    this.active = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.answerParked(ErrorCode.NOT_COORDINATOR);
    this.timer.cancelAll();
  }

  /** Shutdown: every parked JoinGroup and SyncGroup is answered (Kafka's onUnloaded), so connections drain. */
  answerParked(errorCode: number): void {
    for (const g of this.groups.values()) {
      g.completeAllJoins(errorCode);
      g.completeAllSyncs(errorCode);
    }
  }

  private onMetadata(e: MetadataEvent): void {
    if (e.type === "topicCreated" && e.topic.name === OFFSETS_TOPIC) {
      for (const p of e.topic.partitions) this.loadStates.set(p.partition, "loaded");
    } else if (e.type === "partitionsAdded" && e.topic.name === OFFSETS_TOPIC) {
      for (const p of e.partitions) this.loadStates.set(p, "loaded");
    } else if (e.type === "topicDeleted") {
      if (e.topic.name === OFFSETS_TOPIC) this.unloadAll();
      else this.dropOffsetsOfTopic(e.topic.name);
    }
  }

  private async loadPartitions(parts: number[]): Promise<void> {
    const started = performance.now();
    let records = 0;
    for (const p of parts) {
      // yield between partitions: the listeners serve meanwhile (COORDINATOR_LOAD_IN_PROGRESS for these groups)
      await new Promise<void>((r) => setImmediate(r));
      if (!this.active) return;
      try {
        records += this.loadPartition(p);
      } catch (e) {
        log.error(`${OFFSETS_TOPIC}-${p}: loading stopped: ${(e as Error).message}`);
      }
      this.loadStates.set(p, "loaded");
      this.onLoaded(p);
    }
    log.info(`group coordinator: loaded ${records} records of ${parts.length} ${OFFSETS_TOPIC} partitions (${this.groups.size} groups) in ${Math.round(performance.now() - started)} ms`);
  }

  /** Replays one partition of __consumer_offsets; returns the record count. */
  private loadPartition(p: number): number {
    const partition = this.broker.storage.getPartition(OFFSETS_TOPIC, p);
    if (!partition) return 0;
    let count = 0;
    let skipped = 0;
    partition.log.forEachBatch(partition.logStartOffset, (batch) => {
      const attributes = int16At(batch, OFF_ATTRIBUTES);
      if (attributes & ATTR_CONTROL) return;
      if (attributes & (ATTR_COMPRESSION_MASK | ATTR_TRANSACTIONAL)) {
        // we write neither; Kafka writes them only with offsets.topic.compression.codec or transactions
        skipped++;
        return;
      }
      for (const r of decodeRecords(batch)) {
        if (r.key === null) continue;
        try {
          this.replay(readOffsetsRecord(r.key, r.value));
          count++;
        } catch (e) {
          skipped++;
          log.warn(`${OFFSETS_TOPIC}-${p}: a record does not decode (${(e as Error).message}); skipped`);
        }
      }
    });
    if (skipped > 0) log.warn(`${OFFSETS_TOPIC}-${p}: ${skipped} compressed, transactional or undecodable batches/records skipped`);
    return count;
  }

  private replay(r: ReturnType<typeof readOffsetsRecord>): void {
    if (r.type === "offset") this.applyOffset(r.group, r.topic, r.partition, r.value);
    else if (r.type === "group") {
      if (r.value === null) this.removeGroup(r.group);
      else this.groups.set(r.group, this.groupFromRecord(r.group, r.value));
    }
  }

  private groupFromRecord(groupId: string, v: GroupMetadata): ClassicGroup {
    const g = new ClassicGroup(groupId, () => this.now());
    g.state = v.members.length === 0 ? "Empty" : "Stable";
    g.generationId = v.generation;
    g.protocolType = v.protocolType === "" ? null : v.protocolType;
    g.protocolName = v.protocol;
    g.stateTimestamp = v.currentStateTimestamp;
    for (const m of v.members) {
      const member = new ClassicGroupMember(
        m.memberId,
        m.groupInstanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout,
        m.sessionTimeout,
        v.protocolType,
        [{ name: v.protocol ?? "", metadata: m.subscription }],
      );
      member.assignment = m.assignment;
      g.add(member, null);
    }
    g.leaderId = v.leader;
    g.subscribedTopics = g.computeSubscribedTopics();
    return g;
  }

  /** A partition finished loading: its members' sessions start now (Kafka's onLoaded). */
  private onLoaded(p: number): void {
    const n = this.partitionCount();
    for (const g of this.groups.values()) {
      if (partitionForGroup(g.groupId, n) !== p) continue;
      for (const m of g.members.values()) this.rescheduleHeartbeat(g, m);
      if (g.members.size > this.cfg.maxSize) this.prepareRebalance(g, `freshly-loaded group is over capacity ${this.cfg.maxSize}`);
    }
  }

  private unloadAll(): void {
    for (const g of this.groups.values()) {
      g.completeAllJoins(ErrorCode.NOT_COORDINATOR);
      g.completeAllSyncs(ErrorCode.NOT_COORDINATOR);
      g.state = "Dead";
    }
    this.groups.clear();
    this.offsets.clear();
    this.loadStates.clear();
    this.timer.cancelAll();
    this.scheduleRetention();
  }

  // ---- where a group lives ----

  private partitionCount(): number {
    return this.broker.topic(OFFSETS_TOPIC)?.partitions.length ?? this.cfg.offsetsTopicPartitions;
  }

  /** The partition of __consumer_offsets that holds this group. */
  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount());
  }

  /**
   * Creates __consumer_offsets when it does not exist yet (the first
   * FindCoordinator for a group, as Kafka's auto topic creation does).
   */
  ensureOffsetsTopic(): void {
    if (this.broker.topic(OFFSETS_TOPIC)) return;
    this.broker.storage.createTopic(OFFSETS_TOPIC, this.cfg.offsetsTopicPartitions, offsetsTopicConfigs(this.cfg.offsetsTopicSegmentBytes));
    log.info(`created ${OFFSETS_TOPIC} with ${this.cfg.offsetsTopicPartitions} partitions`);
  }

  /** 0 when this broker serves the group now; else the error a request about it gets. */
  status(groupId: string): number {
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (!this.broker.topic(OFFSETS_TOPIC)) return ErrorCode.NOT_COORDINATOR;
    const s = this.loadStates.get(this.partitionFor(groupId));
    if (s === "loading") return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return s === "loaded" ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR;
  }

  /** Appends records to the group's partition of __consumer_offsets as one batch; throws on failure. */
  private append(groupId: string, records: OffsetsRecord[]): void {
    if (records.length === 0) return;
    const partition = this.broker.storage.getPartition(OFFSETS_TOPIC, this.partitionFor(groupId));
    if (!partition) throw new GroupError(ErrorCode.NOT_COORDINATOR);
    const buf = buildBatch({ records: records.map((r) => ({ key: r.key, value: r.value })) });
    const scan = validateBatches(buf, false);
    if (!scan.ok) throw new Error(`built an invalid batch: ${scan.reason}`);
    partition.append(buf, scan.batches);
  }

  /** Writes records, answering false (and logging) when the write failed. */
  private tryAppend(groupId: string, records: OffsetsRecord[]): boolean {
    try {
      this.append(groupId, records);
      return true;
    } catch (e) {
      log.error(`group ${groupId}: writing ${records.length} records to ${OFFSETS_TOPIC} failed: ${(e as Error).message}`);
      return false;
    }
  }

  private groupRecord(g: ClassicGroup, assignment: ReadonlyMap<string, Uint8Array>): OffsetsRecord {
    return groupMetadataRecord(g.groupId, {
      protocolType: g.protocolType ?? "",
      generation: g.generationId,
      protocol: g.protocolName,
      leader: g.leaderId,
      currentStateTimestamp: g.stateTimestamp,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadata(g.protocolName),
        assignment: assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT,
      })),
    });
  }

  private getOrCreateGroup(groupId: string): ClassicGroup {
    let g = this.groups.get(groupId);
    if (!g) {
      g = new ClassicGroup(groupId, () => this.now());
      this.groups.set(groupId, g);
    }
    return g;
  }

  private removeGroup(groupId: string): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    g.state = "Dead";
    this.groups.delete(groupId);
    this.timer.cancel(joinKey(groupId));
    this.timer.cancel(syncKey(groupId));
    for (const m of g.members.keys()) this.timer.cancel(heartbeatKey(groupId, m));
  }

  // ---- JoinGroup ----

  joinGroup(req: JoinRequest, info: RequestInfo): JoinResult | Promise<JoinResult> {
    if (!this.active) return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId);
    if (req.groupId === "") return joinError(ErrorCode.INVALID_GROUP_ID, req.memberId);
    if (req.sessionTimeoutMs < this.cfg.minSessionTimeoutMs || req.sessionTimeoutMs > this.cfg.maxSessionTimeoutMs) {
      return joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId);
    }
    const st = this.status(req.groupId);
    if (st !== ErrorCode.NONE) return joinError(st, req.memberId);
    return new Promise<JoinResult>((resolve) => {
      let done = false;
      const onAbort = () => this.joinAbandoned(req.groupId, respond);
      const respond = (r: JoinResult) => {
        if (done) return;
        done = true;
        info.signal.removeEventListener("abort", onAbort);
        resolve(r);
      };
      if (info.signal.aborted) return respond(joinError(ErrorCode.UNKNOWN_SERVER_ERROR, req.memberId));
      info.signal.addEventListener("abort", onAbort, { once: true });
      this.classicGroupJoin(req, info, respond);
    });
  }

  private classicGroupJoin(req: JoinRequest, info: RequestInfo, respond: (r: JoinResult) => void): void {
    const isUnknown = req.memberId === UNKNOWN_MEMBER_ID;
    const isNewGroup = !this.groups.has(req.groupId);
    if (isNewGroup && !isUnknown) return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    const group = this.getOrCreateGroup(req.groupId);
    const writtenBefore = this.writes;
    if (!this.acceptJoiningMember(group, req.memberId)) {
      group.remove(req.memberId);
      respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, UNKNOWN_MEMBER_ID));
    } else if (isUnknown) {
      this.joinNewMember(req, info, group, respond);
    } else {
      this.joinExistingMember(req, info, group, respond);
    }
    // a new group is written at once, even when nothing else was (Kafka's empty GroupMetadata record)
    if (isNewGroup && this.writes === writtenBefore && this.groups.get(req.groupId) === group) {
      if (!this.tryAppend(group.groupId, [groupMetadataRecord(group.groupId, { protocolType: "", generation: 0, protocol: null, leader: null, currentStateTimestamp: group.stateTimestamp, members: [] })])) {
        respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId));
      }
    }
  }

  /** counts group metadata writes, so a join knows whether it wrote one */
  private writes = 0;

  private storeGroup(g: ClassicGroup, assignment: ReadonlyMap<string, Uint8Array>): boolean {
    this.writes++;
    return this.tryAppend(g.groupId, [this.groupRecord(g, assignment)]);
  }

  private acceptJoiningMember(g: ClassicGroup, memberId: string): boolean {
    switch (g.state) {
      case "Empty":
      case "Dead":
        return true;
      case "PreparingRebalance":
        return (g.member(memberId)?.isAwaitingJoin ?? false) || g.numAwaitingJoin < this.cfg.maxSize;
      case "CompletingRebalance":
      case "Stable":
        return g.members.has(memberId) || g.members.size < this.cfg.maxSize;
    }
  }

  private joinNewMember(req: JoinRequest, info: RequestInfo, g: ClassicGroup, respond: (r: JoinResult) => void): void {
    if (g.is("Dead")) return respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, UNKNOWN_MEMBER_ID));
    if (!g.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID));
    const newMemberId = `${req.groupInstanceId ?? info.clientId}-${crypto.randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const existing = g.staticMemberId(req.groupInstanceId);
      if (existing !== undefined) {
        log.info(`group ${g.groupId}: static member ${req.groupInstanceId} rejoins in ${g.state}; replacing member ${existing} with ${newMemberId}`);
        return this.replaceStaticMember(req, info, g, existing, newMemberId, respond);
      }
      return this.addMemberThenRebalanceOrCompleteJoin(req, info, g, newMemberId, respond);
    }
    if (info.apiVersion >= 4) {
      // KIP-394: the member must join again with the id it is given
      g.pendingJoinMembers.add(newMemberId);
      this.timer.schedule(heartbeatKey(g.groupId, newMemberId), req.sessionTimeoutMs, () => this.expireHeartbeat(g.groupId, newMemberId));
      return respond({ ...joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId) });
    }
    this.addMemberThenRebalanceOrCompleteJoin(req, info, g, newMemberId, respond);
  }

  private joinExistingMember(req: JoinRequest, info: RequestInfo, g: ClassicGroup, respond: (r: JoinResult) => void): void {
    const memberId = req.memberId;
    if (g.is("Dead")) return respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    if (!g.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
    if (g.pendingJoinMembers.has(memberId)) {
      return this.addMemberThenRebalanceOrCompleteJoin(req, info, g, memberId, respond);
    }
    try {
      g.validateMember(memberId, req.groupInstanceId, CODES);
    } catch (e) {
      if (!(e instanceof GroupError)) throw e;
      return respond(joinError(e.errorCode, memberId));
    }
    const m = g.member(memberId)!;
    const current = (members: JoinMember[]): JoinResult => ({
      errorCode: ErrorCode.NONE,
      generationId: g.generationId,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      leader: g.leaderId ?? "",
      skipAssignment: false,
      memberId,
      members,
    });
    switch (g.state) {
      case "PreparingRebalance":
        return this.updateMemberThenRebalanceOrCompleteJoin(req, g, m, respond, `member ${memberId} joins during PreparingRebalance`);
      case "CompletingRebalance":
        // the same metadata: it missed the JoinGroup answer; give it again
        if (m.matches(req.protocols)) return respond(current(g.isLeader(memberId) ? g.currentMembers() : []));
        return this.updateMemberThenRebalanceOrCompleteJoin(req, g, m, respond, `member ${memberId} updates its metadata during CompletingRebalance`);
      case "Stable":
        if (g.isLeader(memberId)) return this.updateMemberThenRebalanceOrCompleteJoin(req, g, m, respond, `leader ${memberId} rejoins`);
        if (!m.matches(req.protocols)) return this.updateMemberThenRebalanceOrCompleteJoin(req, g, m, respond, `member ${memberId} updates its metadata`);
        return respond(current([]));
      default:
        log.warn(`group ${g.groupId}: member ${memberId} rejoins in unexpected state ${g.state}`);
        return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  private addMemberThenRebalanceOrCompleteJoin(req: JoinRequest, info: RequestInfo, g: ClassicGroup, memberId: string, respond: (r: JoinResult) => void): void {
    const m = new ClassicGroupMember(
      memberId,
      req.groupInstanceId,
      info.clientId,
      info.clientHost,
      req.rebalanceTimeoutMs,
      req.sessionTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    m.isNew = true;
    if (g.is("PreparingRebalance") && g.previousState === "Empty") g.newMemberAdded = true;
    g.add(m, respond);
    // a new member cannot heartbeat yet: its parked JoinGroup is bounded instead
    this.rescheduleHeartbeat(g, m, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalanceOrCompleteJoin(g, `adding member ${memberId}${req.groupInstanceId === null ? "" : ` (instance ${req.groupInstanceId})`}`);
  }

  private updateMemberThenRebalanceOrCompleteJoin(req: JoinRequest, g: ClassicGroup, m: ClassicGroupMember, respond: (r: JoinResult) => void, reason: string): void {
    g.updateMember(m, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, respond);
    this.maybePrepareRebalanceOrCompleteJoin(g, reason);
  }

  private replaceStaticMember(req: JoinRequest, info: RequestInfo, g: ClassicGroup, oldId: string, newId: string, respond: (r: JoinResult) => void): void {
    const currentLeader = g.leaderId;
    const old = g.member(oldId)!;
    const oldProtocols = old.protocols;
    const oldRebalance = old.rebalanceTimeoutMs;
    const oldSession = old.sessionTimeoutMs;
    this.timer.cancel(heartbeatKey(g.groupId, oldId));
    const m = g.replaceStaticMember(req.groupInstanceId!, oldId, newId, ErrorCode.FENCED_INSTANCE_ID);
    this.rescheduleHeartbeat(g, m);
    g.updateMember(m, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, respond);
    if (g.is("Stable")) {
      if (g.protocolName === g.selectProtocol()) {
        // nothing the assignment depends on changed: no rebalance, the member keeps its partitions
        const assignment = new Map([...g.members.values()].map((x) => [x.memberId, x.assignment]));
        if (!this.storeGroup(g, assignment)) {
          g.updateMember(m, oldProtocols, oldRebalance, oldSession, null);
          const back = g.replaceStaticMember(req.groupInstanceId!, newId, oldId, ErrorCode.FENCED_INSTANCE_ID);
          this.rescheduleHeartbeat(g, back);
          return respond({ ...joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, UNKNOWN_MEMBER_ID), generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName, leader: currentLeader ?? "" });
        }
        const isLeader = g.isLeader(newId);
        const skip = info.apiVersion >= 9;
        g.completeJoin(m, {
          errorCode: ErrorCode.NONE,
          generationId: g.generationId,
          protocolType: g.protocolType,
          protocolName: g.protocolName,
          leader: (skip ? g.leaderId : currentLeader) ?? "",
          skipAssignment: skip && isLeader,
          memberId: newId,
          members: skip && isLeader ? g.currentMembers() : [],
        });
        return;
      }
      return this.maybePrepareRebalanceOrCompleteJoin(g, `static member ${req.groupInstanceId} rejoins with a change of protocol`);
    }
    if (g.is("CompletingRebalance")) return void this.prepareRebalance(g, `static member ${req.groupInstanceId} rejoins during CompletingRebalance`);
    this.maybeCompleteJoinPhase(g);
  }

  /** The connection of a parked JoinGroup closed. */
  private joinAbandoned(groupId: string, respond: (r: JoinResult) => void): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    for (const m of g.members.values()) {
      if (m.awaitingJoin !== respond) continue;
      if (m.isNew) {
        log.info(`group ${groupId}: new member ${m.memberId} left with its connection`);
        this.removeMemberAndUpdateGroup(g, m, "its connection closed");
      } else {
        // as if it had not rejoined: the rebalance goes on without waiting for this request
        g.updateMember(m, m.protocols, m.rebalanceTimeoutMs, m.sessionTimeoutMs, null);
        if (g.is("PreparingRebalance") && g.hasAllMembersJoined) this.completeJoin(g);
      }
      return;
    }
  }

  private maybePrepareRebalanceOrCompleteJoin(g: ClassicGroup, reason: string): void {
    if (g.canRebalance) this.prepareRebalance(g, reason);
    else this.maybeCompleteJoinPhase(g);
  }

  private prepareRebalance(g: ClassicGroup, reason: string): void {
    if (g.is("CompletingRebalance")) this.resetAndPropagateAssignmentWithError(g, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(g);
    const initial = g.is("Empty");
    if (initial) {
      const delay = this.cfg.initialRebalanceDelayMs;
      const remaining = Math.max(g.rebalanceTimeoutMs - delay, 0);
      this.timer.schedule(joinKey(g.groupId), delay, () => this.tryCompleteInitialRebalance(g.groupId, delay, remaining));
    }
    log.info(`group ${g.groupId}: preparing to rebalance in state ${g.state} with old generation ${g.generationId} (${reason})`);
    g.transitionTo("PreparingRebalance");
    if (!initial) this.maybeCompleteJoinElseSchedule(g);
  }

  private maybeCompleteJoinElseSchedule(g: ClassicGroup): void {
    if (g.hasAllMembersJoined) this.completeJoin(g);
    else this.timer.schedule(joinKey(g.groupId), g.rebalanceTimeoutMs, () => this.completeJoinById(g.groupId));
  }

  private tryCompleteInitialRebalance(groupId: string, delayMs: number, remainingMs: number): void {
    const g = this.groups.get(groupId);
    if (!g) return;
    if (g.newMemberAdded && remainingMs !== 0) {
      g.newMemberAdded = false;
      const next = Math.min(this.cfg.initialRebalanceDelayMs, remainingMs);
      const nextRemaining = Math.max(remainingMs - delayMs, 0);
      this.timer.schedule(joinKey(groupId), next, () => this.tryCompleteInitialRebalance(groupId, next, nextRemaining));
    } else {
      this.completeJoin(g);
    }
  }

  private maybeCompleteJoinPhase(g: ClassicGroup): void {
    if (!g.is("PreparingRebalance")) return;
    if (g.previousState === "Empty") return; // the initial rebalance completes on its timer
    if (!g.hasAllMembersJoined) return;
    this.completeJoin(g);
  }

  private completeJoinById(groupId: string): void {
    const g = this.groups.get(groupId);
    if (g) this.completeJoin(g);
  }

  private completeJoin(g: ClassicGroup): void {
    this.timer.cancel(joinKey(g.groupId));
    const gone = g.notYetRejoined().filter((m) => !m.isStatic);
    for (const m of gone) {
      g.remove(m.memberId);
      this.timer.cancel(heartbeatKey(g.groupId, m.memberId));
      this.completeSyncOfRemoved(m);
    }
    if (gone.length > 0) log.info(`group ${g.groupId}: removed members that did not rejoin: ${gone.map((m) => m.memberId).join(", ")}`);
    if (g.is("Dead")) return;
    if (!g.maybeElectNewJoinedLeader() && g.members.size > 0) {
      log.error(`group ${g.groupId}: could not complete the rebalance because no member rejoined`);
      this.timer.schedule(joinKey(g.groupId), g.rebalanceTimeoutMs, () => this.completeJoinById(g.groupId));
      return;
    }
    g.initNextGeneration();
    if (g.is("Empty")) {
      log.info(`group ${g.groupId}: generation ${g.generationId} is empty`);
      this.storeGroup(g, new Map());
      return;
    }
    log.info(`group ${g.groupId}: generation ${g.generationId} with ${g.members.size} members, protocol ${g.protocolName}`);
    for (const m of g.members.values()) {
      g.completeJoin(m, {
        errorCode: ErrorCode.NONE,
        generationId: g.generationId,
        protocolType: g.protocolType,
        protocolName: g.protocolName,
        leader: g.leaderId ?? "",
        skipAssignment: false,
        memberId: m.memberId,
        members: g.isLeader(m.memberId) ? g.currentMembers() : [],
      });
      this.rescheduleHeartbeat(g, m);
      m.isNew = false;
      g.pendingSyncMembers.add(m.memberId);
    }
    const generation = g.generationId;
    this.timer.schedule(syncKey(g.groupId), g.rebalanceTimeoutMs, () => this.expirePendingSync(g.groupId, generation));
  }

  /** A removed member's parked SyncGroup would otherwise wait for its connection to close. */
  private completeSyncOfRemoved(m: ClassicGroupMember): void {
    const f = m.awaitingSync;
    if (!f) return;
    m.awaitingSync = null;
    f(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }

  private expirePendingSync(groupId: string, generation: number): void {
    const g = this.groups.get(groupId);
    if (!g || g.generationId !== generation) return;
    if (!(g.is("CompletingRebalance") || g.is("Stable")) || g.pendingSyncMembers.size === 0) return;
    const late = [...g.pendingSyncMembers];
    for (const id of late) {
      const m = g.member(id);
      g.remove(id);
      this.timer.cancel(heartbeatKey(groupId, id));
      if (m) this.completeSyncOfRemoved(m);
    }
    this.prepareRebalance(g, `removing ${late.join(", ")}: no SyncGroup within the rebalance timeout`);
  }

  private removeSyncExpiration(g: ClassicGroup): void {
    g.pendingSyncMembers.clear();
    this.timer.cancel(syncKey(g.groupId));
  }

  private removePendingSyncMember(g: ClassicGroup, memberId: string): void {
    g.pendingSyncMembers.delete(memberId);
    if (g.pendingSyncMembers.size === 0 || !(g.is("CompletingRebalance") || g.is("Stable"))) this.timer.cancel(syncKey(g.groupId));
  }

  private resetAndPropagateAssignmentWithError(g: ClassicGroup, errorCode: number): void {
    for (const m of g.members.values()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(g, errorCode);
  }

  private setAndPropagateAssignment(g: ClassicGroup, assignment: ReadonlyMap<string, Uint8Array>): void {
    for (const m of g.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT;
    this.propagateAssignment(g, ErrorCode.NONE);
  }

  private propagateAssignment(g: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const m of g.members.values()) {
      const answered = g.completeSync(m, {
        errorCode,
        protocolType: ok ? g.protocolType : null,
        protocolName: ok ? g.protocolName : null,
        assignment: m.assignment,
      });
      // the session restarts once the member has its assignment
      if (answered) this.rescheduleHeartbeat(g, m);
    }
  }

  private rescheduleHeartbeat(g: ClassicGroup, m: ClassicGroupMember, timeoutMs = m.sessionTimeoutMs): void {
    const groupId = g.groupId;
    const memberId = m.memberId;
    this.timer.schedule(heartbeatKey(groupId, memberId), timeoutMs, () => this.expireHeartbeat(groupId, memberId));
  }

  private expireHeartbeat(groupId: string, memberId: string): void {
    const g = this.groups.get(groupId);
    if (!g || g.is("Dead")) return;
    if (g.pendingJoinMembers.has(memberId)) {
      log.info(`group ${groupId}: pending member ${memberId} removed after its session timeout`);
      g.remove(memberId);
      if (g.is("PreparingRebalance") && g.hasAllMembersJoined) this.completeJoin(g);
      return;
    }
    const m = g.member(memberId);
    if (!m || m.hasSatisfiedHeartbeat) return;
    log.info(`group ${groupId}: member ${memberId} failed (no heartbeat within its session timeout); removing it`);
    this.removeMemberAndUpdateGroup(g, m, `member ${memberId} expired`);
  }

  private removeMemberAndUpdateGroup(g: ClassicGroup, m: ClassicGroupMember, reason: string): void {
    g.completeJoin(m, joinError(ErrorCode.UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID));
    this.completeSyncOfRemoved(m);
    g.remove(m.memberId);
    this.timer.cancel(heartbeatKey(g.groupId, m.memberId));
    if (g.is("Stable") || g.is("CompletingRebalance")) this.maybePrepareRebalanceOrCompleteJoin(g, reason);
    else if (g.is("PreparingRebalance") && g.hasAllMembersJoined) this.completeJoin(g);
  }

  // ---- SyncGroup ----

  syncGroup(req: SyncRequest, info: RequestInfo): SyncResult | Promise<SyncResult> {
    if (!this.active) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (req.groupId === "") return syncError(ErrorCode.INVALID_GROUP_ID);
    const st = this.status(req.groupId);
    if (st !== ErrorCode.NONE) return syncError(st);
    const g = this.groups.get(req.groupId);
    if (!g || g.isEmpty) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (g.is("Dead")) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    try {
      g.validateMember(req.memberId, req.groupInstanceId, CODES);
    } catch (e) {
      if (!(e instanceof GroupError)) throw e;
      return syncError(e.errorCode);
    }
    if (req.generationId !== g.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if (inconsistent(req.protocolType, g.protocolType) || inconsistent(req.protocolName, g.protocolName)) return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    if (g.is("PreparingRebalance")) return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    const m = g.member(req.memberId)!;
    if (g.is("Stable")) {
      this.removePendingSyncMember(g, req.memberId);
      return { errorCode: ErrorCode.NONE, protocolType: g.protocolType, protocolName: g.protocolName, assignment: m.assignment };
    }
    // CompletingRebalance: parked until the leader's assignment is stored
    return new Promise<SyncResult>((resolve) => {
      let done = false;
      const onAbort = () => {
        if (m.awaitingSync === respond) m.awaitingSync = null;
      };
      const respond = (r: SyncResult) => {
        if (done) return;
        done = true;
        info.signal.removeEventListener("abort", onAbort);
        resolve(r);
      };
      info.signal.addEventListener("abort", onAbort, { once: true });
      // a second SyncGroup from the same member replaces the first, which is answered as superseded
      if (m.awaitingSync) g.completeSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      m.awaitingSync = respond;
      this.removePendingSyncMember(g, req.memberId);
      if (!g.isLeader(req.memberId)) return;
      log.info(`group ${g.groupId}: assignment received from leader ${req.memberId} for generation ${g.generationId} (${g.members.size} members)`);
      const assignment = new Map<string, Uint8Array>();
      for (const a of req.assignments) assignment.set(a.memberId, a.assignment);
      for (const id of g.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY_ASSIGNMENT);
      const stored = this.storeGroup(g, assignment);
      if (!(g.is("CompletingRebalance") && req.generationId === g.generationId)) return;
      if (stored) {
        this.setAndPropagateAssignment(g, assignment);
        g.transitionTo("Stable");
      } else {
        this.resetAndPropagateAssignmentWithError(g, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        this.maybePrepareRebalanceOrCompleteJoin(g, "storing the assignment failed");
      }
    });
  }

  // ---- Heartbeat ----

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const st = this.status(groupId);
    if (st !== ErrorCode.NONE) return st;
    const g = this.groups.get(groupId);
    if (!g) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (g.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    try {
      g.validateMember(memberId, groupInstanceId, CODES);
    } catch (e) {
      if (!(e instanceof GroupError)) throw e;
      return e.errorCode;
    }
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const m = g.member(memberId)!;
    switch (g.state) {
      case "Empty":
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case "PreparingRebalance":
        this.rescheduleHeartbeat(g, m);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        this.rescheduleHeartbeat(g, m);
        return ErrorCode.NONE;
    }
  }

  // ---- LeaveGroup ----

  leaveGroup(groupId: string, members: MemberIdentity[]): LeaveResult {
    const fail = (errorCode: number): LeaveResult => ({ errorCode, members: [] });
    if (!this.active) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
    const st = this.status(groupId);
    if (st !== ErrorCode.NONE) return fail(st);
    const g = this.groups.get(groupId);
    // a group this broker does not know: every member is unknown (GroupCoordinatorService's answer to the group's absence)
    if (!g) return { errorCode: ErrorCode.NONE, members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) };
    if (g.is("Dead")) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const out: LeaveResult["members"] = [];
    let left = 0;
    for (const who of members) {
      const answer = (errorCode: number) => out.push({ memberId: who.memberId, groupInstanceId: who.groupInstanceId, errorCode });
      const reason = who.reason ?? "not provided";
      if (who.memberId === UNKNOWN_MEMBER_ID) {
        // an admin removing a static member by instance id
        const id = who.groupInstanceId === null ? undefined : g.staticMemberId(who.groupInstanceId);
        if (id === undefined) answer(ErrorCode.UNKNOWN_MEMBER_ID);
        else {
          this.removeLeavingMember(g, id, reason);
          answer(ErrorCode.NONE);
          left++;
        }
      } else if (g.pendingJoinMembers.has(who.memberId)) {
        g.remove(who.memberId);
        this.timer.cancel(heartbeatKey(groupId, who.memberId));
        log.info(`group ${groupId}: pending member ${who.memberId} left (reason: ${reason})`);
        answer(ErrorCode.NONE);
        left++;
      } else {
        try {
          g.validateMember(who.memberId, who.groupInstanceId, CODES);
          this.removeLeavingMember(g, who.memberId, reason);
          answer(ErrorCode.NONE);
          left++;
        } catch (e) {
          if (!(e instanceof GroupError)) throw e;
          answer(e.errorCode);
        }
      }
    }
    if (left > 0) {
      if (g.is("Stable") || g.is("CompletingRebalance")) this.maybePrepareRebalanceOrCompleteJoin(g, `${left} members left`);
      else if (g.is("PreparingRebalance")) this.maybeCompleteJoinPhase(g);
    }
    return { errorCode: ErrorCode.NONE, members: out };
  }

  private removeLeavingMember(g: ClassicGroup, memberId: string, reason: string): void {
    const m = g.member(memberId)!;
    this.timer.cancel(heartbeatKey(g.groupId, memberId));
    log.info(`group ${g.groupId}: member ${memberId} left (reason: ${reason})`);
    g.completeJoin(m, joinError(ErrorCode.UNKNOWN_MEMBER_ID, UNKNOWN_MEMBER_ID));
    this.completeSyncOfRemoved(m);
    g.remove(memberId);
  }

  // ---- DescribeGroups, ListGroups, DeleteGroups ----

  describeGroup(groupId: string): DescribedGroup {
    const base = { groupId, protocolType: "", protocolData: "", members: [] as DescribedGroup["members"] };
    const st = this.status(groupId);
    if (st !== ErrorCode.NONE) return { ...base, errorCode: st, groupState: "" };
    const g = this.groups.get(groupId);
    if (!g) return { ...base, errorCode: ErrorCode.NONE, groupState: "Dead" };
    const stable = g.is("Stable");
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType ?? "",
      protocolData: stable ? (g.protocolName ?? "") : "",
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(g.protocolName) : EMPTY_ASSIGNMENT,
        memberAssignment: m.assignment,
      })),
    };
  }

  /** Every group (states and types as ListGroups v4/v5 filter them, case-insensitively); errorCode while loading. */
  listGroups(states: readonly string[], types: readonly string[]): { errorCode: number; groups: ListedGroup[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    let errorCode: number = ErrorCode.NONE;
    for (const s of this.loadStates.values()) if (s === "loading") errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    const stateSet = new Set(states.map((s) => s.trim().toLowerCase()));
    const typeSet = new Set(types.map((t) => t.trim().toLowerCase()));
    const out: ListedGroup[] = [];
    for (const g of this.groups.values()) {
      if (this.loadStates.get(this.partitionFor(g.groupId)) !== "loaded") continue;
      if (stateSet.size > 0 && !stateSet.has(g.state.toLowerCase())) continue;
      if (typeSet.size > 0 && !typeSet.has("classic")) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolType ?? "", groupState: g.state, groupType: "classic" });
    }
    return { errorCode, groups: out };
  }

  deleteGroup(groupId: string): number {
    const st = this.status(groupId);
    if (st !== ErrorCode.NONE) return st;
    const g = this.groups.get(groupId);
    if (!g || g.is("Dead")) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!g.isEmpty) return ErrorCode.NON_EMPTY_GROUP;
    const records: OffsetsRecord[] = [];
    for (const [topic, parts] of this.offsets.get(groupId) ?? []) for (const p of parts.keys()) records.push(offsetCommitRecord(groupId, topic, p, null));
    records.push(groupMetadataRecord(groupId, null));
    if (!this.tryAppend(groupId, records)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    this.offsets.delete(groupId);
    this.removeGroup(groupId);
    log.info(`group ${groupId}: deleted`);
    return ErrorCode.NONE;
  }

  // ---- offsets ----

  private applyOffset(groupId: string, topic: string, partition: number, o: CommittedOffset | null): void {
    if (o === null) {
      const t = this.offsets.get(groupId)?.get(topic);
      t?.delete(partition);
      if (t?.size === 0) this.offsets.get(groupId)!.delete(topic);
      if (this.offsets.get(groupId)?.size === 0) this.offsets.delete(groupId);
      return;
    }
    // a group with offsets exists (a "simple" group when nobody joined it)
    this.getOrCreateGroup(groupId);
    let byTopic = this.offsets.get(groupId);
    if (!byTopic) this.offsets.set(groupId, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (!byPartition) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, o);
  }

  /**
   * OffsetCommit for partitions that exist (the handler answers the others):
   * one error for all of them when the request is refused, else one per partition.
   */
  commitOffsets(req: CommitRequest, apiVersion: number): { errorCode: number } | { topics: { name: string; partitions: PartitionResult[] }[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    // "" is a group id here, as Kafka keeps it for backwards compatibility (so are OffsetFetch, DescribeGroups and DeleteGroups)
    const st = this.status(req.groupId);
    if (st !== ErrorCode.NONE) return { errorCode: st };
    let g = this.groups.get(req.groupId);
    if (!g) {
      if (req.generationIdOrMemberEpoch >= 0) return { errorCode: apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION };
      // a simple consumer (no group management) or an admin client: the group is made by the commit
      g = this.getOrCreateGroup(req.groupId);
    }
    const refused = this.validateCommit(g, req);
    if (refused !== ErrorCode.NONE) return { errorCode: refused };
    if (g.is("Stable") || g.is("PreparingRebalance")) {
      const m = g.member(req.memberId);
      if (m) this.rescheduleHeartbeat(g, m);
    }
    const now = this.now();
    const expire = req.retentionTimeMs === -1 ? -1 : now + req.retentionTimeMs;
    const records: OffsetsRecord[] = [];
    const applied: [string, number, CommittedOffset][] = [];
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p): PartitionResult => {
        if (p.committedMetadata !== null && p.committedMetadata.length > this.cfg.offsetMetadataMaxBytes) {
          return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.OFFSET_METADATA_TOO_LARGE };
        }
        const o: CommittedOffset = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata ?? "", commitTimestamp: now, expireTimestamp: expire };
        records.push(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, o));
        applied.push([t.name, p.partitionIndex, o]);
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    if (!this.tryAppend(req.groupId, records)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    for (const [topic, partition, o] of applied) this.applyOffset(req.groupId, topic, partition, o);
    return { topics };
  }

  /** Kafka's ClassicGroup.validateOffsetCommit */
  private validateCommit(g: ClassicGroup, req: CommitRequest): number {
    if (g.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const gen = req.generationIdOrMemberEpoch;
    if (gen < 0 && g.isEmpty) return ErrorCode.NONE;
    if (gen >= 0 || req.memberId !== "" || req.groupInstanceId !== null) {
      try {
        g.validateMember(req.memberId, req.groupInstanceId, CODES);
      } catch (e) {
        if (!(e instanceof GroupError)) throw e;
        return e.errorCode;
      }
      if (gen !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!g.isEmpty) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (g.is("CompletingRebalance")) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * OffsetFetch for one group: the named partitions (-1 where nothing is
   * committed), or every committed one when topics is null.
   */
  fetchOffsets(groupId: string, topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null): FetchedGroup {
    const st = this.status(groupId);
    if (st !== ErrorCode.NONE) return { errorCode: st, topics: [] };
    const committed = this.offsets.get(groupId);
    const answer = (p: number, o: CommittedOffset | undefined): FetchedOffset =>
      o === undefined
        ? { partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: ErrorCode.NONE }
        : { partitionIndex: p, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
    if (topics === null) {
      const out: FetchedGroup["topics"] = [];
      for (const [name, parts] of committed ?? []) out.push({ name, partitions: [...parts].map(([p, o]) => answer(p, o)) });
      return { errorCode: ErrorCode.NONE, topics: out };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => answer(p, committed?.get(t.name)?.get(p))) })),
    };
  }

  /** OffsetDelete: errorCode for the whole request, else one per partition. */
  deleteOffsets(groupId: string, topics: readonly { name: string; partitions: readonly number[] }[]): { errorCode: number; topics: { name: string; partitions: PartitionResult[] }[] } {
    const fail = (errorCode: number) => ({ errorCode, topics: [] });
    if (!this.active) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
    const st = this.status(groupId);
    if (st !== ErrorCode.NONE) return fail(st);
    const g = this.groups.get(groupId);
    if (!g || g.is("Dead")) return fail(ErrorCode.GROUP_ID_NOT_FOUND);
    const usesConsumerProtocol = g.protocolType === "consumer";
    if (!g.isEmpty && !usesConsumerProtocol) return fail(ErrorCode.NON_EMPTY_GROUP);
    const committed = this.offsets.get(groupId);
    const records: OffsetsRecord[] = [];
    const removed: [string, number][] = [];
    const out = topics.map((t) => {
      const subscribed = !g.isEmpty && (g.subscribedTopics === null ? usesConsumerProtocol : g.subscribedTopics.has(t.name));
      return {
        name: t.name,
        partitions: t.partitions.map((p): PartitionResult => {
          if (subscribed) return { partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          if (committed?.get(t.name)?.has(p)) {
            records.push(offsetCommitRecord(groupId, t.name, p, null));
            removed.push([t.name, p]);
          }
          return { partitionIndex: p, errorCode: ErrorCode.NONE };
        }),
      };
    });
    if (!this.tryAppend(groupId, records)) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    for (const [t, p] of removed) this.applyOffset(groupId, t, p, null);
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  /** A topic was deleted: every group's offsets for it go, with tombstones (Kafka's onPartitionsDeleted). */
  private dropOffsetsOfTopic(topic: string): void {
    for (const [groupId, byTopic] of [...this.offsets]) {
      const parts = byTopic.get(topic);
      if (!parts) continue;
      const records = [...parts.keys()].map((p) => offsetCommitRecord(groupId, topic, p, null));
      if (!this.tryAppend(groupId, records)) continue;
      for (const p of [...parts.keys()]) this.applyOffset(groupId, topic, p, null);
    }
  }

  // ---- offsets retention ----

  private scheduleRetention(): void {
    this.timer.schedule(RETENTION_KEY, this.cfg.offsetsRetentionCheckIntervalMs, () => {
      this.expireOffsets();
      this.scheduleRetention();
    });
  }

  /**
   * Kafka's cleanupGroupMetadata: offsets of groups with no members (and of
   * simple groups) expire offsets.retention.minutes after the group became
   * empty (or after their commit); a consumer group that is Stable keeps
   * the offsets of topics it subscribes to. An empty group left with no
   * offsets is deleted.
   */
  expireOffsets(): number {
    const now = this.now();
    let expired = 0;
    for (const g of [...this.groups.values()]) {
      if (this.loadStates.get(this.partitionFor(g.groupId)) !== "loaded") continue;
      const byTopic = this.offsets.get(g.groupId);
      const records: OffsetsRecord[] = [];
      const gone: [string, number][] = [];
      const base = this.expiryBase(g);
      if (base !== null && byTopic) {
        for (const [topic, parts] of byTopic) {
          if (g.is("Stable") && g.subscribedTopics?.has(topic)) continue;
          for (const [p, o] of parts) {
            const old = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= this.cfg.offsetsRetentionMs;
            if (old) {
              records.push(offsetCommitRecord(g.groupId, topic, p, null));
              gone.push([topic, p]);
            }
          }
        }
      }
      const left = (byTopic ? [...byTopic.values()].reduce((n, m) => n + m.size, 0) : 0) - gone.length;
      const deleteGroup = g.isEmpty && left === 0;
      if (deleteGroup) records.push(groupMetadataRecord(g.groupId, null));
      if (records.length === 0 || !this.tryAppend(g.groupId, records)) continue;
      for (const [t, p] of gone) this.applyOffset(g.groupId, t, p, null);
      expired += gone.length;
      if (deleteGroup) this.removeGroup(g.groupId);
      if (gone.length > 0) log.info(`group ${g.groupId}: ${gone.length} expired offsets removed${deleteGroup ? "; the group is deleted" : ""}`);
    }
    return expired;
  }

  /** From when an offset's retention counts, or null when the group's offsets do not expire now (Kafka's offsetExpirationCondition). */
  private expiryBase(g: ClassicGroup): ((o: CommittedOffset) => number) | null {
    if (g.protocolType === null) return (o) => o.commitTimestamp; // a simple group
    if (g.isEmpty) return (o) => (g.stateTimestamp >= 0 ? g.stateTimestamp : o.commitTimestamp);
    if (g.protocolType === "consumer" && g.subscribedTopics !== null && g.is("Stable")) return (o) => o.commitTimestamp;
    return null;
  }

  // ---- for tests and the console ----

  group(groupId: string): { state: GroupState; generationId: number; members: number; protocolName: string | null } | undefined {
    const g = this.groups.get(groupId);
    return g && { state: g.state, generationId: g.generationId, members: g.members.size, protocolName: g.protocolName };
  }

  get groupCount(): number {
    return this.groups.size;
  }
}

function inconsistent(requested: string | null, current: string | null): boolean {
  return requested !== null && current !== null && requested !== current;
}

/** "/ip" from the session's "ip:port" (InetAddress.toString, as Kafka records a member's host). */
export function clientHostOf(address: string): string {
  const i = address.lastIndexOf(":");
  const host = i < 0 ? address : address.slice(0, i);
  return `/${host.replace(/^\[|\]$/g, "")}`;
}
