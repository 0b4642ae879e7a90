// The Java client (kafka-clients) against the broker, for test/clients-jvm.test.ts.
// Runs as a single-file source program on the classpath install.sh resolves:
//   java -cp "$(cat ~/.cache/kafka-bun/java-client/classpath.txt)" Client.java MODE BOOTSTRAP TOPIC
// Each mode prints one JSON object on stdout and exits 0; the test compares it.
//   produce-consume  producer (enable.idempotence=false, acks=all) sends keyed
//                    records with headers; a consumer with assign() and
//                    seekToBeginning (no group.id) reads them back; end, beginning
//                    and by-time offsets
//   idempotent       the default (idempotent) producer sends to two partitions in
//                    several batches; a consumer reads back exactly what was sent
//   admin            describeCluster, listTopics, describeTopics: each one's
//                    result or the error it ends with
//   group            a consumer with group.id subscribes to a 3-partition topic,
//                    consumes what was produced, commitSync, closes; a second one
//                    in the group resumes after the commits; the admin client's
//                    listConsumerGroups, listGroups (with filters), describeConsumerGroups,
//                    listConsumerGroupOffsets, deleteConsumerGroupOffsets and
//                    deleteConsumerGroups at each step
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class Client {
  static final int COUNT = 10;

  public static void main(String[] args) throws Exception {
    String mode = args[0], bootstrap = args[1], topic = args[2];
    String out = switch (mode) {
      case "produce-consume" -> produceConsume(bootstrap, topic);
      case "idempotent" -> idempotent(bootstrap, topic);
      case "admin" -> admin(bootstrap, topic);
      case "group" -> group(bootstrap, topic);
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    };
    System.out.println(out);
    System.out.flush();
    // a client thread that outlives close() must not keep the JVM (and the test) waiting
    System.exit(0);
  }

  static Properties producerProps(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "e2e-java");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    return p;
  }

  static String produceConsume(String bootstrap, String topic) throws Exception {
    Properties pp = producerProps(bootstrap);
    // the non-idempotent path (no producer id); mode "idempotent" covers the default producer
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    List<String> sent = new ArrayList<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
      List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
      for (int i = 0; i < COUNT; i++) {
        ProducerRecord<String, String> r = new ProducerRecord<>(topic, 0, "k" + i, "v" + i + "-" + "j".repeat(i * 7));
        r.headers().add("trace-id", ("t" + i).getBytes(StandardCharsets.UTF_8));
        r.headers().add("source", "java".getBytes(StandardCharsets.UTF_8));
        futures.add(producer.send(r));
      }
      // a record with a null key and no headers, on partition 1
      futures.add(producer.send(new ProducerRecord<>(topic, 1, null, "keyless")));
      for (var f : futures) {
        RecordMetadata m = f.get(15, TimeUnit.SECONDS);
        sent.add("[" + m.partition() + "," + m.offset() + "]");
      }
    }

    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "e2e-java-consumer");
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cp.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    cp.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    StringBuilder offsets = new StringBuilder();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
      TopicPartition p0 = new TopicPartition(topic, 0), p1 = new TopicPartition(topic, 1);
      List<TopicPartition> both = List.of(p0, p1);
      consumer.assign(both);
      consumer.seekToBeginning(both);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (records.size() < COUNT + 1 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) records.add(r);
      }
      records.sort(java.util.Comparator.<ConsumerRecord<String, String>>comparingInt(ConsumerRecord::partition).thenComparingLong(ConsumerRecord::offset));
      Map<TopicPartition, Long> end = consumer.endOffsets(both);
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(both);
      Map<TopicPartition, OffsetAndTimestamp> byTime = consumer.offsetsForTimes(Map.of(p0, 0L, p1, Long.MAX_VALUE));
      offsets.append("\"end\":[").append(end.get(p0)).append(',').append(end.get(p1)).append("],")
          .append("\"beginning\":[").append(begin.get(p0)).append(',').append(begin.get(p1)).append("],")
          .append("\"byTime0\":").append(byTime.get(p0) == null ? "null" : byTime.get(p0).offset()).append(',')
          .append("\"byTimeMax1\":").append(byTime.get(p1) == null ? "null" : String.valueOf(byTime.get(p1).offset())).append(',')
          .append("\"position\":[").append(consumer.position(p0)).append(',').append(consumer.position(p1)).append("]");
    }
    return "{\"sent\":[" + String.join(",", sent) + "],\"records\":[" + String.join(",", records.stream().map(Client::recordJson).toList()) + "]," + offsets + "}";
  }

  static String recordJson(ConsumerRecord<String, String> r) {
    List<String> headers = new ArrayList<>();
    for (Header h : r.headers()) headers.add("[" + str(h.key()) + "," + str(new String(h.value(), StandardCharsets.UTF_8)) + "]");
    return "[" + r.partition() + "," + r.offset() + "," + str(r.key()) + "," + str(r.value()) + ",[" + String.join(",", headers) + "]," + (r.timestamp() > 0) + "]";
  }

  static String idempotent(String bootstrap, String topic) throws Exception {
    Properties pp = producerProps(bootstrap);
    // nothing about idempotence set: the 4.x default is enable.idempotence=true (InitProducerId, then sequenced batches)
    List<String> sent = new ArrayList<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
      List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
      for (int i = 0; i < 2 * COUNT; i++) {
        futures.add(producer.send(new ProducerRecord<>(topic, i % 2, "k" + i, "v" + i)));
        // a few batches per partition, not one
        if (i % 6 == 5) producer.flush();
      }
      for (var f : futures) {
        RecordMetadata m = f.get(15, TimeUnit.SECONDS);
        sent.add("[" + m.partition() + "," + m.offset() + "]");
      }
    }
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "e2e-java-consumer");
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    cp.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
      List<TopicPartition> both = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
      consumer.assign(both);
      consumer.seekToBeginning(both);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (records.size() < 2 * COUNT && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) records.add(r);
      }
      // anything past what was sent would be a duplicate
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) records.add(r);
    }
    records.sort(java.util.Comparator.<ConsumerRecord<String, String>>comparingInt(ConsumerRecord::partition).thenComparingLong(ConsumerRecord::offset));
    List<String> rs = new ArrayList<>();
    for (var r : records) rs.add("[" + r.partition() + "," + r.offset() + "," + str(r.key()) + "," + str(r.value()) + "]");
    return "{\"sent\":[" + String.join(",", sent) + "],\"records\":[" + String.join(",", rs) + "]}";
  }

  static String admin(String bootstrap, String topic) {
    List<String> parts = new ArrayList<>();
    try (Admin admin = Admin.create(adminProps(bootstrap))) {
      parts.add("\"describeCluster\":" + attempt(() -> {
        DescribeClusterResult r = admin.describeCluster();
        var nodes = r.nodes().get(10, TimeUnit.SECONDS);
        var controller = r.controller().get(10, TimeUnit.SECONDS);
        String clusterId = r.clusterId().get(10, TimeUnit.SECONDS);
        List<String> ns = new ArrayList<>();
        for (var n : nodes) ns.add("[" + n.id() + "," + str(n.host()) + "," + n.port() + "]");
        return "{\"clusterId\":" + str(clusterId) + ",\"controller\":" + controller.id() + ",\"nodes\":[" + String.join(",", ns) + "]}";
      }));
      parts.add("\"listTopics\":" + attempt(() -> {
        Collection<String> names = new java.util.TreeSet<>(admin.listTopics().names().get(10, TimeUnit.SECONDS));
        List<String> q = new ArrayList<>();
        for (String n : names) q.add(str(n));
        return "[" + String.join(",", q) + "]";
      }));
      parts.add("\"describeTopics\":" + attempt(() -> {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
        List<String> ps = new ArrayList<>();
        for (var p : d.partitions()) ps.add("[" + p.partition() + "," + p.leader().id() + "," + p.replicas().size() + "," + p.isr().size() + "]");
        return "{\"name\":" + str(d.name()) + ",\"internal\":" + d.isInternal() + ",\"topicId\":" + (d.topicId() != null && !d.topicId().toString().isEmpty()) + ",\"partitions\":[" + String.join(",", ps) + "]}";
      }));
      // the writes: create a topic with a config, read the config back, grow it, delete it
      String created = topic + "-admin";
      parts.add("\"createTopics\":" + attempt(() -> {
        NewTopic nt = new NewTopic(created, 4, (short) 1).configs(Map.of("retention.ms", "3600000"));
        admin.createTopics(List.of(nt)).all().get(10, TimeUnit.SECONDS);
        return str(created);
      }));
      parts.add("\"describeConfigs\":" + attempt(() -> {
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, created);
        var entry = admin.describeConfigs(List.of(res)).all().get(10, TimeUnit.SECONDS).get(res).get("retention.ms");
        return "{\"value\":" + str(entry.value()) + ",\"source\":" + str(entry.source().name()) + "}";
      }));
      parts.add("\"incrementalAlterConfigs\":" + attempt(() -> {
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, created);
        var ops = List.of(new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND),
            new AlterConfigOp(new ConfigEntry("retention.ms", null), AlterConfigOp.OpType.DELETE));
        admin.incrementalAlterConfigs(Map.of(res, ops)).all().get(10, TimeUnit.SECONDS);
        var cfg = admin.describeConfigs(List.of(res)).all().get(10, TimeUnit.SECONDS).get(res);
        return "{\"cleanup.policy\":" + str(cfg.get("cleanup.policy").value()) + ",\"retention.ms\":" + str(cfg.get("retention.ms").source().name()) + "}";
      }));
      parts.add("\"createPartitions\":" + attempt(() -> {
        admin.createPartitions(Map.of(created, NewPartitions.increaseTo(6))).all().get(10, TimeUnit.SECONDS);
        return String.valueOf(admin.describeTopics(List.of(created)).allTopicNames().get(10, TimeUnit.SECONDS).get(created).partitions().size());
      }));
      parts.add("\"deleteTopics\":" + attempt(() -> {
        admin.deleteTopics(List.of(created)).all().get(10, TimeUnit.SECONDS);
        return String.valueOf(admin.listTopics().names().get(10, TimeUnit.SECONDS).contains(created));
      }));
    }
    return "{" + String.join(",", parts) + "}";
  }

  static final int PARTITIONS = 3;

  static Properties adminProps(String bootstrap) {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    ap.put(AdminClientConfig.CLIENT_ID_CONFIG, "e2e-java-admin");
    ap.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    ap.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
    return ap;
  }

  static Properties groupConsumerProps(String bootstrap, String groupId, String clientId) {
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    cp.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    cp.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    cp.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    return cp;
  }

  /** Sends `perPartition` records to each partition from `from` on (keys k<p>-<i>), waits for each. */
  static void produceTo(String bootstrap, String topic, int from, int perPartition) throws Exception {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
      List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
      for (int i = from; i < from + perPartition; i++) {
        for (int p = 0; p < PARTITIONS; p++) futures.add(producer.send(new ProducerRecord<>(topic, p, "k" + p + "-" + i, "v" + p + "-" + i)));
      }
      for (var f : futures) f.get(15, TimeUnit.SECONDS);
    }
  }

  /** Polls until `n` records came (or 20 s), then once more for anything extra; [partition, offset, value] sorted. */
  static List<String> pollRecords(KafkaConsumer<String, String> consumer, int n) {
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (records.size() < n && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) records.add(r);
    }
    // anything beyond n would be a record read twice, or one before the commit
    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(300))) records.add(r);
    records.sort(java.util.Comparator.<ConsumerRecord<String, String>>comparingInt(ConsumerRecord::partition).thenComparingLong(ConsumerRecord::offset));
    List<String> out = new ArrayList<>();
    for (var r : records) out.add("[" + r.partition() + "," + r.offset() + "," + str(r.value()) + "]");
    return out;
  }

  static String partitionsJson(Collection<TopicPartition> tps) {
    return "[" + String.join(",", tps.stream().map(TopicPartition::partition).sorted().map(String::valueOf).toList()) + "]";
  }

  // listConsumerGroups is deprecated for removal in 4.x (Admin.listGroups replaces it), still widely called
  @SuppressWarnings("removal")
  static String listedGroups(Admin admin) throws Exception {
    List<String> gs = new ArrayList<>();
    for (var g : admin.listConsumerGroups().all().get(10, TimeUnit.SECONDS)) {
      gs.add("[" + str(g.groupId()) + "," + str(g.groupState().map(Object::toString).orElse(null)) + "," + str(g.type().map(Object::toString).orElse(null)) + "," + g.isSimpleConsumerGroup() + "]");
    }
    java.util.Collections.sort(gs);
    return "[" + String.join(",", gs) + "]";
  }

  /** Admin.listGroups (ListGroups v5 with its states and types filters): [id, type, protocol, state] sorted. */
  static String filteredGroups(Admin admin, org.apache.kafka.clients.admin.ListGroupsOptions options) throws Exception {
    List<String> gs = new ArrayList<>();
    for (var g : admin.listGroups(options).all().get(10, TimeUnit.SECONDS)) {
      gs.add("[" + str(g.groupId()) + "," + str(g.type().map(Object::toString).orElse(null)) + "," + str(g.protocol()) + "," + str(g.groupState().map(Object::toString).orElse(null)) + "]");
    }
    java.util.Collections.sort(gs);
    return "[" + String.join(",", gs) + "]";
  }

  static String describedGroup(Admin admin, String groupId) throws Exception {
    var d = admin.describeConsumerGroups(List.of(groupId)).all().get(10, TimeUnit.SECONDS).get(groupId);
    List<String> ms = new ArrayList<>();
    for (var m : d.members()) {
      ms.add("{\"clientId\":" + str(m.clientId()) + ",\"host\":" + str(m.host()) + ",\"memberId\":" + !m.consumerId().isEmpty()
          + ",\"instanceId\":" + str(m.groupInstanceId().orElse(null)) + ",\"assignment\":" + partitionsJson(m.assignment().topicPartitions()) + "}");
    }
    return "{\"groupId\":" + str(d.groupId()) + ",\"state\":" + str(d.groupState().toString()) + ",\"type\":" + str(d.type().toString())
        + ",\"simple\":" + d.isSimpleConsumerGroup() + ",\"assignor\":" + str(d.partitionAssignor()) + ",\"coordinator\":" + d.coordinator().id()
        + ",\"members\":[" + String.join(",", ms) + "]}";
  }

  static String groupOffsets(Admin admin, String groupId) throws Exception {
    var offsets = new java.util.TreeMap<Integer, String>();
    for (var e : admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS).entrySet()) {
      var o = e.getValue();
      offsets.put(e.getKey().partition(), o == null ? "null" : "[" + o.offset() + "," + str(o.metadata()) + "]");
    }
    List<String> out = new ArrayList<>();
    offsets.forEach((p, o) -> out.add("\"" + p + "\":" + o));
    return "{" + String.join(",", out) + "}";
  }

  static String group(String bootstrap, String topic) throws Exception {
    String groupId = topic + "-group";
    List<String> parts = new ArrayList<>();
    try (Admin admin = Admin.create(adminProps(bootstrap))) {
      admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get(10, TimeUnit.SECONDS);
      int first = 5, second = 2;
      produceTo(bootstrap, topic, 0, first);

      // the first consumer: subscribe, read everything, commit what it read, leave
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(groupConsumerProps(bootstrap, groupId, "e2e-java-group-1"))) {
        consumer.subscribe(List.of(topic));
        parts.add("\"firstRecords\":[" + String.join(",", pollRecords(consumer, PARTITIONS * first)) + "]");
        parts.add("\"firstAssignment\":" + partitionsJson(consumer.assignment()));
        consumer.commitSync(Duration.ofSeconds(10));
        var committed = consumer.committed(consumer.assignment(), Duration.ofSeconds(10));
        var byP = new java.util.TreeMap<Integer, Long>();
        committed.forEach((tp, o) -> byP.put(tp.partition(), o == null ? -1 : o.offset()));
        parts.add("\"firstCommitted\":" + byP.values());
      }
      parts.add("\"afterFirst\":{\"list\":" + attempt(() -> listedGroups(admin)) + ",\"describe\":" + attempt(() -> describedGroup(admin, groupId))
          + ",\"offsets\":" + attempt(() -> groupOffsets(admin, groupId)) + "}");

      // more records; the second consumer of the group starts after the commits
      produceTo(bootstrap, topic, first, second);
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(groupConsumerProps(bootstrap, groupId, "e2e-java-group-2"))) {
        consumer.subscribe(List.of(topic));
        parts.add("\"secondRecords\":[" + String.join(",", pollRecords(consumer, PARTITIONS * second)) + "]");
        // while it is a member: the group is Stable with it, and cannot be deleted
        parts.add("\"filtered\":{\"consumerStable\":" + attempt(() -> filteredGroups(admin, org.apache.kafka.clients.admin.ListGroupsOptions.forConsumerGroups().inGroupStates(java.util.Set.of(org.apache.kafka.common.GroupState.STABLE))))
            + ",\"consumerEmpty\":" + attempt(() -> filteredGroups(admin, org.apache.kafka.clients.admin.ListGroupsOptions.forConsumerGroups().inGroupStates(java.util.Set.of(org.apache.kafka.common.GroupState.EMPTY))))
            + ",\"typeClassic\":" + attempt(() -> filteredGroups(admin, new org.apache.kafka.clients.admin.ListGroupsOptions().withTypes(java.util.Set.of(org.apache.kafka.common.GroupType.CLASSIC))))
            + ",\"typeConsumer\":" + attempt(() -> filteredGroups(admin, new org.apache.kafka.clients.admin.ListGroupsOptions().withTypes(java.util.Set.of(org.apache.kafka.common.GroupType.CONSUMER))))
            + ",\"typeStreams\":" + attempt(() -> filteredGroups(admin, org.apache.kafka.clients.admin.ListGroupsOptions.forStreamsGroups())) + "}");
        parts.add("\"whileActive\":{\"list\":" + attempt(() -> listedGroups(admin)) + ",\"describe\":" + attempt(() -> describedGroup(admin, groupId))
            + ",\"deleteGroup\":" + attempt(() -> {
              admin.deleteConsumerGroups(List.of(groupId)).all().get(10, TimeUnit.SECONDS);
              return "true";
            }) + ",\"deleteOffsets\":" + attempt(() -> {
              admin.deleteConsumerGroupOffsets(groupId, java.util.Set.of(new TopicPartition(topic, 0))).all().get(10, TimeUnit.SECONDS);
              return "true";
            }) + "}");
        consumer.commitSync(Duration.ofSeconds(10));
      }
      parts.add("\"afterSecond\":{\"describe\":" + attempt(() -> describedGroup(admin, groupId)) + ",\"offsets\":" + attempt(() -> groupOffsets(admin, groupId)) + "}");

      // the group is empty: its offsets of partition 0 can go, then the group
      parts.add("\"deleteOffsets\":" + attempt(() -> {
        admin.deleteConsumerGroupOffsets(groupId, java.util.Set.of(new TopicPartition(topic, 0))).all().get(10, TimeUnit.SECONDS);
        return groupOffsets(admin, groupId);
      }));
      parts.add("\"deleteGroup\":" + attempt(() -> {
        admin.deleteConsumerGroups(List.of(groupId)).all().get(10, TimeUnit.SECONDS);
        return "true";
      }));
      parts.add("\"afterDelete\":{\"list\":" + attempt(() -> listedGroups(admin)) + ",\"describe\":" + attempt(() -> describedGroup(admin, groupId))
          + ",\"offsets\":" + attempt(() -> groupOffsets(admin, groupId)) + ",\"deleteAgain\":" + attempt(() -> {
            admin.deleteConsumerGroups(List.of(groupId)).all().get(10, TimeUnit.SECONDS);
            return "true";
          }) + "}");
    }
    return "{" + String.join(",", parts) + "}";
  }

  interface Step {
    String run() throws Exception;
  }

  /** {"ok":...} with the step's JSON, or {"error":class,"message":...} with the cause it ended on. */
  static String attempt(Step s) {
    try {
      return "{\"ok\":" + s.run() + "}";
    } catch (Exception e) {
      Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      return "{\"error\":" + str(c.getClass().getName()) + ",\"message\":" + str(String.valueOf(c.getMessage())) + "}";
    }
  }

  static String str(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
          else b.append(ch);
        }
      }
    }
    return b.append('"').toString();
  }
}
