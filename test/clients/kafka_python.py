"""kafka-python (Debian's python3-kafka) against the broker: produce keyed
messages with headers, read the offsets back, consume them from the beginning
by assignment. Prints one JSON object for test/clients.test.ts to check."""
import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic = sys.argv[1], sys.argv[2]
producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0, request_timeout_ms=10000)
for i in range(10):
    producer.send(topic, key=b"k%d" % i, value=b"v%d" % i, headers=[("h", b"x%d" % i)], partition=0)
producer.flush(10)
producer.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, consumer_timeout_ms=10000)
tp = TopicPartition(topic, 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
result = {
    "end": consumer.end_offsets([tp])[tp],
    "beginning": consumer.beginning_offsets([tp])[tp],
    "by_time": consumer.offsets_for_times({tp: 0})[tp].offset,
    "messages": [],
}
for m in consumer:
    result["messages"].append([m.offset, m.key.decode(), m.value.decode(), [[k, v.decode()] for k, v in m.headers]])
    if len(result["messages"]) == 10:
        break
consumer.close()
print(json.dumps(result))
