"""aiokafka AIOKafkaConsumer with a group_id against the broker: optionally
produces `produce` messages first (one per partition in turn, value
"n<i>"), then subscribes (FindCoordinator, JoinGroup, SyncGroup, Heartbeat),
consumes `count` messages from the committed offsets (earliest where none),
commits them (OffsetCommit), reads the commits back (OffsetFetch) and stops
(LeaveGroup). Prints one JSON object for test/groups.test.ts and
test/clients-python.test.ts to check.

Arguments: bootstrap group topic count [produce]."""
import asyncio
import json
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def main(bootstrap: str, group: str, topic: str, count: int, produce: int) -> dict:
    if produce > 0:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=10000)
        await producer.start()
        try:
            parts = sorted(await producer.partitions_for(topic))
            for i in range(produce):
                await producer.send_and_wait(topic, value=b"n%d" % i, partition=parts[i % len(parts)])
        finally:
            await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id="aiokafka-group",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        request_timeout_ms=10000,
    )
    await consumer.start()
    try:
        messages = []
        while len(messages) < count:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=200), 15)
            for _tp, ms in batches.items():
                for m in ms:
                    messages.append([m.partition, m.offset, m.value.decode()])
        assignment = sorted(tp.partition for tp in consumer.assignment())
        await consumer.commit()
        committed = {str(p): await consumer.committed(TopicPartition(topic, p)) for p in assignment}
    finally:
        await consumer.stop()
    messages.sort()
    return {"assignment": assignment, "messages": messages, "committed": committed}


args = sys.argv
print(json.dumps(asyncio.run(asyncio.wait_for(main(args[1], args[2], args[3], int(args[4]), int(args[5]) if len(args) > 5 else 0), 45))))
