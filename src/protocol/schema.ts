// The schema language: a TypeScript mirror of Apache Kafka's message JSON
// (field order, types, versions, nullableVersions, tagged fields, defaults), so
// each definition reads side by side with ../shared/kafka-protocol. Field names
// are Kafka's; decoded objects use them in camelCase (ErrorCode -> errorCode).

export interface FieldDef {
  name: string;
  /** int8 int16 uint16 int32 int64 float64 bool string bytes records uuid, `[]T` arrays, or a struct name with `fields` */
  type: string;
  /** "0+", "3-5" or "none" */
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: unknown;
  fields?: FieldDef[];
}

export interface MessageDef {
  name: string;
  apiKey?: number;
  type: "request" | "response" | "data" | "metadata" | "header";
  validVersions: string;
  flexibleVersions: string;
  fields: FieldDef[];
}

export interface VersionRange {
  min: number;
  max: number;
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 };

export function parseVersions(s: string | undefined): VersionRange {
  if (s === undefined || s === "none" || s === "") return NO_VERSIONS;
  if (s.endsWith("+")) return { min: Number(s.slice(0, -1)), max: Infinity };
  const dash = s.indexOf("-");
  if (dash > 0) return { min: Number(s.slice(0, dash)), max: Number(s.slice(dash + 1)) };
  const v = Number(s);
  return { min: v, max: v };
}

export function inRange(r: VersionRange, v: number): boolean {
  return v >= r.min && v <= r.max;
}

export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function defineMessage(def: MessageDef): MessageDef {
  return def;
}
