"""kafka-python (Debian's python3-kafka): what it sees of one topic, for
test/clients.test.ts: its partitions (None when the topic does not exist)
and, through KafkaAdminClient.describe_configs, its retention.ms."""
import json
import sys

from kafka import KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

bootstrap, topic = sys.argv[1], sys.argv[2]
consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, request_timeout_ms=10000)
# a fresh metadata request for the topic (partitions_for_topic answers from the cache)
consumer._client.cluster.request_update()
consumer.topics()
parts = consumer.partitions_for_topic(topic)
consumer.close()
result = {"partitions": sorted(parts) if parts else None, "retention_ms": None}
if parts:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    resp = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": None})])
    for r in resp:
        for res in r.resources:
            for entry in res[4]:
                if entry[0] == "retention.ms":
                    result["retention_ms"] = entry[1]
    admin.close()
print(json.dumps(result))
