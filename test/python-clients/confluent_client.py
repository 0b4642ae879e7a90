"""confluent-kafka (the PyPI wheel, with its own librdkafka) against the broker:
produce keyed messages with headers (acks=all), consume them back by
assignment from OFFSET_BEGINNING (a group.id is configured, as the Consumer
requires, but nothing subscribes, so no group is joined), read the watermarks
and the offset for a timestamp. With a fourth argument "idempotent" the
producer has enable.idempotence=true (InitProducerId, sequenced batches).
Prints one JSON object for test/clients-python.test.ts to check."""
import json
import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
idempotent = len(sys.argv) > 4 and sys.argv[4] == "idempotent"
result = {"delivered": [], "errors": []}


def delivered(err, msg):
    if err is not None:
        result["errors"].append(str(err))
    else:
        result["delivered"].append([msg.partition(), msg.offset()])


producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "message.timeout.ms": 10000, "enable.idempotence": idempotent})
for i in range(count):
    producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i, headers=[("trace-id", b"t%d" % i), ("n", str(i).encode())], partition=0, on_delivery=delivered)
left = producer.flush(15)
result["unflushed"] = left

consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": "e2e-confluent-unused",
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,
})
consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
messages = []
eof = False
for _ in range(100):  # each poll waits at most 0.5 s: bounded
    m = consumer.poll(0.5)
    if m is None:
        continue
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            eof = True
            if len(messages) >= count:
                break
            continue
        result["errors"].append(str(m.error()))
        break
    messages.append([m.partition(), m.offset(), m.key().decode(), m.value().decode(), [[k, v.decode()] for k, v in (m.headers() or [])]])
result["messages"] = messages
result["eof"] = eof
result["watermarks"] = list(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10))
result["by_time"] = consumer.offsets_for_times([TopicPartition(topic, 0, 0)], timeout=10)[0].offset
consumer.close()
print(json.dumps(result))
