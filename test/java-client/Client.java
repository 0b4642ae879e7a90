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
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    ap.put(AdminClientConfig.CLIENT_ID_CONFIG, "e2e-java-admin");
    ap.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    ap.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
    List<String> parts = new ArrayList<>();
    try (Admin admin = Admin.create(ap)) {
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
