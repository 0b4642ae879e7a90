// KRaft metadata records in __cluster_metadata, in the schema language of src/protocol/schema.ts.
import { codecFor } from "../protocol/codec.ts";
import type { Reader } from "../protocol/reader.ts";
import { defineMessage, type Decoded } from "../protocol/schema.ts";

export const FeatureLevelRecord = defineMessage({
  name: "FeatureLevelRecord",
  apiKey: 12,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "Name", type: "string", versions: "0+" },
    { name: "FeatureLevel", type: "int16", versions: "0+" },
  ],
});

export const TopicRecord = defineMessage({
  name: "TopicRecord",
  apiKey: 2,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "Name", type: "string", versions: "0+" },
    { name: "TopicId", type: "uuid", versions: "0+" },
  ],
});

export const PartitionRecord = defineMessage({
  name: "PartitionRecord",
  apiKey: 3,
  type: "metadata",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "PartitionId", type: "int32", versions: "0+", default: "-1" },
    { name: "TopicId", type: "uuid", versions: "0+" },
    { name: "Replicas", type: "[]int32", versions: "0+" },
    { name: "Isr", type: "[]int32", versions: "0+" },
    { name: "RemovingReplicas", type: "[]int32", versions: "0+" },
    { name: "AddingReplicas", type: "[]int32", versions: "0+" },
    { name: "Leader", type: "int32", versions: "0+", default: "-1" },
    { name: "LeaderRecoveryState", type: "int8", versions: "0+", tag: 0, taggedVersions: "0+", default: "0" },
    { name: "LeaderEpoch", type: "int32", versions: "0+", default: "-1" },
    { name: "PartitionEpoch", type: "int32", versions: "0+", default: "-1" },
    { name: "Directories", type: "[]uuid", versions: "1+" },
    { name: "EligibleLeaderReplicas", type: "[]int32", versions: "2+", nullableVersions: "2+", tag: 1, taggedVersions: "2+", default: "null" },
    { name: "LastKnownElr", type: "[]int32", versions: "2+", nullableVersions: "2+", tag: 2, taggedVersions: "2+", default: "null" },
  ],
});

export const PartitionChangeRecord = defineMessage({
  name: "PartitionChangeRecord",
  apiKey: 5,
  type: "metadata",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "PartitionId", type: "int32", versions: "0+", default: "-1" },
    { name: "TopicId", type: "uuid", versions: "0+" },
    { name: "Isr", type: "[]int32", versions: "0+", nullableVersions: "0+", tag: 0, taggedVersions: "0+", default: "null" },
    { name: "Leader", type: "int32", versions: "0+", tag: 1, taggedVersions: "0+", default: "-2" },
    { name: "Replicas", type: "[]int32", versions: "0+", nullableVersions: "0+", tag: 2, taggedVersions: "0+", default: "null" },
    { name: "RemovingReplicas", type: "[]int32", versions: "0+", nullableVersions: "0+", tag: 3, taggedVersions: "0+", default: "null" },
    { name: "AddingReplicas", type: "[]int32", versions: "0+", nullableVersions: "0+", tag: 4, taggedVersions: "0+", default: "null" },
    { name: "LeaderRecoveryState", type: "int8", versions: "0+", tag: 5, taggedVersions: "0+", default: "-1" },
    { name: "Directories", type: "[]uuid", versions: "1+", nullableVersions: "1+", tag: 8, taggedVersions: "1+", default: "null" },
    { name: "EligibleLeaderReplicas", type: "[]int32", versions: "2+", nullableVersions: "2+", tag: 6, taggedVersions: "2+", default: "null" },
    { name: "LastKnownElr", type: "[]int32", versions: "2+", nullableVersions: "2+", tag: 7, taggedVersions: "2+", default: "null" },
  ],
});

export const RemoveTopicRecord = defineMessage({
  name: "RemoveTopicRecord",
  apiKey: 9,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "TopicId", type: "uuid", versions: "0+" },
  ],
});

export const RegisterBrokerRecord = defineMessage({
  name: "RegisterBrokerRecord",
  apiKey: 0,
  type: "metadata",
  validVersions: "0-3",
  flexibleVersions: "0+",
  fields: [
    { name: "BrokerId", type: "int32", versions: "0+" },
    { name: "IsMigratingZkBroker", type: "bool", versions: "2+", default: "false" },
    { name: "IncarnationId", type: "uuid", versions: "0+" },
    { name: "BrokerEpoch", type: "int64", versions: "0+" },
    { name: "EndPoints", type: "[]BrokerEndpoint", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "Host", type: "string", versions: "0+" },
      { name: "Port", type: "uint16", versions: "0+" },
      { name: "SecurityProtocol", type: "int16", versions: "0+" },
    ] },
    { name: "Features", type: "[]BrokerFeature", versions: "0+", fields: [
      { name: "Name", type: "string", versions: "0+" },
      { name: "MinSupportedVersion", type: "int16", versions: "0+" },
      { name: "MaxSupportedVersion", type: "int16", versions: "0+" },
    ] },
    { name: "Rack", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "Fenced", type: "bool", versions: "0+", default: "true" },
    { name: "InControlledShutdown", type: "bool", versions: "1+", default: "false" },
    { name: "LogDirs", type: "[]uuid", versions: "3+", tag: 0, taggedVersions: "3+" },
  ],
});

export const NoOpRecord = defineMessage({
  name: "NoOpRecord",
  apiKey: 20,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [],
});

export const ConfigRecord = defineMessage({
  name: "ConfigRecord",
  apiKey: 4,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "ResourceType", type: "int8", versions: "0+" },
    { name: "ResourceName", type: "string", versions: "0+" },
    { name: "Name", type: "string", versions: "0+" },
    { name: "Value", type: "string", versions: "0+", nullableVersions: "0+" },
  ],
});


// Kafka wraps multi-batch atomic writes (and the bootstrap records) in these.
export const BeginTransactionRecord = defineMessage({
  name: "BeginTransactionRecord",
  apiKey: 23,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "Name", type: "string", versions: "0+", nullableVersions: "0+", tag: 0, taggedVersions: "0+", default: "null" },
  ],
});

export const EndTransactionRecord = defineMessage({
  name: "EndTransactionRecord",
  apiKey: 24,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [],
});

export const AbortTransactionRecord = defineMessage({
  name: "AbortTransactionRecord",
  apiKey: 25,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "Reason", type: "string", versions: "0+", nullableVersions: "0+", tag: 0, taggedVersions: "0+", default: "null" },
  ],
});

export const ZkMigrationStateRecord = defineMessage({
  name: "ZkMigrationStateRecord",
  apiKey: 21,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "ZkMigrationState", type: "int8", versions: "0+" },
  ],
});

// A block of producer ids handed to a broker: ids below NextProducerId are taken (Kafka's ProducerIdControlManager).
export const ProducerIdsRecord = defineMessage({
  name: "ProducerIdsRecord",
  apiKey: 15,
  type: "metadata",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "BrokerId", type: "int32", versions: "0+" },
    { name: "BrokerEpoch", type: "int64", versions: "0+", default: "-1" },
    { name: "NextProducerId", type: "int64", versions: "0+" },
  ],
});

const ALL_RECORDS = [
  FeatureLevelRecord,
  TopicRecord,
  PartitionRecord,
  PartitionChangeRecord,
  RemoveTopicRecord,
  RegisterBrokerRecord,
  NoOpRecord,
  ConfigRecord,
  BeginTransactionRecord,
  EndTransactionRecord,
  AbortTransactionRecord,
  ZkMigrationStateRecord,
  ProducerIdsRecord,
] as const;

/** The definition of any record type above. */
export type MetadataRecordDef = (typeof ALL_RECORDS)[number];

/** A decoded record of one of the types above; `apiKey` tells which (switch on it to get the type of `data`). */
export type DecodedRecord = MetadataRecordDef extends infer D
  ? D extends MetadataRecordDef
    ? { readonly apiKey: D["apiKey"]; readonly data: Decoded<D> }
    : never
  : never;

/** Every record type defined above, by apiKey; other types are skipped on replay. */
export const METADATA_RECORDS: ReadonlyMap<number, MetadataRecordDef> = new Map(ALL_RECORDS.map((d) => [d.apiKey, d]));

/** Decodes a record body of type `def` at `version`. */
export function decodeRecordBody(def: MetadataRecordDef, version: number, r: Reader): DecodedRecord {
  // TypeScript cannot correlate a union of definitions with a union of
  // results; the body is decoded with `def`, so it is `def`'s Decoded.
  return { apiKey: def.apiKey, data: codecFor(def, version).read(r) } as DecodedRecord;
}
