// Segment retention: which whole segments of a partition go, as Kafka's
// UnifiedLog.deleteOldSegments decides, run for every partition by the log
// manager every log.retention.check.interval.ms (LogManager.cleanupLogs).
//
// A round applies, in Kafka's order, each on what the previous one left:
// - log start offset breach: segments wholly below the log start offset
//   (DeleteRecords moved it, possibly before a restart);
// - retention.bytes (topics with `delete` in cleanup.policy, -1: none): the
//   oldest segments while the log stays at or above retention.bytes without
//   them;
// - retention.ms (likewise, -1: none): segments whose largest record timestamp
//   is more than retention.ms before now (an empty segment: its file's mtime,
//   as LogSegment.largestTimestamp).
// Each takes the oldest segments while its predicate holds and stops at the
// first that fails (Kafka's deletableSegments); no segment ending above the
// high watermark goes, nor a last segment that is empty. When every segment,
// the active one included, is to go, the active one is rolled first, so the
// log keeps an (empty) segment at its end offset and appends continue there.
// Deleted segments are renamed `.deleted` at once and removed after
// file.delete.delay.ms (PartitionLog's retention hook); the log start offset
// moves to the first kept segment, and their producer snapshots go
// (Partition.deleteSegmentsBefore). One info line per partition per round.

import { statSync } from "node:fs";
import type { SegmentSummary } from "./partition-log.ts";
import type { Partition } from "./partition.ts";
import { log } from "../log.ts";

export interface RetentionConfig {
  /** cleanup.policy includes delete: retentionMs and retentionBytes apply (else only the log start offset breach) */
  deleteRetention: boolean;
  /** retention.ms, negative: no time limit */
  retentionMs: number;
  /** retention.bytes, negative: no size limit */
  retentionBytes: number;
}

/**
 * Kafka's deletableSegments: how many of the oldest segments `shouldDelete`
 * takes, stopping at the first it refuses. A segment is only offered when
 * the high watermark is at or past its end (the next segment's base, or the
 * log end for the last), and a last segment that is empty never counts.
 */
export function deletableCount(segs: readonly SegmentSummary[], highWatermark: number, logEndOffset: number, shouldDelete: (seg: SegmentSummary, next: SegmentSummary | undefined) => boolean): number {
  let n = 0;
  for (; n < segs.length; n++) {
    const seg = segs[n]!;
    const next = segs[n + 1];
    if (next === undefined && seg.size === 0) break;
    const upperBound = next !== undefined ? next.baseOffset : logEndOffset;
    if (!(highWatermark >= upperBound && shouldDelete(seg, next))) break;
  }
  return n;
}

/** The segments wholly below the log start offset (Kafka's deleteLogStartOffsetBreachedSegments). */
export function startOffsetBreach(segs: readonly SegmentSummary[], logStartOffset: number, highWatermark: number, logEndOffset: number): number {
  return deletableCount(segs, highWatermark, logEndOffset, (_s, next) => next !== undefined && next.baseOffset <= logStartOffset);
}

/** The oldest segments the log can lose and stay at or above `retentionBytes` (deleteRetentionSizeBreachedSegments). */
export function sizeBreach(segs: readonly SegmentSummary[], retentionBytes: number, highWatermark: number, logEndOffset: number): number {
  if (retentionBytes < 0) return 0;
  let size = 0;
  for (const s of segs) size += s.size;
  if (size < retentionBytes) return 0;
  let diff = size - retentionBytes;
  return deletableCount(segs, highWatermark, logEndOffset, (s) => {
    if (diff - s.size < 0) return false;
    diff -= s.size;
    return true;
  });
}

/** LogSegment.largestTimestamp: the largest record timestamp, or the file's mtime when it has none. */
export function largestTimestamp(seg: SegmentSummary): number {
  if (seg.largestTimestamp >= 0) return seg.largestTimestamp;
  try {
    return statSync(seg.path).mtimeMs;
  } catch {
    return Infinity; // gone or unreadable: not old
  }
}

/** The oldest segments older than `retentionMs` at `nowMs` (deleteRetentionMsBreachedSegments). */
export function timeBreach(segs: readonly SegmentSummary[], retentionMs: number, nowMs: number, highWatermark: number, logEndOffset: number, timestampOf = largestTimestamp): number {
  if (retentionMs < 0) return 0;
  return deletableCount(segs, highWatermark, logEndOffset, (s) => nowMs - timestampOf(s) > retentionMs);
}

export interface RetentionOutcome {
  segments: number;
  bytes: number;
  /** the offsets the deleted segments covered: [from, to) */
  from: number;
  to: number;
  /** why, one entry per rule that deleted something */
  reasons: string[];
}

/**
 * One retention round on a partition: deletes what the rules above take and
 * logs one line. Returns what went, or null when nothing did.
 */
export function applyRetention(part: Partition, cfg: RetentionConfig, nowMs: number, info: (message: string) => void = log.info): RetentionOutcome | null {
  if (part.isClosed) return null;
  const out: RetentionOutcome = { segments: 0, bytes: 0, from: -1, to: -1, reasons: [] };
  const step = (reason: string, count: (segs: SegmentSummary[]) => number) => {
    const segs = part.log.segmentSummaries();
    const n = count(segs);
    if (n === 0) return;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += segs[i]!.size;
    // Kafka's deleteSegments: a log keeps one segment, so deleting them all rolls a new one first
    let upTo: number;
    if (n === segs.length) {
      part.log.rollActive();
      upTo = part.logEndOffset;
    } else upTo = segs[n]!.baseOffset;
    const deleted = part.deleteSegmentsBefore(upTo);
    if (deleted === 0) return;
    if (out.from < 0) out.from = segs[0]!.baseOffset;
    out.to = upTo;
    out.segments += deleted;
    out.bytes += bytes;
    out.reasons.push(`${reason} (${deleted})`);
  };
  step(`log start offset ${part.logStartOffset} breach`, (segs) => startOffsetBreach(segs, part.logStartOffset, part.highWatermark, part.logEndOffset));
  if (cfg.deleteRetention) {
    step(`retention size ${cfg.retentionBytes} bytes breach`, (segs) => sizeBreach(segs, cfg.retentionBytes, part.highWatermark, part.logEndOffset));
    step(`retention time ${cfg.retentionMs} ms breach`, (segs) => timeBreach(segs, cfg.retentionMs, nowMs, part.highWatermark, part.logEndOffset));
  }
  if (out.segments === 0) return null;
  info(
    `${part.name}: deleted ${out.segments} segment(s), offsets ${out.from}..${out.to - 1}, ${out.bytes} bytes, for ${out.reasons.join(", ")}; ` +
      `log start offset now ${part.logStartOffset}, ${part.sizeInBytes} bytes left`,
  );
  return out;
}
