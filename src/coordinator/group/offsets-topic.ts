// The records of __consumer_offsets, as Kafka's GroupCoordinatorRecordHelpers
// writes them and its coordinator loader reads them: a key prefixed by an
// int16 that says which record it is (0 or 1 an offset commit, 2 group
// metadata; higher ones belong to the newer group protocols and are skipped),
// and a value prefixed by its own int16 version, or null (a tombstone).
// Kafka 4.4 writes OffsetCommitKey v1 with OffsetCommitValue v3 (v1 when the
// commit carries an expire timestamp) and GroupMetadataValue v3.

import { decode, encode } from "../../protocol/codec.ts";
import type { Decoded } from "../../protocol/schema.ts";
import { GroupMetadataKey, GroupMetadataValue, OffsetCommitKey, OffsetCommitValue } from "./records.ts";

export const OFFSETS_TOPIC = "__consumer_offsets";

/** What Kafka gives __consumer_offsets when it creates it (GroupCoordinatorService.groupMetadataTopicConfigs). */
export function offsetsTopicConfigs(segmentBytes: number): Record<string, string> {
  return { "cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": String(segmentBytes) };
}

/**
 * Utils.abs(groupId.hashCode()) % partitions, as GroupCoordinatorService.partitionFor:
 * Java's String.hashCode over UTF-16 code units, then Kafka's Utils.abs (the
 * absolute value, 0 for Integer.MIN_VALUE). Not Utils.toPositive (h & 0x7fffffff,
 * the producer partitioner's), which differs for every negative hash.
 */
export function partitionForGroup(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitions;
}

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1 unless the commit asked for its own retention (OffsetCommit v2-4 retention_time_ms) */
  expireTimestamp: number;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Uint8Array;
  assignment: Uint8Array;
}

export interface GroupMetadata {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: GroupMember[];
}

export interface OffsetsRecord {
  key: Uint8Array;
  value: Uint8Array | null;
}

function prefixed(version: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length);
  new DataView(out.buffer).setInt16(0, version);
  out.set(body, 2);
  return out;
}

export function offsetCommitRecord(group: string, topic: string, partition: number, o: CommittedOffset | null): OffsetsRecord {
  const key = prefixed(1, encode(OffsetCommitKey, 1, { group, topic, partition }));
  if (o === null) return { key, value: null };
  const version = o.expireTimestamp >= 0 ? 1 : 3;
  return { key, value: prefixed(version, encode(OffsetCommitValue, version, o)) };
}

export function groupMetadataRecord(group: string, g: GroupMetadata | null): OffsetsRecord {
  const key = prefixed(2, encode(GroupMetadataKey, 2, { group }));
  if (g === null) return { key, value: null };
  return { key, value: prefixed(3, encode(GroupMetadataValue, 3, g)) };
}

export type LoadedRecord =
  | { type: "offset"; group: string; topic: string; partition: number; value: CommittedOffset | null }
  | { type: "group"; group: string; value: GroupMetadata | null }
  | { type: "other"; keyVersion: number };

/** Reads one record of __consumer_offsets; throws on bytes that do not decode. */
export function readOffsetsRecord(key: Uint8Array, value: Uint8Array | null): LoadedRecord {
  if (key.length < 2) throw new Error(`key of ${key.length} bytes`);
  const kv = new DataView(key.buffer, key.byteOffset, key.byteLength).getInt16(0);
  const version = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt16(0);
  if (kv === 0 || kv === 1) {
    const k = decode(OffsetCommitKey, kv, key.subarray(2));
    if (value === null) return { type: "offset", group: k.group, topic: k.topic, partition: k.partition, value: null };
    const vv = version(value);
    if (vv < 0 || vv > 4) throw new Error(`OffsetCommitValue version ${vv}`);
    const v: Decoded<typeof OffsetCommitValue> = decode(OffsetCommitValue, vv, value.subarray(2));
    return {
      type: "offset",
      group: k.group,
      topic: k.topic,
      partition: k.partition,
      value: { offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, commitTimestamp: v.commitTimestamp, expireTimestamp: v.expireTimestamp },
    };
  }
  if (kv === 2) {
    const k = decode(GroupMetadataKey, 2, key.subarray(2));
    if (value === null) return { type: "group", group: k.group, value: null };
    const vv = version(value);
    if (vv < 0 || vv > 4) throw new Error(`GroupMetadataValue version ${vv}`);
    const v = decode(GroupMetadataValue, vv, value.subarray(2));
    return {
      type: "group",
      group: k.group,
      value: {
        protocolType: v.protocolType,
        generation: v.generation,
        protocol: v.protocol,
        leader: v.leader,
        currentStateTimestamp: v.currentStateTimestamp,
        // copies: the record bytes are only valid during the load callback
        members: v.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeout: m.rebalanceTimeout,
          sessionTimeout: m.sessionTimeout,
          subscription: m.subscription.slice(),
          assignment: m.assignment.slice(),
        })),
      },
    };
  }
  return { type: "other", keyVersion: kv };
}
