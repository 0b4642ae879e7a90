// franz-go (kgo, kadm) against the broker, for test/clients-go.test.ts:
// produce keyed records with headers (acks=all, idempotence off; with a
// fourth argument "idempotent" kgo's default idempotent producer:
// InitProducerId, sequenced batches), consume them back with
// kgo.ConsumePartitions (no group) from the start, and list start/end/by-time
// offsets with kadm (ListOffsets + Metadata). Prints one JSON object and exits 0.
//
//	go build -o ~/.cache/kafka-bun/go-client/client . && client BOOTSTRAP TOPIC COUNT [idempotent]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type result struct {
	Produced  [][2]int64 `json:"produced"`
	Records   []record   `json:"records"`
	Start     []int64    `json:"start"`
	End       []int64    `json:"end"`
	ByTime    []int64    `json:"byTime"`
	Brokers   []string   `json:"brokers"`
	Partition []int32    `json:"partitions"`
	// kadm's topic admin: CreateTopic with a config, then DeleteTopics
	Created   [2]int32 `json:"created"` // partitions, replication factor
	Retention string   `json:"retention"`
	Deleted   bool     `json:"deleted"`
}

type record struct {
	Partition int32       `json:"partition"`
	Offset    int64       `json:"offset"`
	Key       *string     `json:"key"`
	Value     string      `json:"value"`
	Headers   [][2]string `json:"headers"`
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "go-client: %s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	bootstrap, topic := os.Args[1], os.Args[2]
	count, _ := strconv.Atoi(os.Args[3])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res result

	opts := []kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.ClientID("e2e-franz-go"),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.AllowAutoTopicCreation(),
	}
	if len(os.Args) <= 4 || os.Args[4] != "idempotent" {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	producer, err := kgo.NewClient(opts...)
	if err != nil {
		fail("producer", err)
	}
	var recs []*kgo.Record
	for i := 0; i < count; i++ {
		recs = append(recs, &kgo.Record{
			Topic: topic, Partition: 0,
			Key:     []byte(fmt.Sprintf("k%d", i)),
			Value:   []byte(fmt.Sprintf("v%d", i)),
			Headers: []kgo.RecordHeader{{Key: "trace-id", Value: []byte(fmt.Sprintf("t%d", i))}, {Key: "source", Value: []byte("franz-go")}},
		})
	}
	// and one without a key on partition 2
	recs = append(recs, &kgo.Record{Topic: topic, Partition: 2, Value: []byte("keyless")})
	produced := producer.ProduceSync(ctx, recs...)
	if err := produced.FirstErr(); err != nil {
		fail("produce", err)
	}
	for _, r := range produced {
		res.Produced = append(res.Produced, [2]int64{int64(r.Record.Partition), r.Record.Offset})
	}
	producer.Close()

	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(bootstrap),
		kgo.ClientID("e2e-franz-go-consumer"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart(), 2: kgo.NewOffset().AtStart()}}),
	)
	if err != nil {
		fail("consumer", err)
	}
	defer consumer.Close()
	for len(res.Records) < count+1 {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			fail(fmt.Sprintf("consume (%d of %d records)", len(res.Records), count+1), ctx.Err())
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			fail("fetch", errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			rec := record{Partition: r.Partition, Offset: r.Offset, Value: string(r.Value), Headers: [][2]string{}}
			if r.Key != nil {
				k := string(r.Key)
				rec.Key = &k
			}
			for _, h := range r.Headers {
				rec.Headers = append(rec.Headers, [2]string{h.Key, string(h.Value)})
			}
			res.Records = append(res.Records, rec)
		})
	}
	sort.Slice(res.Records, func(i, j int) bool {
		a, b := res.Records[i], res.Records[j]
		return a.Partition < b.Partition || a.Partition == b.Partition && a.Offset < b.Offset
	})

	adm := kadm.NewClient(consumer)
	perPartition := func(what string, l kadm.ListedOffsets, err error) []int64 {
		if err == nil {
			err = l.Error()
		}
		if err != nil {
			fail(what, err)
		}
		out := []int64{}
		for p := int32(0); p < 3; p++ {
			o, _ := l.Lookup(topic, p)
			out = append(out, o.Offset)
		}
		return out
	}
	start, err := adm.ListStartOffsets(ctx, topic)
	res.Start = perPartition("ListStartOffsets", start, err)
	end, err := adm.ListEndOffsets(ctx, topic)
	res.End = perPartition("ListEndOffsets", end, err)
	byTime, err := adm.ListOffsetsAfterMilli(ctx, 0, topic)
	res.ByTime = perPartition("ListOffsetsAfterMilli", byTime, err)
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		fail("Metadata", err)
	}
	for _, b := range md.Brokers {
		res.Brokers = append(res.Brokers, fmt.Sprintf("%d %s:%d", b.NodeID, b.Host, b.Port))
	}
	for _, p := range md.Topics[topic].Partitions.Sorted() {
		res.Partition = append(res.Partition, p.Partition)
	}

	created := topic + "-adm"
	retention := "3600000"
	ct, err := adm.CreateTopic(ctx, 4, 1, map[string]*string{"retention.ms": &retention}, created)
	if err == nil {
		err = ct.Err
	}
	if err != nil {
		fail("CreateTopic", err)
	}
	res.Created = [2]int32{ct.NumPartitions, int32(ct.ReplicationFactor)}
	if c, ok := ct.Configs["retention.ms"]; ok && c.Value != nil {
		res.Retention = *c.Value
	}
	dt, err := adm.DeleteTopics(ctx, created)
	if err == nil {
		err = dt.Error()
	}
	if err != nil {
		fail("DeleteTopics", err)
	}
	after, err := adm.ListTopics(ctx)
	if err != nil {
		fail("ListTopics", err)
	}
	res.Deleted = !after.Has(created)

	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
