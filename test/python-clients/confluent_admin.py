"""confluent-kafka's AdminClient against the broker: describe_cluster
(DescribeCluster), then delete_topics (DeleteTopics) of a topic a producer
auto-created and of one that does not exist, and list_topics after it.
Prints one JSON object for test/clients-python.test.ts to check."""
import json
import sys

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

bootstrap, topic = sys.argv[1], sys.argv[2]
missing = topic + "-missing"
result = {"errors": []}

producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 10000})
producer.produce(topic, value=b"x", partition=0)
result["unflushed"] = producer.flush(15)

admin = AdminClient({"bootstrap.servers": bootstrap})
cluster = admin.describe_cluster(request_timeout=10).result()
result["cluster"] = {
    "cluster_id": cluster.cluster_id,
    "controller": cluster.controller.id if cluster.controller else None,
    "nodes": [[n.id, n.host, n.port] for n in cluster.nodes],
}
result["before"] = topic in admin.list_topics(timeout=10).topics

deleted = {}
for name, fut in admin.delete_topics([topic, missing], operation_timeout=10, request_timeout=15).items():
    try:
        fut.result()
        deleted[name] = None
    except KafkaException as e:
        deleted[name] = e.args[0].name()
result["deleted"] = deleted
result["after"] = topic in admin.list_topics(timeout=10).topics
print(json.dumps(result))
