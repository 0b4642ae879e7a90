"""confluent-kafka (librdkafka) idempotent producer against the broker, then a
check of what the topic holds. Arguments: bootstrap, topic, message count,
partition count, messages per second (0: as fast as it goes).

Message i (value b"<i>") goes to partition i % partitions. Every delivery
report is counted; after each 10,000 successful ones the script prints
"acked <n>" (flushed), so test/idempotence-clients.test.ts can restart the
broker in the middle. Then it flushes, consumes every partition from the
beginning by assignment (no group) and prints one JSON object: how many were
acknowledged and failed, how many records the topic holds, and every breach of
exactly-once-in-order: values read twice, acknowledged values missing, a
delivery report whose offset holds another value, partitions not in
production order."""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

bootstrap, topic, count, partitions, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])

acked = {}  # value -> (partition, offset)
errors = []
failed = 0


def delivered(err, msg):
    global failed
    if err is not None:
        failed += 1
        if len(errors) < 20:
            errors.append(str(err))
        return
    acked[int(msg.value())] = (msg.partition(), msg.offset())
    if len(acked) % 10000 == 0:
        print("acked %d" % len(acked), flush=True)


producer = Producer({
    "bootstrap.servers": bootstrap,
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    "message.timeout.ms": 60000,
    "reconnect.backoff.ms": 20,
    "reconnect.backoff.max.ms": 250,
    "retry.backoff.ms": 20,
    "retry.backoff.max.ms": 250,
    "socket.connection.setup.timeout.ms": 5000,
})
start = time.monotonic()
for i in range(count):
    if rate > 0 and i % 500 == 0:
        ahead = start + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    while True:
        try:
            producer.produce(topic, value=b"%d" % i, partition=i % partitions, on_delivery=delivered)
            break
        except BufferError:  # local queue full: let deliveries drain
            producer.poll(0.05)
    producer.poll(0)
left = producer.flush(90)
result = {"produced": count, "acked": len(acked), "failed": failed, "errors": errors, "unflushed": left}

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "idem-check-unused",
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,
    "fetch.wait.max.ms": 100,
})
consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
seen = {}  # value -> [(partition, offset), ...]
by_partition = {p: [] for p in range(partitions)}
eof = set()
deadline = time.monotonic() + 60
read_errors = []
while time.monotonic() < deadline:
    batch = consumer.consume(num_messages=10000, timeout=0.5)
    for m in batch:
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
            else:
                read_errors.append(str(m.error()))
            continue
        eof.discard(m.partition())
        v = int(m.value())
        seen.setdefault(v, []).append((m.partition(), m.offset()))
        by_partition[m.partition()].append(v)
    if len(eof) == partitions and sum(len(x) for x in by_partition.values()) >= len(acked):
        break
consumer.close()

records = sum(len(x) for x in by_partition.values())
duplicates = [v for v, at in seen.items() if len(at) > 1]
missing = [v for v in acked if v not in seen]
wrong_offset = [v for v, at in acked.items() if v in seen and seen[v][0] != at]
wrong_partition = [v for v, at in seen.items() if at[0][0] != v % partitions]
out_of_order = [p for p, vs in by_partition.items() if any(a >= b for a, b in zip(vs, vs[1:]))]
result.update({
    "records": records,
    "per_partition": [len(by_partition[p]) for p in range(partitions)],
    "duplicates": len(duplicates),
    "duplicate_sample": sorted(duplicates)[:10],
    "acked_missing": len(missing),
    "missing_sample": sorted(missing)[:10],
    "wrong_offset": len(wrong_offset),
    "wrong_partition": len(wrong_partition),
    "out_of_order_partitions": out_of_order,
    "unacked_present": len([v for v in seen if v not in acked]),
    "read_errors": read_errors[:10],
    "all_eof": len(eof) == partitions,
})
print(json.dumps(result))
