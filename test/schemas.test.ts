// Our message definitions against Apache Kafka's JSON schemas of the same
// name (../shared/kafka-protocol/messages, metadata/ for the KRaft records
// and coordinator/ for the __consumer_offsets records), field by field and recursively: a field Kafka has at any version
// we serve must be ours too, in the same order, with the same name, type,
// versions, nullableVersions, taggedVersions, tag and default; we have no
// field Kafka lacks; our validVersions lie within Kafka's (we may serve fewer).
// Defaults are compared by value: "-1" and -1 are the same, "0x7fffffff" and
// "2147483647" too; an absent default matches only an absent one. Tags are
// numbers ("0" and 0 alike). Skipped without ../shared.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseVersions, type FieldDef, type MessageDef, type VersionRange } from "../src/protocol/schema.ts";
import * as alterConfigs from "../src/protocol/messages/alter-configs.ts";
import * as incrementalAlterConfigs from "../src/protocol/messages/incremental-alter-configs.ts";
import * as apiVersions from "../src/protocol/messages/api-versions.ts";
import * as createPartitions from "../src/protocol/messages/create-partitions.ts";
import * as createTopics from "../src/protocol/messages/create-topics.ts";
import * as deleteTopics from "../src/protocol/messages/delete-topics.ts";
import * as describeCluster from "../src/protocol/messages/describe-cluster.ts";
import * as describeConfigs from "../src/protocol/messages/describe-configs.ts";
import * as describeTopicPartitions from "../src/protocol/messages/describe-topic-partitions.ts";
import * as fetch from "../src/protocol/messages/fetch.ts";
import * as initProducerId from "../src/protocol/messages/init-producer-id.ts";
import * as listOffsets from "../src/protocol/messages/list-offsets.ts";
import * as metadata from "../src/protocol/messages/metadata.ts";
import * as produce from "../src/protocol/messages/produce.ts";
import * as findCoordinator from "../src/protocol/messages/find-coordinator.ts";
import * as joinGroup from "../src/protocol/messages/join-group.ts";
import * as heartbeat from "../src/protocol/messages/heartbeat.ts";
import * as leaveGroup from "../src/protocol/messages/leave-group.ts";
import * as syncGroup from "../src/protocol/messages/sync-group.ts";
import * as describeGroups from "../src/protocol/messages/describe-groups.ts";
import * as listGroups from "../src/protocol/messages/list-groups.ts";
import * as offsetCommit from "../src/protocol/messages/offset-commit.ts";
import * as offsetFetch from "../src/protocol/messages/offset-fetch.ts";
import * as deleteGroups from "../src/protocol/messages/delete-groups.ts";
import * as offsetDelete from "../src/protocol/messages/offset-delete.ts";
import * as electLeaders from "../src/protocol/messages/elect-leaders.ts";
import * as alterPartitionReassignments from "../src/protocol/messages/alter-partition-reassignments.ts";
import * as listPartitionReassignments from "../src/protocol/messages/list-partition-reassignments.ts";
import { METADATA_RECORDS } from "../src/metadata/records.ts";
import * as groupRecords from "../src/coordinator/group/records.ts";
import { SHARED } from "./helpers.ts";

const PROTOCOL = join(SHARED, "kafka-protocol");
const HAVE_SHARED = existsSync(join(PROTOCOL, "messages"));

const MESSAGES: MessageDef[] = [
  alterConfigs, incrementalAlterConfigs, apiVersions, createPartitions, createTopics, deleteTopics, describeCluster, describeConfigs, describeTopicPartitions, fetch, initProducerId, listOffsets, metadata, produce,
  findCoordinator, joinGroup, heartbeat, leaveGroup, syncGroup, describeGroups, listGroups, offsetCommit, offsetFetch, deleteGroups, offsetDelete,
  electLeaders, alterPartitionReassignments, listPartitionReassignments,
].flatMap((m) => Object.values(m) as MessageDef[]);
const RECORDS: MessageDef[] = [...METADATA_RECORDS.values()];
const COORDINATOR_RECORDS: MessageDef[] = Object.values(groupRecords) as MessageDef[];

interface JsonField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  /** a number, or a string of one ("tag": "0" in some metadata records) */
  tag?: number | string;
  default?: string | number | boolean;
  fields?: JsonField[];
}

interface JsonMessage {
  name: string;
  apiKey?: number;
  type: string;
  validVersions: string;
  flexibleVersions: string;
  fields: JsonField[];
  commonStructs?: { name: string; versions: string; fields: JsonField[] }[];
}

/** Kafka's schema files are JSON with `//` line comments; strings may contain "//" (URLs). */
export function stripComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else {
      out += c;
    }
  }
  return out;
}

function readJson(path: string): JsonMessage {
  return JSON.parse(stripComments(readFileSync(path, "utf8"))) as JsonMessage;
}

/** The schema named `name` in `dir`: <name>.json, else the file whose "name" it is (ZkMigrationStateRecord lives in ZkMigrationRecord.json). */
function findSchema(dir: string, name: string): JsonMessage | undefined {
  const direct = join(dir, `${name}.json`);
  if (existsSync(direct)) return readJson(direct);
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".json")) continue;
    const m = readJson(join(dir, f));
    if (m.name === name) return m;
  }
  return undefined;
}

const NUMERIC = new Set(["int8", "int16", "uint16", "int32", "uint32", "int64", "float64"]);

/** A default as a comparable string: numbers by value (hex too), booleans lowercased, strings as written. */
function normalDefault(type: string, d: string | number | boolean | undefined): string | undefined {
  if (d === undefined) return undefined;
  const s = String(d).trim();
  if (NUMERIC.has(type) && s !== "null") {
    const n = Number(s);
    return Number.isNaN(n) ? s : String(n);
  }
  if (type === "bool") return s.toLowerCase();
  return s;
}

function sameRange(a: VersionRange, b: VersionRange): boolean {
  const empty = (r: VersionRange) => r.min > r.max;
  if (empty(a) && empty(b)) return true;
  return a.min === b.min && a.max === b.max;
}

function overlaps(field: string, ours: VersionRange): boolean {
  const r = parseVersions(field);
  return Math.max(r.min, ours.min) <= Math.min(r.max, ours.max);
}

/** Every difference between our fields and Kafka's, as "path: what" lines. */
function compareFields(path: string, ours: readonly FieldDef[], theirs: JsonField[], served: VersionRange, common: Map<string, JsonField[]>): string[] {
  const problems: string[] = [];
  const relevant = theirs.filter((f) => overlaps(f.versions, served));
  const byName = new Map(theirs.map((f) => [f.name, f]));
  for (const f of ours) if (!byName.has(f.name)) problems.push(`${path}.${f.name}: not in Kafka's schema`);
  for (const t of relevant) if (!ours.some((f) => f.name === t.name)) problems.push(`${path}.${t.name}: missing (Kafka: ${t.type}, versions ${t.versions})`);
  // wire order: the fields both have, in the order each lists them
  const ourOrder = ours.filter((f) => byName.has(f.name) && overlaps(f.versions, served)).map((f) => f.name);
  const theirOrder = relevant.filter((t) => ours.some((f) => f.name === t.name)).map((t) => t.name);
  if (ourOrder.join() !== theirOrder.join()) problems.push(`${path}: field order ${ourOrder.join(",")} vs Kafka's ${theirOrder.join(",")}`);

  for (const f of ours) {
    const t = byName.get(f.name);
    if (!t) continue;
    const at = `${path}.${f.name}`;
    if (f.type !== t.type) problems.push(`${at}: type ${f.type} vs Kafka's ${t.type}`);
    for (const attr of ["versions", "nullableVersions", "taggedVersions"] as const) {
      if (!sameRange(parseVersions(f[attr]), parseVersions(t[attr]))) problems.push(`${at}: ${attr} ${f[attr] ?? "(none)"} vs Kafka's ${t[attr] ?? "(none)"}`);
    }
    if (f.tag !== (t.tag === undefined ? undefined : Number(t.tag))) problems.push(`${at}: tag ${f.tag ?? "(none)"} vs Kafka's ${t.tag ?? "(none)"}`);
    const elem = t.type.replace(/^\[\]/, "");
    const d1 = normalDefault(elem, f.default);
    const d2 = normalDefault(elem, t.default);
    if (d1 !== d2) problems.push(`${at}: default ${JSON.stringify(f.default) ?? "(none)"} vs Kafka's ${JSON.stringify(t.default) ?? "(none)"}`);
    const theirFields = t.fields ?? common.get(elem);
    if (theirFields || f.fields) {
      if (!theirFields) problems.push(`${at}: struct fields, Kafka's ${t.type} has none`);
      else if (!f.fields) problems.push(`${at}: no struct fields, Kafka's ${t.type} has ${theirFields.length}`);
      else problems.push(...compareFields(at, f.fields, theirFields, served, common));
    }
  }
  return problems;
}

function compareMessage(ours: MessageDef, theirs: JsonMessage): string[] {
  const problems: string[] = [];
  if (ours.name !== theirs.name) problems.push(`name ${ours.name} vs Kafka's ${theirs.name}`);
  if (ours.apiKey !== theirs.apiKey) problems.push(`apiKey ${ours.apiKey} vs Kafka's ${theirs.apiKey}`);
  if (ours.type !== theirs.type) problems.push(`type ${ours.type} vs Kafka's ${theirs.type}`);
  if (!sameRange(parseVersions(ours.flexibleVersions), parseVersions(theirs.flexibleVersions))) {
    problems.push(`flexibleVersions ${ours.flexibleVersions} vs Kafka's ${theirs.flexibleVersions}`);
  }
  const served = parseVersions(ours.validVersions);
  const valid = parseVersions(theirs.validVersions);
  if (served.min < valid.min || served.max > valid.max) problems.push(`validVersions ${ours.validVersions} outside Kafka's ${theirs.validVersions}`);
  const common = new Map((theirs.commonStructs ?? []).map((s) => [s.name, s.fields]));
  problems.push(...compareFields(ours.name, ours.fields, theirs.fields, served, common));
  return problems;
}

describe.skipIf(!HAVE_SHARED)("definitions match Kafka's JSON schemas", () => {
  for (const [dir, defs] of [
    ["messages", MESSAGES],
    ["metadata", RECORDS],
    ["coordinator", COORDINATOR_RECORDS],
  ] as const) {
    for (const def of defs) {
      test(`${dir}/${def.name}`, () => {
        const theirs = findSchema(join(PROTOCOL, dir), def.name);
        expect(theirs, `no schema named ${def.name} in ${dir}/`).toBeDefined();
        expect(compareMessage(def, theirs!)).toEqual([]);
      });
    }
  }
});

describe("the comparison itself", () => {
  test("comments are stripped outside strings only", () => {
    expect(JSON.parse(stripComments('// head\n{ "a": "http://x", // tail\n "b": 1 }'))).toEqual({ a: "http://x", b: 1 });
  });

  const def = (fields: FieldDef[]): MessageDef => ({ name: "T", apiKey: 1, type: "request", validVersions: "0-3", flexibleVersions: "2+", fields });
  const json = (fields: JsonField[], commonStructs?: JsonMessage["commonStructs"]): JsonMessage => ({ name: "T", apiKey: 1, type: "request", validVersions: "0-5", flexibleVersions: "2+", fields, commonStructs });

  test("defaults by value, common structs resolved, fields beyond our versions ignored", () => {
    const ours = def([
      { name: "A", type: "int32", versions: "0+", default: "0x7fffffff" },
      { name: "S", type: "[]Item", versions: "0+", fields: [{ name: "X", type: "bool", versions: "0+", default: "false" }] },
    ]);
    const theirs = json(
      [
        { name: "A", type: "int32", versions: "0+", default: 2147483647 },
        { name: "S", type: "[]Item", versions: "0+" },
        { name: "Later", type: "int8", versions: "4+" },
      ],
      [{ name: "Item", versions: "0+", fields: [{ name: "X", type: "bool", versions: "0+", default: false }] }],
    );
    expect(compareMessage(ours, theirs)).toEqual([]);
  });

  test("finds missing, extra, misordered and different fields", () => {
    const ours = def([
      { name: "B", type: "int16", versions: "0+" },
      { name: "A", type: "int32", versions: "1+", default: "-1" },
      { name: "Extra", type: "string", versions: "0+" },
    ]);
    const theirs = json([
      { name: "A", type: "int32", versions: "0+" },
      { name: "B", type: "int16", versions: "0+", nullableVersions: "1+" },
      { name: "C", type: "int8", versions: "3+" },
    ]);
    expect(compareMessage(ours, theirs)).toEqual([
      "T.Extra: not in Kafka's schema",
      "T.C: missing (Kafka: int8, versions 3+)",
      "T: field order B,A vs Kafka's A,B",
      "T.B: nullableVersions (none) vs Kafka's 1+",
      "T.A: versions 1+ vs Kafka's 0+",
      'T.A: default "-1" vs Kafka\'s (none)',
    ]);
  });
});
