# confluent-kafka AdminClient against the broker: incremental_alter_configs
# (APPEND, SET, DELETE, an unknown key), then alter_configs (replaces the
# whole set), reading the topic's configs back with describe_configs after
# each. Prints one JSON line.
#   python confluent_alter.py BOOTSTRAP TOPIC
import json
import sys

from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourceType

bootstrap, topic = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": bootstrap})
KEYS = ["cleanup.policy", "retention.ms", "max.message.bytes"]


def outcome(futures):
    out = []
    for f in futures.values():
        try:
            f.result(timeout=15)
            out.append("ok")
        except Exception as e:  # KafkaException carrying a KafkaError
            err = e.args[0]
            out.append(err.name() if hasattr(err, "name") else str(e))
    return out


def own():
    res = ConfigResource(ResourceType.TOPIC, topic)
    configs = list(admin.describe_configs([res]).values())[0].result(timeout=15)
    # only the topic's own values (source DYNAMIC_TOPIC_CONFIG)
    return {k: configs[k].value for k in KEYS if configs[k].source == 1}


def incremental(*entries):
    return outcome(admin.incremental_alter_configs([ConfigResource(ResourceType.TOPIC, topic, incremental_configs=list(entries))]))


result = {}
result["create"] = outcome(admin.create_topics([NewTopic(topic, 1, 1)]))
result["append_set"] = incremental(
    ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
    ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET),
)
result["after_append_set"] = own()
result["delete"] = incremental(ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE))
result["after_delete"] = own()
result["unknown_key"] = incremental(ConfigEntry("no.such.key", "1", incremental_operation=AlterConfigOpType.SET))
result["replace"] = outcome(admin.alter_configs([ConfigResource(ResourceType.TOPIC, topic, set_config={"max.message.bytes": "2000"})]))
result["after_replace"] = own()
print(json.dumps(result))
