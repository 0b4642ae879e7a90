// franz-go (kgo, kadm) against the broker, for test/clients-go.test.ts:
// produce keyed records with headers (acks=all, idempotence off; with a
// fourth argument "idempotent" kgo's default idempotent producer:
// InitProducerId, sequenced batches), consume them back with
// kgo.ConsumePartitions (no group) from the start, and list start/end/by-time
// offsets with kadm (ListOffsets + Metadata). With "group" instead (see
// groupMode): a kgo.ConsumerGroup consumer consumes a 3-partition topic and
// commits, and a second one of the group resumes from the commits. Prints one
// JSON object and exits 0.
//
//	go build -o ~/.cache/kafka-bun/go-client/client . && client BOOTSTRAP TOPIC COUNT [idempotent|group]
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
	if len(os.Args) > 4 && os.Args[4] == "group" {
		groupMode(bootstrap, topic, count)
		return
	}
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

// groupMode: COUNT records to each of 3 partitions; a kgo.ConsumerGroup
// consumer (autocommit off) reads them all and commits with
// CommitUncommittedOffsets, then closes (LeaveGroup); COUNT/2 more per
// partition; a second consumer of the group (kgo's default autocommit, which
// commits on the revoke of Close) resumes after the commits. kadm's
// FetchOffsets after each, DescribeGroups while the second is a member and
// after, ListGroups.
const groupPartitions = 3

type groupResult struct {
	First           groupRun            `json:"first"`
	CommittedFirst  map[int32][2]any    `json:"committedFirst"`
	DescribedEmpty  describedGroup      `json:"describedEmpty"`
	Second          groupRun            `json:"second"`
	DescribedActive describedGroup      `json:"describedActive"`
	CommittedSecond map[int32][2]any    `json:"committedSecond"`
	Listed          []map[string]string `json:"listed"`
}

type groupRun struct {
	Records    [][3]any `json:"records"` // partition, offset, value
	Partitions []int32  `json:"partitions"`
}

type describedGroup struct {
	State        string        `json:"state"`
	ProtocolType string        `json:"protocolType"`
	Protocol     string        `json:"protocol"`
	Members      []groupMember `json:"members"`
}

type groupMember struct {
	ClientID   string   `json:"clientId"`
	ClientHost string   `json:"clientHost"`
	Topics     []string `json:"topics"`
	Assigned   []int32  `json:"assigned"`
}

func groupMode(bootstrap, topic string, count int) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	group := topic + "-group"
	var res groupResult

	producer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ClientID("e2e-franz-go"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		fail("producer", err)
	}
	defer producer.Close()
	adm := kadm.NewClient(producer)
	ct, err := adm.CreateTopic(ctx, groupPartitions, 1, nil, topic)
	if err == nil {
		err = ct.Err
	}
	if err != nil {
		fail("CreateTopic", err)
	}
	produce := func(from, n int) {
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			for p := int32(0); p < groupPartitions; p++ {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Key: []byte(fmt.Sprintf("k%d-%d", p, i)), Value: []byte(fmt.Sprintf("v%d-%d", p, i))})
			}
		}
		if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			fail("produce", err)
		}
	}
	fetchOffsets := func(what string) map[int32][2]any {
		os, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = os.Error()
		}
		if err != nil {
			fail(what, err)
		}
		out := map[int32][2]any{}
		for p, o := range os[topic] {
			out[p] = [2]any{o.At, o.Metadata}
		}
		return out
	}
	describe := func(what string) describedGroup {
		ds, err := adm.DescribeGroups(ctx, group)
		if err == nil {
			err = ds.Error()
		}
		if err != nil {
			fail(what, err)
		}
		d := ds[group]
		out := describedGroup{State: d.State, ProtocolType: d.ProtocolType, Protocol: d.Protocol, Members: []groupMember{}}
		for _, m := range d.Members {
			gm := groupMember{ClientID: m.ClientID, ClientHost: m.ClientHost, Topics: []string{}, Assigned: []int32{}}
			if j, ok := m.Join.AsConsumer(); ok {
				gm.Topics = append(gm.Topics, j.Topics...)
			}
			if a, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range a.Topics {
					gm.Assigned = append(gm.Assigned, t.Partitions...)
				}
			}
			sort.Slice(gm.Assigned, func(i, j int) bool { return gm.Assigned[i] < gm.Assigned[j] })
			out.Members = append(out.Members, gm)
		}
		return out
	}
	// polls until want records came, then once more (briefly) for anything extra:
	// a record read twice, or one from before the committed offsets
	consume := func(cl *kgo.Client, want int) groupRun {
		run := groupRun{Records: [][3]any{}, Partitions: []int32{}}
		seen := map[int32]bool{}
		add := func(fs kgo.Fetches) {
			if errs := fs.Errors(); len(errs) > 0 && ctx.Err() == nil {
				fail("group fetch", errs[0].Err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				run.Records = append(run.Records, [3]any{r.Partition, r.Offset, string(r.Value)})
				seen[r.Partition] = true
			})
		}
		for len(run.Records) < want {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				fail(fmt.Sprintf("group consume (%d of %d records)", len(run.Records), want), ctx.Err())
			}
			add(fs)
		}
		extra, stop := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(extra)
		stop()
		if !fs.IsClientClosed() {
			fs.EachError(func(_ string, _ int32, err error) {
				if err != context.DeadlineExceeded {
					fail("group fetch", err)
				}
			})
			fs.EachRecord(func(r *kgo.Record) { run.Records = append(run.Records, [3]any{r.Partition, r.Offset, string(r.Value)}) })
		}
		sort.Slice(run.Records, func(i, j int) bool {
			a, b := run.Records[i], run.Records[j]
			return a[0].(int32) < b[0].(int32) || a[0] == b[0] && a[1].(int64) < b[1].(int64)
		})
		for p := range seen {
			run.Partitions = append(run.Partitions, p)
		}
		sort.Slice(run.Partitions, func(i, j int) bool { return run.Partitions[i] < run.Partitions[j] })
		return run
	}
	member := func(clientID string, opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{
			kgo.SeedBrokers(bootstrap),
			kgo.ClientID(clientID),
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		}, opts...)...)
		if err != nil {
			fail(clientID, err)
		}
		return cl
	}

	produce(0, count)
	first := member("e2e-franz-go-group-1", kgo.DisableAutoCommit())
	res.First = consume(first, groupPartitions*count)
	if err := first.CommitUncommittedOffsets(ctx); err != nil {
		fail("CommitUncommittedOffsets", err)
	}
	first.Close()
	res.CommittedFirst = fetchOffsets("FetchOffsets after the first member")
	res.DescribedEmpty = describe("DescribeGroups after the first member")

	second := count / 2
	produce(count, second)
	next := member("e2e-franz-go-group-2")
	res.Second = consume(next, groupPartitions*second)
	res.DescribedActive = describe("DescribeGroups with the second member")
	next.Close()
	res.CommittedSecond = fetchOffsets("FetchOffsets after the second member")

	listed, err := adm.ListGroups(ctx)
	if err != nil {
		fail("ListGroups", err)
	}
	for _, l := range listed.Sorted() {
		res.Listed = append(res.Listed, map[string]string{"group": l.Group, "state": l.State, "protocolType": l.ProtocolType, "groupType": l.GroupType})
	}

	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
