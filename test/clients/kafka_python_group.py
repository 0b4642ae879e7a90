"""kafka-python (Debian's python3-kafka) as a group member: subscribes to a
topic with a group_id (FindCoordinator, JoinGroup, SyncGroup, Heartbeat),
consumes `count` messages from the earliest offset, commits them
synchronously (OffsetCommit), reads the commits back (OffsetFetch) and closes
(LeaveGroup). Prints one JSON object for test/groups.test.ts to check.

Arguments: bootstrap group topic count."""
import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition

bootstrap, group, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
consumer = KafkaConsumer(
    topic,
    bootstrap_servers=bootstrap,
    group_id=group,
    client_id="kafka-python-group",
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    session_timeout_ms=6000,
    heartbeat_interval_ms=500,
    request_timeout_ms=10000,
)
messages = []
deadline = time.monotonic() + 30
while len(messages) < count and time.monotonic() < deadline:
    for tp, ms in consumer.poll(timeout_ms=200).items():
        for m in ms:
            messages.append([m.partition, m.offset, m.value.decode()])
assignment = sorted(tp.partition for tp in consumer.assignment())
consumer.commit()
committed = {str(p): consumer.committed(TopicPartition(topic, p)) for p in assignment}
consumer.close()
messages.sort()
print(json.dumps({"assignment": assignment, "messages": messages, "committed": committed}))
