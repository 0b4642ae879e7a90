"""aiokafka (asyncio, a protocol implementation of its own) against the broker:
produce keyed messages with headers (acks=all, not idempotent), consume them
back with an AIOKafkaConsumer without group_id by assign + seek_to_beginning,
read beginning/end offsets and the offset for a timestamp. Prints one JSON
object for test/clients-python.test.ts to check. With a fourth argument
"idempotent" the producer has enable_idempotence=True (InitProducerId,
sequenced batches)."""
import asyncio
import json
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def main(bootstrap: str, topic: str, count: int, idempotent: bool) -> dict:
    result: dict = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent, request_timeout_ms=10000)
    await producer.start()
    try:
        sent = []
        for i in range(count):
            md = await producer.send_and_wait(topic, key=b"k%d" % i, value=b"v%d" % i, headers=[("trace-id", b"t%d" % i)], partition=0)
            sent.append([md.partition, md.offset])
        # one batch of several records, sent together
        futures = [await producer.send(topic, key=b"b%d" % i, value=b"batched", partition=1) for i in range(3)]
        for f in futures:
            md = await f
            sent.append([md.partition, md.offset])
        result["sent"] = sent
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, request_timeout_ms=10000)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        messages = []
        want = count + 3
        while len(messages) < want:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 15)
            for tp, ms in batches.items():
                for m in ms:
                    messages.append([m.partition, m.offset, m.key.decode(), m.value.decode(), [[k, v.decode()] for k, v in m.headers]])
        messages.sort(key=lambda m: (m[0], m[1]))
        result["messages"] = messages
        end = await consumer.end_offsets(tps)
        begin = await consumer.beginning_offsets(tps)
        by_time = await consumer.offsets_for_times({tps[0]: 0})
        result["end"] = [end[tp] for tp in tps]
        result["beginning"] = [begin[tp] for tp in tps]
        result["by_time"] = by_time[tps[0]].offset if by_time[tps[0]] else None
    finally:
        await consumer.stop()
    return result


print(json.dumps(asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "idempotent"), 40))))
