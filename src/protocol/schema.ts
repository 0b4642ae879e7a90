// The schema language: a TypeScript mirror of Apache Kafka's message JSON
// (field order, types, versions, nullableVersions, tagged fields, defaults), so
// each definition reads side by side with ../shared/kafka-protocol. Field names
// are Kafka's; decoded objects use them in camelCase (ErrorCode -> errorCode).

import type { RecordsValue } from "./writer.ts";

export interface FieldDef {
  readonly name: string;
  /** int8 int16 uint16 int32 int64 float64 bool string bytes records uuid, `[]T` arrays, or a struct name with `fields` */
  readonly type: string;
  /** "0+", "3-5" or "none" */
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** as Kafka's JSON writes it: a string ("-1", "null", "0x7fffffff", "true") */
  readonly default?: string;
  readonly fields?: readonly FieldDef[];
}

export interface MessageDef {
  readonly name: string;
  readonly apiKey?: number;
  readonly type: "request" | "response" | "data" | "metadata" | "header";
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly FieldDef[];
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

/**
 * Declares a message. `const` keeps the literal field names and types in the
 * definition's type, which is what Decoded and Encodable are computed from.
 */
export function defineMessage<const D extends MessageDef>(def: D): D {
  return def;
}

// ---- The TypeScript types of messages, derived from their definitions ----

interface PrimitiveTypes {
  int8: number;
  int16: number;
  uint16: number;
  int32: number;
  uint32: number;
  int64: number;
  float64: number;
  bool: boolean;
  string: string;
  bytes: Uint8Array;
  uuid: Uint8Array;
}

/** A message whose definition is not known statically: what the generic layers (network, tests) see. */
export type Struct = { readonly [field: string]: unknown };

type Mode = "decode" | "encode";

type ElemValue<E extends string, F extends FieldDef, M extends Mode> = E extends keyof PrimitiveTypes
  ? PrimitiveTypes[E]
  : E extends "records"
    ? M extends "decode"
      ? Uint8Array
      : RecordsValue
    : F extends { readonly fields: infer S extends readonly FieldDef[] }
      ? StructOf<S, M>
      : never;

type FieldValue<F extends FieldDef, M extends Mode> =
  | (F["type"] extends `[]${infer E}` ? readonly ElemValue<E, F, M>[] : ElemValue<F["type"], F, M>)
  | (F extends { readonly nullableVersions: string } ? null : never);

/** Encoding may leave out what the codec fills in: fields with a default, and tagged fields. */
type OptionalOnEncode<F extends FieldDef> = F extends { readonly default: string } ? F : F extends { readonly tag: number } ? F : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type StructOf<S extends readonly FieldDef[], M extends Mode> = M extends "decode"
  ? { readonly [F in S[number] as Uncapitalize<F["name"]>]: FieldValue<F, M> }
  : Simplify<
      { [F in Exclude<S[number], OptionalOnEncode<S[number]>> as Uncapitalize<F["name"]>]: FieldValue<F, M> } & {
        [F in OptionalOnEncode<S[number]> as Uncapitalize<F["name"]>]?: FieldValue<F, M>;
      }
    >;

/**
 * The decoded form of a message: every field of every version, camelCase
 * (fields absent at the decoded version hold their defaults). Readonly all
 * through: absent arrays and structs are shared frozen defaults.
 */
export type Decoded<D extends MessageDef> = MessageDef extends D ? Struct : StructOf<D["fields"], "decode">;

/** What encoding a message takes: fields with a default and tagged fields may be left out; unknown fields are errors. */
export type Encodable<D extends MessageDef> = MessageDef extends D ? Struct : StructOf<D["fields"], "encode">;
