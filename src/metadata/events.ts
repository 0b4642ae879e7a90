// Metadata changes as events. The image records what each applied batch
// changed; the metadata store publishes those changes once the batch is in the
// log and in the image, so a subscriber (storage today, coordinators later)
// sees every change exactly once and in log order, and reads a consistent
// image when it does. Replay at start-up publishes nothing: subscribers read
// the loaded image when they start.

import type { TopicInfo } from "./image.ts";

export type MetadataEvent =
  | { readonly type: "topicCreated"; readonly topic: TopicInfo }
  | { readonly type: "partitionsAdded"; readonly topic: TopicInfo; readonly partitions: readonly number[] }
  | { readonly type: "topicDeleted"; readonly topic: TopicInfo }
  /** a ConfigRecord: resourceType 2 topic, 4 broker; value null = deleted */
  | { readonly type: "configChanged"; readonly resourceType: number; readonly resourceName: string; readonly name: string; readonly value: string | null };

export type MetadataListener = (event: MetadataEvent) => void;

export class MetadataEvents {
  private readonly listeners = new Set<MetadataListener>();

  /** Returns the unsubscribe function. */
  subscribe(fn: MetadataListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  publish(events: readonly MetadataEvent[]): void {
    for (const e of events) for (const fn of this.listeners) fn(e);
  }
}
