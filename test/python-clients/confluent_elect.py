"""confluent-kafka's AdminClient against the broker: elect_leaders
(ElectLeaders), preferred and unclean, for named partitions (existing, a
partition the topic lacks, a topic that does not exist) and for all
partitions (None). Prints one JSON object for
test/clients-admin-extra.test.ts to check: per election, the partitions as
"topic:partition" with their error's name (null for none), or the error the
whole call raised."""
import json
import sys

from confluent_kafka import ElectionType, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
missing = topic + "-missing"
admin = AdminClient({"bootstrap.servers": bootstrap})
result = {}

for name, fut in admin.create_topics([NewTopic(topic, 2, 1)], operation_timeout=10, request_timeout=15).items():
    fut.result()
result["created"] = sorted(p for p in admin.list_topics(topic, timeout=10).topics[topic].partitions)


def elect(kind, partitions):
    try:
        # no request_timeout/operation_timeout: confluent-kafka 2.16.1's elect_leaders
        # raises SystemError ("more argument specifiers than keyword list entries") with either
        res = admin.elect_leaders(kind, partitions).result(timeout=30)
    except Exception as e:  # KafkaException carrying a KafkaError
        err = e.args[0]
        return {"raised": err.name() if hasattr(err, "name") else str(e)}
    out = {}
    for tp, exc in res.items():
        if exc is None:
            out[f"{tp.topic}:{tp.partition}"] = None
        else:  # a KafkaError (the broker's code and message)
            out[f"{tp.topic}:{tp.partition}"] = [exc.name(), exc.str()]
    return out


named = [TopicPartition(topic, 0), TopicPartition(topic, 1), TopicPartition(topic, 5), TopicPartition(missing, 0)]
result["preferred"] = elect(ElectionType.PREFERRED, named)
result["unclean"] = elect(ElectionType.UNCLEAN, [TopicPartition(topic, 1)])
result["preferred_all"] = elect(ElectionType.PREFERRED, None)
result["unclean_all"] = elect(ElectionType.UNCLEAN, None)
print(json.dumps(result))
