"""One confluent-kafka group member that runs until it is told to stop, for
test/groups.test.ts to watch: it subscribes to a topic, and prints one JSON
object per line as things happen:
  {"ev": "assign", "partitions": [...], "member": id}   on_assign (incremental under cooperative-sticky)
  {"ev": "revoke", "partitions": [...]}                 on_revoke
  {"ev": "lost", "partitions": [...]}                   on_lost
  {"ev": "msg", "p": partition, "o": offset, "v": value}
  {"ev": "committed", "p": partition, "o": next offset} after each synchronous commit returned
  {"ev": "stats", "rebalance_cnt": n, "state": s, "join_state": s} librdkafka's group statistics, every 200 ms
  {"ev": "closed"}                                      after a clean close (SIGTERM)
  {"ev": "error", "error": text}
Every message is committed synchronously (commit(message, asynchronous=False))
before the next poll, so what it printed as committed is what the broker
acknowledged. SIGTERM closes the consumer cleanly (LeaveGroup, unless it is a
static member); SIGKILL is a crash.

Arguments: bootstrap group topic [json of extra librdkafka settings]."""
import json
import signal
import sys

from confluent_kafka import Consumer, KafkaError

bootstrap, group, topic = sys.argv[1], sys.argv[2], sys.argv[3]
extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
stop = False


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def on_term(_sig, _frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)

def on_stats(raw):
    cgrp = json.loads(raw).get("cgrp") or {}
    emit({"ev": "stats", "rebalance_cnt": cgrp.get("rebalance_cnt"), "state": cgrp.get("state"), "join_state": cgrp.get("join_state")})


conf = {
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 300,
    "topic.metadata.refresh.interval.ms": 1000,
    "statistics.interval.ms": 200,
    "stats_cb": on_stats,
    "error_cb": lambda err: emit({"ev": "error", "error": str(err)}),
}
conf.update(extra)
consumer = Consumer(conf)


def parts(ps):
    return sorted(p.partition for p in ps)


def on_assign(c, ps):
    emit({"ev": "assign", "partitions": parts(ps), "member": c.memberid()})


def on_revoke(_c, ps):
    emit({"ev": "revoke", "partitions": parts(ps)})


def on_lost(_c, ps):
    emit({"ev": "lost", "partitions": parts(ps)})


consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
emit({"ev": "started"})
while not stop:
    m = consumer.poll(0.1)
    if m is None:
        continue
    if m.error():
        if m.error().code() != KafkaError._PARTITION_EOF:
            emit({"ev": "error", "error": str(m.error())})
        continue
    emit({"ev": "msg", "p": m.partition(), "o": m.offset(), "v": m.value().decode()})
    try:
        consumer.commit(message=m, asynchronous=False)
        emit({"ev": "committed", "p": m.partition(), "o": m.offset() + 1})
    except Exception as e:  # a commit refused during a rebalance: the message may come again
        emit({"ev": "commit_failed", "p": m.partition(), "o": m.offset() + 1, "error": str(e)})
consumer.close()
emit({"ev": "closed"})
