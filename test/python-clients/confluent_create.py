# confluent-kafka AdminClient against the broker: create_topics (with a
# config, validate_only, an existing name, replication factor 2), then
# create_partitions (grow, validate_only, shrink), reading the partition counts
# back with list_topics. Prints one JSON line.
#   python confluent_create.py BOOTSTRAP PREFIX
import json
import sys

from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": bootstrap})


def outcome(futures):
    out = {}
    for name, f in futures.items():
        try:
            f.result(timeout=15)
            out[name] = "ok"
        except Exception as e:  # KafkaException carrying a KafkaError
            err = e.args[0]
            out[name] = err.name() if hasattr(err, "name") else str(e)
    return out


def partitions(name):
    # every topic: asking for one by name would auto-create it
    md = admin.list_topics(timeout=10)
    t = md.topics.get(name)
    return None if t is None or t.error is not None else len(t.partitions)


a, b = f"{prefix}-a", f"{prefix}-b"
result = {}
result["validate"] = outcome(admin.create_topics([NewTopic(a, 3, 1)], validate_only=True))
result["validate_partitions"] = partitions(a)
result["create"] = outcome(admin.create_topics([NewTopic(a, 3, 1, config={"retention.ms": "3600000"}), NewTopic(b)]))
result["again"] = outcome(admin.create_topics([NewTopic(a, 3, 1)]))
result["rf2"] = outcome(admin.create_topics([NewTopic(f"{prefix}-rf2", 1, 2)]))
result["bad_config"] = outcome(admin.create_topics([NewTopic(f"{prefix}-cfg", 1, 1, config={"no.such.key": "1"})]))
result["partitions"] = [partitions(a), partitions(b)]
result["grow_validate"] = outcome(admin.create_partitions([NewPartitions(a, 6)], validate_only=True))
result["grow"] = outcome(admin.create_partitions([NewPartitions(a, 5)]))
result["shrink"] = outcome(admin.create_partitions([NewPartitions(a, 2)]))
result["unknown"] = outcome(admin.create_partitions([NewPartitions(f"{prefix}-none", 2)]))
result["after"] = partitions(a)
print(json.dumps(result))
