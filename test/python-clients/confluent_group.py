"""confluent-kafka Consumer.subscribe() in a group against the broker:
optionally produces `produce` messages first (one per partition in turn,
value "n<i>"), then subscribes (FindCoordinator, JoinGroup, SyncGroup,
Heartbeat), consumes `count` messages from the committed offsets (earliest
where none), commits them synchronously (OffsetCommit), reads the commits
back with committed() (OffsetFetch) and closes (LeaveGroup). Prints one JSON
object for test/clients-python.test.ts to check.

Arguments: bootstrap group topic count [produce]."""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

bootstrap, group, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
produce = int(sys.argv[5]) if len(sys.argv) > 5 else 0
result = {"errors": []}

if produce > 0:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "message.timeout.ms": 10000})
    parts = sorted(producer.list_topics(topic, timeout=10).topics[topic].partitions)
    for i in range(produce):
        producer.produce(topic, value=b"n%d" % i, partition=parts[i % len(parts)])
    result["unflushed"] = producer.flush(15)

assigned = []
consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
})
consumer.subscribe([topic], on_assign=lambda _c, ps: assigned.append(sorted(p.partition for p in ps)))
messages = []
deadline = time.monotonic() + 30
while len(messages) < count and time.monotonic() < deadline:
    m = consumer.poll(0.2)
    if m is None:
        continue
    if m.error():
        if m.error().code() != KafkaError._PARTITION_EOF:
            result["errors"].append(str(m.error()))
        continue
    messages.append([m.partition(), m.offset(), m.value().decode()])
commit = consumer.commit(asynchronous=False)
result["commit"] = sorted([tp.partition, tp.offset] for tp in commit)
result["committed"] = sorted([tp.partition, tp.offset] for tp in consumer.committed([TopicPartition(topic, p) for p in (assigned[-1] if assigned else [])], timeout=10))
consumer.close()
messages.sort()
result["assigned"] = assigned
result["messages"] = messages
print(json.dumps(result))
